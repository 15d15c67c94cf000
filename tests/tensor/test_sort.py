"""thx.tensor.sort against independent oracles: NumPy for values, jax.grad / jax.jvp and finite
differences of the NumPy reference for derivatives (tests/oracle.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.oracle import assert_close, finite_diff, jax_grads, numpy_eval, projection, thx_value_and_grads

R = np.random.RandomState(2024)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def distinct(shape):
    """Values without ties (sorting is differentiable there), in random order."""
    n = int(np.prod(shape))
    return (R.permutation(n) + R.uniform(0.1, 0.9, n)).reshape(shape) / n


def _np_topk(x, k, axis):
    """The |k| largest (k > 0, descending) or smallest (k < 0, ascending) along axis, by sorting."""
    s = np.sort(x, axis=axis)
    s = np.flip(s, axis) if k > 0 else s
    return np.take(s, np.arange(abs(k)), axis=axis)


GRAD_CASES = [
    ("sort_last", lambda a: T.sort(a), lambda a: np.sort(a), lambda a: jnp.sort(a), (3, 4)),
    ("sort_axis0", lambda a: T.sort(a, axis=0), lambda a: np.sort(a, 0), lambda a: jnp.sort(a, 0), (3, 4)),
    ("sort_none", lambda a: T.sort(a, axis=None), lambda a: np.sort(a, None), lambda a: jnp.sort(a, None), (3, 4)),
    ("sort_3d_axis1", lambda a: T.sort(a, axis=1), lambda a: np.sort(a, 1), lambda a: jnp.sort(a, 1), (2, 3, 4)),
    ("sort_vector", T.sort, np.sort, jnp.sort, (6,)),
    ("topk", lambda a: T.topk(a, 2), lambda a: _np_topk(a, 2, -1), lambda a: jax.lax.top_k(a, 2)[0], (3, 5)),
    ("topk_neg_axis0", lambda a: T.topk(a, -2, axis=0), lambda a: _np_topk(a, -2, 0),
     lambda a: jnp.sort(a, 0)[:2], (4, 3)),
    ("topk_none", lambda a: T.topk(a, 3, axis=None), lambda a: _np_topk(a.reshape(-1), 3, 0),
     lambda a: jax.lax.top_k(a.reshape(-1), 3)[0], (3, 4)),
    ("topk_and_argtopk", lambda a: T.topk_and_argtopk(a, 1, axis=1)[0] * 3, lambda a: _np_topk(a, 1, 1) * 3,
     lambda a: jnp.max(a, 1, keepdims=True) * 3, (3, 4)),
]


@pytest.mark.parametrize("name,build,ref,jref,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_value_and_gradient(name, build, ref, jref, shape):
    a = distinct(shape)
    value, (g,) = thx_value_and_grads(build, [a], [0])
    assert_close(value, ref(a), what=f"{name} value vs NumPy")
    proj = projection(np.shape(value))
    (jg,) = jax_grads(jref, [a], proj, [0])
    assert_close(g, jg, what=f"{name} gradient vs jax.grad")
    assert_close(g, finite_diff(ref, [a], proj, 0), rtol=1e-4, atol=1e-5, what=f"{name} gradient vs finite differences")


@pytest.mark.parametrize("axis", [0, 1, -1, None])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8"])
def test_sort_and_argsort_values(axis, dtype):
    x = T.tensor(dtype, (False, False))
    data = R.randint(-5, 5, (4, 5)).astype(dtype)  # with ties: argsort keeps them in input order
    f = thx.function([x], [T.sort(x, axis=axis), T.argsort(x, axis=axis)])
    s, i = f(data)
    assert s.dtype == dtype and i.dtype == np.int64
    assert_close(s, np.sort(data, axis=axis))
    assert_close(i, np.argsort(data, axis=axis, kind="stable"))


def test_sort_puts_nan_last_as_numpy():
    x = T.dvector("x")
    data = np.array([2.0, np.nan, -1.0, np.inf, 0.5])
    s, i = thx.function([x], [T.sort(x), T.argsort(x)])(data)
    np.testing.assert_array_equal(s, np.sort(data))
    np.testing.assert_array_equal(i, np.argsort(data, kind="stable"))


def test_numpy_perform_agrees():
    x = T.dmatrix("x")
    data = R.randint(-3, 3, (3, 4)).astype(float)
    got = numpy_eval([T.sort(x, 0), T.argsort(x), T.topk(x, 2), T.argtopk(x, -3)], {x: data})
    want = [np.sort(data, 0), np.argsort(data, kind="stable"), _np_topk(data, 2, -1),
            np.argsort(data, kind="stable")[:, :3]]
    for g, w in zip(got, want):
        assert_close(g, w)


def test_sort_with_a_symbolic_axis():
    # the axis is a static input of the compiled function; the gradient picks the axis by switch
    x, ax = T.dmatrix("x"), T.lscalar("ax")
    y = T.sort(x, axis=ax)
    proj = T.constant(projection((3, 4)))
    f = thx.function([x, ax], [y, T.grad(T.sum(proj * y), x)])
    a = distinct((3, 4))
    for axis in (0, 1, -1):
        val, g = f(a, axis)
        assert_close(val, np.sort(a, axis))
        (jg,) = jax_grads(lambda t: jnp.sort(t, axis), [a], projection((3, 4)), [0])
        assert_close(g, jg, what=f"axis {axis}")


def test_sort_rop_against_jax_jvp():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    a, e = distinct((3, 4)), R.uniform(-1, 1, (3, 4))
    for build, jfn in [(lambda t: T.sort(t, 0), lambda t: jnp.sort(t, 0)),
                       (lambda t: T.topk(t, 2), lambda t: jax.lax.top_k(t, 2)[0])]:
        got = thx.function([x, v], T.Rop(build(x), x, v))(a, e)
        with jax.enable_x64(True):
            want = jax.jvp(jfn, (jnp.asarray(a),), (jnp.asarray(e),))[1]
        assert_close(got, want)


def test_argsort_gradient_is_zero_and_integer_sort_has_none():
    x = T.dvector("x")
    data = np.array([0.3, 0.1, 0.2])
    g = thx.function([x], T.grad(T.sum(T.cast(T.argsort(x), "float64") * x), x))(data)
    assert_close(g, np.argsort(data))  # only the product's direct term: argsort itself contributes 0
    i, w = T.lvector("i"), T.dscalar("w")
    gi, gw = thx.function([i, w], T.grad(T.sum(T.sort(i) * w), [i, w]))(np.array([3, 1]), 2.0)
    assert np.all(gi == 0) and gw == 4.0


@pytest.mark.parametrize("k", [1, 3, -1, -4, 4])
@pytest.mark.parametrize("axis", [0, 1, None])
def test_topk_and_argtopk_values(k, axis):
    x = T.dmatrix("x")
    data = R.randint(0, 4, (4, 4)).astype(float)  # ties: the first occurrences come first
    vals, idx = T.topk_and_argtopk(x, k, axis=axis, idx_dtype="int32")
    f = thx.function([x], [vals, idx, T.argtopk(x, k, axis=axis)])
    v, i, i2 = f(data)
    flat = data.reshape(-1) if axis is None else data
    ax = 0 if axis is None else axis
    assert_close(v, _np_topk(flat, k, ax))
    assert i.dtype == np.int32 and i2.dtype == np.int64
    assert_close(np.take_along_axis(flat, i.astype(np.int64), axis=ax), v)
    order = (np.argsort(-flat, axis=ax, kind="stable") if k > 0 else np.argsort(flat, axis=ax, kind="stable"))
    assert_close(i2, np.take(order, np.arange(abs(k)), axis=ax))


def test_topk_kth_as_a_static_input_and_its_errors():
    x, k = T.dvector("x"), T.lscalar("k")
    f = thx.function([x, k], T.topk(x, k))
    data = np.array([0.5, 2.0, -1.0, 3.0])
    assert_close(f(data, 2), [3.0, 2.0])
    assert_close(f(data, -3), [-1.0, 0.5, 2.0])
    with pytest.raises(ValueError, match="kth cannot be zero"):
        f(data, 0)
    with pytest.raises(ValueError, match="kth cannot be larger than the size of specified axis 0"):
        f(data, 5)


@pytest.mark.parametrize("build,exc,match", [
    (lambda: T.sort(T.dmatrix(), axis=2), ValueError, "axis 2 is out of bounds for a tensor of 2 dimensions"),
    (lambda: T.sort(T.dscalar()), ValueError, "cannot sort a scalar"),
    (lambda: T.sort(T.dvector(), axis=1.5), TypeError, "axis must be an integer scalar"),
    (lambda: T.sort(T.dvector(), kind="bogosort"), ValueError, "kind must be one of"),
    (lambda: T.argsort(T.dvector(), order=["f"]), ValueError, "structured array"),
    (lambda: T.topk(T.dscalar(), 1), ValueError, "cannot take a scalar"),
    (lambda: T.topk(T.dmatrix(), 1, axis=2), IndexError, r"expected integer within \[-2, 1\]"),
    (lambda: T.topk(T.dvector(), 1.5), ValueError, "kth is expected to be an integer scalar"),
    (lambda: T.topk(T.dvector(), 1, idx_dtype="float32"), TypeError, "idx_dtype"),
    (lambda: T.sort.TopKOp(axis=0.5), TypeError, '"axis" parameter must be integer'),
    (lambda: T.sort.TopKOp(return_values=False, return_indices=False), ValueError, "neither return_values"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_wrong_arguments_give_clear_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


# ------------------------------------------------------------------ whole programs


def test_rank_predictions_with_argsort():
    # ranks of a linear model's scores (0 = best), precision at 2 with argtopk
    X, w, y = T.dmatrix("X"), T.dvector("w"), T.lvector("y")
    scores = T.dot(X, w)
    ranks = T.argsort(T.argsort(-scores))
    hits = T.sum(T.eq(y[T.argtopk(scores, 2)], 1))
    f = thx.function([X, w, y], [ranks, hits / 2.0])
    xs, ws, ys = R.uniform(-1, 1, (6, 3)), R.uniform(-1, 1, 3), np.array([0, 1, 1, 0, 0, 1])
    r, prec = f(xs, ws, ys)
    s = xs @ ws
    assert_close(r, np.argsort(np.argsort(-s)))
    assert_close(prec, ys[np.argsort(-s)[:2]].sum() / 2.0)


def test_trimmed_loss_through_sort():
    # a robust loss: the mean of the k smallest squared errors, trained by its gradient
    X, w, t = T.dmatrix("X"), T.dvector("w"), T.dvector("t")
    err = (T.dot(X, w) - t) ** 2
    cost = T.mean(T.sort(err)[:4])
    f = thx.function([X, w, t], [cost, T.grad(cost, w)])
    xs, ws, ts = R.uniform(-1, 1, (7, 3)), R.uniform(-1, 1, 3), R.uniform(-1, 1, 7)
    with jax.enable_x64(True):
        jcost = lambda a: jnp.mean(jnp.sort((xs @ a - ts) ** 2)[:4])  # noqa: E731
        want = [jcost(ws), jax.grad(jcost)(ws)]
    for g, wv in zip(f(xs, ws, ts), want):
        assert_close(g, wv)


# ------------------------------------------------------------------ names, printing, methods


def test_printing_follows_theano():
    x = T.dmatrix("x")
    assert str(T.sort(x).owner.op) == "SortOp{quicksort, None}"
    assert str(T.argsort(x, kind="mergesort").owner.op) == "ArgSortOp{mergesort, None}"
    assert str(T.topk(x, 2).owner.op) == "TopKOp{axis=-1, sorted=True}"
    assert thx.pp(T.sort(x, 0)) == "SortOp{quicksort, None}(x, TensorConstant{0})"


def test_tensor_methods_and_the_callable_module():
    x = T.dvector("x")
    data = np.array([0.3, -1.0, 2.0])
    f = thx.function([x], [x.sort(), x.argsort(), T.sort(x), T.sort.sort(x), T.sort.argsort(x)])
    for g, w in zip(f(data), [np.sort(data), np.argsort(data), np.sort(data), np.sort(data), np.argsort(data)]):
        assert_close(g, w)


def test_theano_names_under_the_alias():
    # importing the module theano.tensor.sort rebinds T.sort to the module: it must stay callable
    code = ("import thx; thx.install_theano_alias()\n"
            "import theano.tensor as T\n"
            "from theano.tensor.sort import argsort, sort, topk, argtopk, topk_and_argtopk\n"
            "import theano.tensor.sort\n"
            "x = T.dvector('x')\n"
            "print(T.sort(x).eval({x: [2., 1.]}).tolist(), theano.tensor.sort.argsort(x).eval({x: [2., 1.]}).tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1.0, 2.0] [1, 0]"
