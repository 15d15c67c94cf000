"""thx.tensor.extra_ops against independent oracles: NumPy for values, jax.grad / jax.jvp and
finite differences of the NumPy reference for derivatives (tests/oracle.py).

Rows of one table give each differentiable op its value and gradient checks; the ops whose
output length depends on the data (bincount, unique, compress) get their own tests across
calls of varying lengths, and small programs use the ops the way models do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.oracle import (assert_close, finite_diff, jax_grads, numpy_eval, projection, symbolic_like,
                          thx_value_and_grads)
from thx.tensor import extra_ops

R = np.random.RandomState(4321)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _quiet_bucket_warnings():
    # functions called with inputs of several lengths warn that they compile once per length
    # (these ops cannot be padded to a shape bucket); that is expected here
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="thx function compiles once per length")
        yield


def U(lo, hi, shape=(3, 4)):
    return R.uniform(lo, hi, size=shape)


def _set_diag(a, val, offset=None):
    a = np.array(a, copy=True)
    if offset is None:
        k = np.arange(min(a.shape))
        a[(k,) * a.ndim] = val
    else:
        rows, cols = np.indices(a.shape)
        a[cols - rows == offset] = val
    return a


def _jset_diag(a, val, offset=None):
    if offset is None:
        k = jnp.arange(min(a.shape))
        return a.at[(k,) * a.ndim].set(val)
    rows, cols = np.indices(a.shape)
    return jnp.where(jnp.asarray(cols - rows == offset), val, a)


@dataclass
class Row:
    name: str
    build: Callable
    ref: Callable      # NumPy
    jref: Callable     # the same math in jax.numpy
    inputs: list
    grad: tuple = (0,)


BINS_X = np.array([0, 3, 1, 3, 3, 6, 0], dtype="int64")
COND = np.array([True, False, True, True])

ROWS = [
    Row("cumsum_axis0", lambda a: T.cumsum(a, axis=0), lambda a: np.cumsum(a, 0), lambda a: jnp.cumsum(a, 0),
        [U(-2, 2)]),
    Row("cumsum_axis1", lambda a: T.cumsum(a, axis=1), lambda a: np.cumsum(a, 1), lambda a: jnp.cumsum(a, 1),
        [U(-2, 2)]),
    Row("cumsum_axis_neg", lambda a: T.cumsum(a, axis=-2), lambda a: np.cumsum(a, -2),
        lambda a: jnp.cumsum(a, -2), [U(-2, 2, (2, 3, 4))]),
    Row("cumsum_none", T.cumsum, np.cumsum, jnp.cumsum, [U(-2, 2, (2, 3, 2))]),
    Row("cumprod_axis1", lambda a: T.cumprod(a, axis=1), lambda a: np.cumprod(a, 1),
        lambda a: jnp.cumprod(a, 1), [U(0.5, 1.5) * np.sign(U(-1, 1))]),
    Row("cumprod_axis0_3d", lambda a: T.cumprod(a, axis=0), lambda a: np.cumprod(a, 0),
        lambda a: jnp.cumprod(a, 0), [U(0.5, 1.5, (3, 2, 2))]),
    Row("cumprod_none", T.cumprod, np.cumprod, jnp.cumprod, [U(0.5, 1.5)]),
    Row("diff", T.diff, np.diff, jnp.diff, [U(-2, 2)]),
    Row("diff_n2_axis0", lambda a: T.diff(a, n=2, axis=0), lambda a: np.diff(a, 2, 0),
        lambda a: jnp.diff(a, 2, 0), [U(-2, 2, (4, 3))]),
    Row("diff_n3_vector", lambda a: T.diff(a, 3), lambda a: np.diff(a, 3), lambda a: jnp.diff(a, 3),
        [U(-2, 2, (6,))]),
    Row("diff_axis1_3d", lambda a: T.diff(a, axis=1), lambda a: np.diff(a, axis=1),
        lambda a: jnp.diff(a, axis=1), [U(-2, 2, (2, 3, 4))]),
    Row("fill_diagonal_wide", T.fill_diagonal, _set_diag, _jset_diag, [U(-2, 2), U(-2, 2, ())], (0, 1)),
    Row("fill_diagonal_tall", T.fill_diagonal, _set_diag, _jset_diag, [U(-2, 2, (5, 2)), U(-2, 2, ())], (0, 1)),
    Row("fill_diagonal_cube", T.fill_diagonal, _set_diag, _jset_diag, [U(-2, 2, (3, 3, 3)), U(-2, 2, ())],
        (0, 1)),
    Row("fill_diagonal_offset_pos", lambda a, v: T.fill_diagonal_offset(a, v, 1),
        lambda a, v: _set_diag(a, v, 1), lambda a, v: _jset_diag(a, v, 1), [U(-2, 2), U(-2, 2, ())], (0, 1)),
    Row("fill_diagonal_offset_neg", lambda a, v: T.fill_diagonal_offset(a, v, -2),
        lambda a, v: _set_diag(a, v, -2), lambda a, v: _jset_diag(a, v, -2), [U(-2, 2, (5, 3)), U(-2, 2, ())],
        (0, 1)),
    Row("fill_diagonal_offset_outside", lambda a, v: T.fill_diagonal_offset(a, v, 7),
        lambda a, v: _set_diag(a, v, 7), lambda a, v: _jset_diag(a, v, 7), [U(-2, 2), U(-2, 2, ())], (0,)),
    Row("bincount_weights", lambda x, w: T.bincount(x, w),
        lambda x, w: np.bincount(x, w), lambda x, w: jnp.bincount(x, w, length=7),
        [BINS_X, U(-1, 1, (7,))], (1,)),
    Row("bincount_weights_minlength", lambda x, w: T.bincount(x, w, minlength=9),
        lambda x, w: np.bincount(x, w, minlength=9), lambda x, w: jnp.bincount(x, w, length=9),
        [BINS_X, U(-1, 1, (7,))], (1,)),
    Row("compress_axis1", lambda a: extra_ops.compress(COND, a, axis=1), lambda a: np.compress(COND, a, 1),
        lambda a: jnp.compress(COND, a, axis=1), [U(-2, 2)]),
    Row("compress_axis0", lambda a: extra_ops.compress(COND[:3], a, axis=0), lambda a: np.compress(COND[:3], a, 0),
        lambda a: jnp.compress(COND[:3], a, axis=0), [U(-2, 2)]),
    Row("compress_flat", lambda a: extra_ops.compress(np.arange(12) % 5 == 1, a),
        lambda a: np.compress(np.arange(12) % 5 == 1, a), lambda a: jnp.compress(np.arange(12) % 5 == 1, a),
        [U(-2, 2)]),
    Row("squeeze", lambda a: T.squeeze(T.addbroadcast(a, 0, 2)) * 2, lambda a: np.squeeze(a) * 2,
        lambda a: jnp.squeeze(a) * 2, [U(-2, 2, (1, 4, 1))]),
    Row("repeat", lambda a: extra_ops.repeat(a, 3, axis=1), lambda a: np.repeat(a, 3, 1),
        lambda a: jnp.repeat(a, 3, 1), [U(-2, 2)]),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_value_and_gradient(row: Row) -> None:
    value, grads = thx_value_and_grads(row.build, row.inputs, row.grad)
    assert_close(value, row.ref(*row.inputs), what=f"{row.name} value vs NumPy")
    proj = projection(np.shape(value))
    for k, g, j in zip(row.grad, grads, jax_grads(row.jref, row.inputs, proj, row.grad)):
        assert_close(g, j, rtol=1e-6, atol=1e-8, what=f"{row.name} grad[{k}] vs jax.grad")
        fd = finite_diff(row.ref, row.inputs, proj, k)
        assert_close(g, fd, rtol=1e-4, atol=1e-5, what=f"{row.name} grad[{k}] vs finite differences")


@pytest.mark.parametrize("row", [r for r in ROWS if r.name in ("cumsum_none", "cumprod_axis1", "fill_diagonal_wide",
                                                              "bincount_weights", "diff_n2_axis0")],
                         ids=lambda r: r.name)
def test_numpy_perform_agrees(row: Row) -> None:
    # the ops' NumPy perform (constant folding, thx.graph.evaluate) gives the reference too
    xs = symbolic_like(row.inputs)
    (got,) = numpy_eval([row.build(*xs)], dict(zip(xs, row.inputs)))
    assert_close(got, row.ref(*row.inputs), what=row.name)


def test_rop_against_jax_jvp() -> None:
    x, v, w = T.dmatrix("x"), T.dmatrix("v"), T.dscalar("w")
    a, e = U(0.5, 2), U(-1, 1)
    with jax.enable_x64(True):
        for build, jfn in [(lambda t: T.cumsum(t, 0), lambda t: jnp.cumsum(t, 0)),
                           (lambda t: T.cumprod(t, 1), lambda t: jnp.cumprod(t, 1)),
                           (T.cumprod, jnp.cumprod),
                           (lambda t: T.fill_diagonal(t, 3.0), lambda t: _jset_diag(t, 3.0))]:
            got = thx.function([x, v], T.Rop(build(x), x, v), on_unused_input="ignore")(a, e)
            assert_close(got, jax.jvp(jfn, (jnp.asarray(a),), (jnp.asarray(e),))[1], what=str(build))
        got = thx.function([x, w], T.Rop(T.fill_diagonal_offset(x, w, -1), w, T.constant(1.5)),
                           on_unused_input="ignore")(a, 0.2)
        assert_close(got, _set_diag(np.zeros_like(a), 1.5, -1))


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("dtype", ["int8", "int32", "float32", "bool"])
def test_cumsum_cumprod_dtypes(dtype):
    x = T.tensor(dtype, (False, False))
    data = (R.randint(0, 3, (3, 4)) if dtype != "float32" else U(0.5, 1.5)).astype(dtype)
    f = thx.function([x], [T.cumsum(x, axis=1), T.cumprod(x, axis=0), T.cumsum(x)])
    want_dtype = "int64" if dtype == "bool" else dtype  # Theano keeps x's dtype; booleans count in int64
    for got, want in zip(f(data), [np.cumsum(data, 1), np.cumprod(data, 0), np.cumsum(data)]):
        assert got.dtype == want_dtype
        np.testing.assert_allclose(got, want.astype(want_dtype), rtol=1e-6)


def test_cumsum_integer_input_has_a_zero_gradient():
    x = T.lvector("x")
    y = T.dscalar("y")
    g = T.grad(T.sum(T.cumsum(x) * y), [x, y])
    gx, gy = thx.function([x, y], g)([1, 2, 3], 2.0)
    assert np.all(gx == 0) and gy == 10.0


def test_bincount_dtypes_follow_theano():
    x8, w32 = T.bvector("x8"), T.fvector("w32")
    assert T.bincount(x8).dtype == "int8"       # Theano: zeros(dtype=x.dtype)
    assert T.bincount(x8, w32).dtype == "float32"  # Theano: zeros(dtype=weights.dtype)
    assert T.bincount(T.vector("b", dtype="bool")).dtype == "int64"
    f = thx.function([x8, w32], [T.bincount(x8), T.bincount(x8, w32)])
    c, s = f(np.array([1, 1, 4], "int8"), np.array([0.5, 0.25, 2.0], "float32"))
    np.testing.assert_array_equal(c, [0, 2, 0, 0, 1])
    np.testing.assert_allclose(s, [0, 0.75, 0, 0, 2.0])


# ------------------------------------------------------------------ data-dependent lengths


def test_bincount_length_follows_the_data_across_calls():
    x, m = T.lvector("x"), T.lscalar("m")
    f = thx.function([x, m], T.bincount(x, minlength=m))
    for data, minlength in [([0, 1, 1, 3], 0), ([5], 2), ([2, 2], 7), ([], 3), ([], 0), ([0, 9, 9], 4)]:
        got = f(np.array(data, "int64"), minlength)
        assert_close(got, np.bincount(np.array(data, "int64"), minlength=minlength), what=str(data))


def test_bincount_result_feeds_the_next_segment():
    # the length found on the host is a static shape for what follows: arange over it, a
    # normalisation, a shape read back
    x = T.lvector("x")
    counts = T.bincount(x)
    freq = counts / T.sum(counts)
    idx = T.arange(counts.shape[0])
    f = thx.function([x], [freq, T.sum(idx * counts), counts.shape[0]])
    for data in ([0, 1, 1, 3], [4, 4], [0]):
        d = np.array(data)
        fr, weighted, n = f(d)
        b = np.bincount(d)
        assert_close(fr, b / b.sum())
        assert weighted == np.sum(np.arange(len(b)) * b) and n == len(b)


def test_bincount_negative_values():
    x = T.lvector("x")
    with pytest.raises(ValueError, match="negative value -2"):
        thx.function([x], T.bincount(x))(np.array([1, -2]))
    with pytest.raises(AssertionError, match="Input to bincount has negative values!"):
        thx.function([x], T.bincount(x, assert_nonneg=True))(np.array([1, -2]))


def test_bincount_weights_must_match_x():
    x, w = T.lvector("x"), T.dvector("w")
    with pytest.raises(ValueError, match="same length"):
        thx.function([x, w], T.bincount(x, w))(np.array([1, 2]), np.array([1.0]))


def test_bincount_inside_scan_uses_minlength_as_a_bound():
    rows = T.lmatrix("rows")
    out, _ = thx.scan(lambda r: T.bincount(r, minlength=6), sequences=[rows])
    f = thx.function([rows], out)
    data = np.array([[0, 1, 1], [5, 5, 2]])
    assert_close(f(data), np.stack([np.bincount(r, minlength=6) for r in data]))
    with pytest.raises(ValueError, match=r"x holds 8, but its output has the fixed length minlength=6"):
        f(np.array([[0, 1, 1], [8, 5, 2]]))
    out2, _ = thx.scan(lambda r: T.bincount(r), sequences=[rows])
    with pytest.raises(Exception, match="give minlength as a constant upper bound"):
        thx.function([rows], out2)(data)


@pytest.mark.parametrize("flags", [(False, False, False), (True, False, False), (False, True, False),
                                   (False, False, True), (True, True, True)])
def test_unique_flags_against_numpy(flags):
    x = T.dmatrix("x")
    f = thx.function([x], extra_ops.unique(x, *flags))
    for data in (np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 3.0]]), np.array([[7.0, 7.0]])):
        got = f(data)
        got = got if isinstance(got, list) else [got]
        want = np.unique(data, *flags)
        want = list(want) if isinstance(want, tuple) else [want]
        for g, w in zip(got, want, strict=True):
            assert_close(g, np.reshape(w, -1) if g.dtype == np.int64 else w)


def test_unique_axis_and_types():
    x = T.lmatrix("x")
    u, inv, counts = extra_ops.unique(x, return_inverse=True, return_counts=True, axis=0)
    assert u.type == T.lmatrix and inv.type == T.lvector and counts.type == T.lvector
    data = np.array([[1, 2], [3, 4], [1, 2], [0, 9]])
    got = thx.function([x], [u, inv, counts, u.shape[0]])(data)
    wu, winv, wc = np.unique(data, return_inverse=True, return_counts=True, axis=0)
    for g, w in zip(got, [wu, winv.reshape(-1), wc, len(wu)]):
        assert_close(g, w)


def test_unique_has_no_gradient_and_no_loop_form():
    x = T.dvector("x")
    with pytest.raises(thx.gradient.NullTypeGradError, match="Unique"):
        T.grad(T.sum(extra_ops.unique(x)), x)
    m = T.dmatrix("m")
    out, _ = thx.scan(lambda r: extra_ops.unique(r), sequences=[m])
    with pytest.raises(Exception, match="impossible inside a traced context"):
        thx.function([m], out)(np.ones((2, 3)))


def test_compress_with_a_runtime_condition_and_its_gradient():
    x, c = T.dmatrix("x"), T.dvector("c")
    y = extra_ops.compress(T.gt(c, 0), x, axis=1)
    cost = T.sum(y ** 2)
    f = thx.function([c, x], [y, T.grad(cost, x)])
    data = U(-1, 1)
    for cond in ([1.0, -1.0, 2.0, 3.0], [-1.0, -1.0, -1.0, 4.0], [-1.0] * 4):
        got, g = f(np.array(cond), data)
        mask = np.array(cond) > 0
        assert_close(got, np.compress(mask, data, axis=1))
        assert_close(g, 2 * data * mask[None, :])  # the rows taken get 2x, the others nothing


def test_compress_method_and_bad_arguments():
    x = T.dmatrix("x")
    assert_close(x.compress([0, 1, 1], axis=0).eval({x: U(0, 1)}).shape, (2, 4))
    with pytest.raises(ValueError, match="condition must be a 1-d array"):
        extra_ops.compress(T.dmatrix(), x)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        extra_ops.compress([1, 0], x, axis=2)


# ------------------------------------------------------------------ searchsorted, indices, bartlett, one-hot


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_against_numpy(side):
    x, v, s = T.dvector("x"), T.dmatrix("v"), T.lvector("s")
    sorted_x = np.array([0.0, 1.0, 1.0, 2.5, 4.0])
    vals = np.array([[-1.0, 1.0, 2.0], [4.0, 9.0, 1.5]])
    f = thx.function([x, v], extra_ops.searchsorted(x, v, side=side))
    assert_close(f(sorted_x, vals), np.searchsorted(sorted_x, vals, side=side))
    shuffled = np.array([2.5, 0.0, 4.0, 1.0, 1.0])
    g = thx.function([x, v, s], x.searchsorted(v, side=side, sorter=s))
    order = np.argsort(shuffled, kind="stable")
    assert_close(g(shuffled, vals, order), np.searchsorted(shuffled, vals, side=side, sorter=order))
    assert extra_ops.searchsorted(x, v).type == T.lmatrix


def test_searchsorted_gradient_is_zero():
    x, v = T.dvector("x"), T.dvector("v")
    gx, gv = thx.function([x, v], T.grad(T.sum(extra_ops.searchsorted(x, v) * v), [x, v]))(
        np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.5]))
    assert_close(gx, np.zeros(3))
    assert_close(gv, np.searchsorted([0.0, 1.0, 2.0], [0.5, 1.5]).astype(float))  # only the product's term


@pytest.mark.parametrize("order", ["C", "F"])
def test_ravel_and_unravel_against_numpy(order):
    i = T.lvector("i")
    dims = (3, 4, 2)
    flat = np.array([0, 5, 23, 11, 17])
    coords = thx.function([i], list(T.unravel_index(i, dims, order=order)))(flat)
    for g, w in zip(coords, np.unravel_index(flat, dims, order=order)):
        assert_close(g, w)
    a, b, c = T.lvectors("a", "b", "c")
    back = thx.function([a, b, c], T.ravel_multi_index((a, b, c), dims, order=order))(*coords)
    assert_close(back, flat)


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_ravel_multi_index_modes(mode):
    r, c = T.lvectors("r", "c")
    rows, cols = np.array([0, 3, -1, 2]), np.array([5, 1, 2, -7])
    got = thx.function([r, c], T.ravel_multi_index([r, c], (3, 4), mode=mode))(rows, cols)
    assert_close(got, np.ravel_multi_index((rows, cols), (3, 4), mode=mode))


def test_index_conversions_check_ranges_and_take_symbolic_dims():
    r, c = T.lvectors("r", "c")
    f = thx.function([r, c], T.ravel_multi_index((r, c), (3, 4)))
    with pytest.raises(ValueError, match="invalid entry in coordinates array"):
        f(np.array([0, 3]), np.array([0, 0]))
    i = T.lvector("i")
    g = thx.function([i], list(T.unravel_index(i, (2, 3))))
    with pytest.raises(ValueError, match="index 6 is out of bounds"):
        g(np.array([1, 6]))
    m = T.dmatrix("m")  # dims read from a shape: a vector of known length, values known at run time
    h = thx.function([i, m], list(T.unravel_index(i, m.shape)))
    for got, want in zip(h(np.array([0, 7]), np.zeros((2, 5))), np.unravel_index([0, 7], (2, 5))):
        assert_close(got, want)


@pytest.mark.parametrize("M", [0, 1, 5, 8, -2])
def test_bartlett(M):
    assert_close(T.bartlett(M).eval(), np.bartlett(M))


def test_bartlett_length_is_a_static_input():
    m = T.lscalar("m")
    f = thx.function([m], T.bartlett(m) * 2)
    assert_close(f(4), 2 * np.bartlett(4))
    assert_close(f(7), 2 * np.bartlett(7))
    assert T.bartlett(m).type == T.dvector


def test_to_one_hot():
    y = T.lvector("y")
    got = thx.function([y], extra_ops.to_one_hot(y, 4, dtype="float32"))(np.array([3, 0, 2]))
    assert got.dtype == np.float32
    assert_close(got, np.eye(4, dtype="float32")[[3, 0, 2]])
    with pytest.raises(IndexError):
        thx.function([y], extra_ops.to_one_hot(y, 4))(np.array([4]))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("build,exc,match", [
    (lambda: T.cumsum(T.dmatrix(), axis=2), ValueError, r"axis\(=2\) out of bounds"),
    (lambda: extra_ops.CumOp(mode="sub"), ValueError, 'Unknown mode "sub"'),
    (lambda: T.diff(T.dvector(), n=-1), ValueError, "non-negative"),
    (lambda: T.diff(T.dscalar()), ValueError, "at least one dimensional"),
    (lambda: T.diff(T.dmatrix(), axis=2), ValueError, "axis 2 is out of bounds"),
    (lambda: T.bincount(T.lmatrix()), TypeError, "x must be a vector"),
    (lambda: T.bincount(T.dvector()), TypeError, "x must hold integers"),
    (lambda: T.bincount(T.lvector(), T.dmatrix()), TypeError, "weights must be a vector"),
    (lambda: T.bincount(T.lvector(), minlength=2.5), TypeError, "minlength must be an integer scalar"),
    (lambda: T.fill_diagonal(T.dvector(), 1.0), TypeError, "at least two dimensions"),
    (lambda: T.fill_diagonal(T.dmatrix(), T.dvector()), TypeError, "second parameter must be a scalar"),
    (lambda: T.fill_diagonal(T.imatrix(), 1.5), TypeError, "must be the same as the first's"),
    (lambda: T.fill_diagonal_offset(T.dtensor3(), 1.0, 0), TypeError, "exactly two dimensions"),
    (lambda: T.fill_diagonal_offset(T.dmatrix(), 1.0, 0.5), TypeError, "third parameter must be an integer"),
    (lambda: T.bartlett(T.dvector()), TypeError, "only works on scalar input"),
    (lambda: T.bartlett(2.5), TypeError, "only works on integer input"),
    (lambda: extra_ops.to_one_hot(T.dvector(), 3), TypeError, "y must be a vector of integers"),
    (lambda: extra_ops.unique(T.dmatrix(), axis=2), RuntimeError, "Unique axis `2` is outside of input ndim = 2"),
    (lambda: T.unravel_index(T.dvector(), (2, 3)), TypeError, "'float64' object cannot be interpreted as an index"),
    (lambda: T.unravel_index(T.lvector(), T.lvector()), ValueError, "length of dims must be known"),
    (lambda: T.unravel_index(T.lvector(), (2, 3), order="X"), ValueError, "order must be 'C' or 'F'"),
    (lambda: T.ravel_multi_index(T.lvector(), (2, 3)), TypeError, "multi_index must be a tuple or a list"),
    (lambda: T.ravel_multi_index([T.lvector()], (2, 3)), ValueError, "must be a sequence of length 2"),
    (lambda: T.ravel_multi_index([T.lvector()] * 2, (2, 3), mode="bad"), ValueError, "mode must be"),
    (lambda: T.searchsorted(T.dmatrix(), 1.0), TypeError, "x must be a sorted vector"),
    (lambda: T.searchsorted(T.dvector(), 1.0, side="middle"), ValueError, "'middle' is an invalid value"),
    (lambda: T.searchsorted(T.dvector(), 1.0, sorter=T.dvector()), TypeError, "sorter must be an integer vector"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_wrong_arguments_give_clear_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_fill_diagonal_of_a_non_cube_tensor_fails_at_run_time():
    a = T.dtensor3("a")
    with pytest.raises(ValueError, match="equal length"):
        thx.function([a], T.fill_diagonal(a, 1.0))(np.zeros((2, 3, 2)))


# ------------------------------------------------------------------ whole programs


def test_softmax_classifier_with_to_one_hot():
    # cost = mean cross-entropy of softmax(X W + b) against one-hot targets, and its gradient
    X, W, b, y = T.dmatrix("X"), T.dmatrix("W"), T.dvector("b"), T.lvector("y")
    p = T.nnet.softmax(T.dot(X, W) + b)
    cost = -T.mean(T.sum(extra_ops.to_one_hot(y, 3) * T.log(p), axis=1))
    f = thx.function([X, W, b, y], [cost] + T.grad(cost, [W, b]))
    xs, ws, bs, ys = U(-1, 1, (5, 4)), U(-1, 1, (4, 3)), U(-1, 1, (3,)), np.array([0, 2, 1, 2, 0])

    def jcost(w, bias):
        logp = jax.nn.log_softmax(jnp.dot(xs, w) + bias, axis=1)
        return -jnp.mean(jnp.sum(jax.nn.one_hot(ys, 3) * logp, axis=1))
    with jax.enable_x64(True):
        want = [jcost(ws, bs), *jax.grad(jcost, argnums=(0, 1))(ws, bs)]
    for g, w in zip(f(xs, ws, bs, ys), want):
        assert_close(g, w, rtol=1e-6)


def test_cumsum_in_a_scan_step_and_on_its_output():
    # h_t = tanh(cumsum(x_t) * w + h_{t-1}); cost = sum(cumsum(h, axis=0)[-1])
    xs, w, h0 = T.dmatrix("xs"), T.dscalar("w"), T.dvector("h0")
    h, _ = thx.scan(lambda x, prev: T.tanh(T.cumsum(x) * w + prev), sequences=[xs], outputs_info=[h0])
    cost = T.sum(T.cumsum(h, axis=0)[-1])
    f = thx.function([xs, w, h0], [cost] + T.grad(cost, [xs, w, h0]))
    data, wv, h0v = U(-1, 1, (4, 3)), 0.7, U(-1, 1, (3,))

    def jcost(xs_, w_, h_):
        hs = []
        for t in range(xs_.shape[0]):
            h_ = jnp.tanh(jnp.cumsum(xs_[t]) * w_ + h_)
            hs.append(h_)
        return jnp.sum(jnp.cumsum(jnp.stack(hs), axis=0)[-1])
    with jax.enable_x64(True):
        want = [jcost(data, wv, h0v), *jax.grad(jcost, argnums=(0, 1, 2))(data, wv, h0v)]
    for g, ww in zip(f(data, wv, h0v), want):
        assert_close(g, ww, rtol=1e-6)


def test_class_histogram_of_predictions():
    # the predicted classes of a linear model, counted per class (bincount with minlength), at the top
    X, W = T.dmatrix("X"), T.dmatrix("W")
    pred = T.argmax(T.dot(X, W), axis=1)
    hist = T.bincount(pred, minlength=3)
    f = thx.function([X, W], [hist, hist / T.cast(X.shape[0], "float64")])
    xs, ws = U(-1, 1, (20, 4)), U(-1, 1, (4, 3))
    counts, frac = f(xs, ws)
    want = np.bincount(np.argmax(xs @ ws, axis=1), minlength=3)
    assert_close(counts, want)
    assert_close(frac, want / 20.0)


def test_smoothness_penalty_with_diff():
    # a fitted curve penalised by its second differences (a discrete curvature)
    y, t = T.dvector("y"), T.dvector("t")
    cost = T.sum((y - t) ** 2) + 0.5 * T.sum(T.diff(y, n=2) ** 2)
    g = thx.function([y, t], T.grad(cost, y))
    yv, tv = U(-1, 1, (7,)), U(-1, 1, (7,))
    with jax.enable_x64(True):
        want = jax.grad(lambda a: jnp.sum((a - tv) ** 2) + 0.5 * jnp.sum(jnp.diff(a, n=2) ** 2))(yv)
    assert_close(g(yv, tv), want)


# ------------------------------------------------------------------ names, printing, methods


def test_printing_follows_theano():
    x = T.dmatrix("x")
    assert thx.pp(T.cumsum(x, 1)) == "CumOp{1, add}(x)"
    assert str(T.cumprod(x).owner.op) == "CumOp{None, mul}"


def test_tensor_methods():
    x = T.dmatrix("x")
    data = U(-1, 1)
    f = thx.function([x], [x.cumsum(axis=0), x.cumprod(), x.repeat(2, axis=0), T.addbroadcast(x[:1], 0).squeeze()])
    got = f(data)
    for g, w in zip(got, [np.cumsum(data, 0), np.cumprod(data), np.repeat(data, 2, 0), data[0]]):
        assert_close(g, w)


def test_theano_names_under_the_alias():
    code = ("import thx; thx.install_theano_alias()\n"
            "import theano, theano.tensor as T\n"
            "from theano.tensor.extra_ops import cumsum, bincount, to_one_hot, Unique\n"
            "import theano.tensor.extra_ops as eo\n"
            "assert T.extra_ops.cumsum is cumsum is T.cumsum is eo.cumsum\n"
            "assert T.extra_ops.searchsorted is T.searchsorted\n"
            "try:\n    T.extra_ops.DiffOp\nexcept ImportError as e:\n    print(type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "NotSupportedError"
