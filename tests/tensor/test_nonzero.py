"""Theano's ``nonzero``, ``flatnonzero`` and ``nonzero_values`` against NumPy.

They are built on the host-barrier op ``FlatNonzero`` (thx/tensor/data_sized.py): the flat
positions are computed on the host between jitted segments, so one function gives results of
different lengths across calls.  Values are compared with ``np.nonzero``, ``np.flatnonzero``
and ``a[a != 0]``; the gradient of ``nonzero_values`` with the analytic value and finite
differences of the NumPy reference (tests/oracle.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.oracle import assert_close, finite_diff

R = np.random.RandomState(2024)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _quiet_bucket_warnings():
    # functions called with inputs of several lengths warn that they compile once per length
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="thx function compiles once per length")
        yield


def _sparse(shape, dtype="float64", density=0.4):
    """Random values of ``dtype`` with about ``1 - density`` of them zero."""
    vals = R.uniform(-2, 2, size=shape) * (R.uniform(size=shape) < density)
    if dtype == "bool":
        return vals != 0
    return vals.astype(dtype) if dtype.startswith("float") else np.round(vals * 3).astype(dtype)


CASES = [
    ("vector_float64", _sparse((7,))),
    ("matrix_float64", _sparse((3, 5))),
    ("matrix_float32", _sparse((4, 3), "float32")),
    ("tensor3_int32", _sparse((2, 3, 4), "int32")),
    ("vector_int64", _sparse((9,), "int64")),
    ("matrix_bool", _sparse((3, 4), "bool")),
    ("tensor3_bool", _sparse((2, 2, 3), "bool", density=0.6)),
    ("tensor4_int8", _sparse((2, 1, 3, 2), "int8", density=0.7)),
    ("all_zero_matrix", np.zeros((3, 4))),
    ("all_zero_vector_int", np.zeros((5,), "int32")),
    ("empty_rows", np.zeros((0, 3))),
    ("empty_columns", np.zeros((3, 0), "int16")),
    ("all_non_zero", np.arange(1.0, 7.0).reshape(2, 3)),
]


@pytest.mark.parametrize("data", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_against_numpy(data):
    a = T.tensor(data.dtype, (False,) * data.ndim, name="a")
    outs = [*T.nonzero(a), T.nonzero(a, return_matrix=True), T.flatnonzero(a), T.nonzero_values(a),
            *a.nonzero(), a.nonzero(return_matrix=True), a.nonzero_values()]
    got = thx.function([a], outs)(data)
    nd = data.ndim
    want_tuple = [i.astype("int64") for i in np.nonzero(data)]
    want_matrix = np.array(want_tuple, dtype="int64").reshape(nd, -1)
    want = [*want_tuple, want_matrix, np.flatnonzero(data), data[data != 0],
            *want_tuple, want_matrix, data[data != 0]]
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, (k, g.dtype, w.dtype)
        assert g.shape == w.shape, (k, g.shape, w.shape)
        np.testing.assert_array_equal(g, w)


def test_types_follow_theano():
    m, v, b = T.dmatrix("m"), T.ivector("v"), T.tensor("bool", (False, False, False), name="b")
    assert isinstance(T.nonzero(m), tuple) and len(T.nonzero(m)) == 2
    assert all(i.type == T.lvector for i in T.nonzero(b)) and len(T.nonzero(b)) == 3
    assert len(T.nonzero(v)) == 1
    # Theano's Nonzero op: a (False, False) int64 matrix whatever the input's rank
    assert T.nonzero(m, return_matrix=True).type == T.lmatrix
    assert T.nonzero(v, return_matrix=True).type == T.lmatrix
    assert T.flatnonzero(m).type == T.lvector
    assert T.nonzero_values(m).type == T.dvector
    assert T.nonzero_values(b).type == T.TensorType("bool", (False,))
    assert T.nonzero_values(v).type == T.ivector
    # the names Theano users reach them by
    assert T.basic.nonzero is T.nonzero and T.basic.flatnonzero is T.flatnonzero
    assert T.basic.nonzero_values is T.nonzero_values
    assert T.data_sized.nonzero is T.nonzero


def test_lengths_follow_the_data_across_calls():
    m = T.dmatrix("m")
    rows, cols = T.nonzero(m)
    vals = T.nonzero_values(m)
    f = thx.function([m], [rows, cols, vals, vals.shape[0], T.sum(vals)])
    for data in (_sparse((3, 4)), np.eye(3, 4), np.zeros((3, 4)), np.ones((2, 5)), _sparse((5, 2))):
        r, c, v, n, s = f(data)
        wr, wc = np.nonzero(data)
        np.testing.assert_array_equal(r, wr)
        np.testing.assert_array_equal(c, wc)
        assert_close(v, data[data != 0])
        assert int(n) == np.count_nonzero(data)
        assert_close(s, data.sum())


def test_nonzero_of_a_runtime_mask_indexes_like_numpy():
    # Theano's spelling of NumPy's x[mask]: x[mask.nonzero()]
    x = T.dtensor3("x")
    mask = T.gt(x, 0.5)
    f = thx.function([x], [x[mask.nonzero()], x[T.nonzero(mask)]])
    data = R.uniform(size=(2, 3, 4))
    for g in f(data):
        assert_close(g, data[data > 0.5])


def test_nonzero_values_gradient():
    a = T.dmatrix("a")
    cost = T.sum(T.nonzero_values(a) ** 2)
    f = thx.function([a], [cost, T.grad(cost, a)])
    for data in (_sparse((3, 4)), np.zeros((2, 3)), np.arange(-2.0, 4.0).reshape(2, 3)):
        c, g = f(data)
        assert_close(c, np.sum(data[data != 0] ** 2))
        assert_close(g, 2 * data * (data != 0))  # analytic: zero where a is zero
        fd = finite_diff(lambda v: np.sum(v[v != 0] ** 2), [data], np.float64(1.0), 0)
        assert_close(g, fd, rtol=1e-6, atol=1e-6)


def test_nonzero_values_gradient_of_a_weighted_cost_on_a_tensor3():
    # cost = sum(w[:n] * tanh(nonzero_values(a))): a projection of a data-sized vector
    a, w = T.dtensor3("a"), T.dvector("w")
    vals = T.nonzero_values(a)
    cost = T.sum(w[:vals.shape[0]] * T.tanh(vals))
    f = thx.function([a, w], T.grad(cost, [a, w]))
    data, wv = _sparse((2, 3, 2)), R.uniform(-1, 1, size=12)
    ga, gw = f(data, wv)
    mask = data != 0  # the positions are fixed: finite differences must not move them
    n = np.count_nonzero(mask)

    def np_cost(v, ww):
        return np.sum(ww[:n] * np.tanh(v[mask]))
    assert_close(ga, finite_diff(np_cost, [data, wv], np.float64(1.0), 0), rtol=1e-6, atol=1e-7)
    assert_close(gw, finite_diff(np_cost, [data, wv], np.float64(1.0), 1), rtol=1e-6, atol=1e-7)


def test_indices_have_no_gradient():
    a = T.dmatrix("a")
    cost = T.sum(T.cast(T.flatnonzero(a), "float64")) + T.sum(T.cast(T.nonzero(a)[0], "float64"))
    with pytest.raises(thx.gradient.DisconnectedInputError):
        T.grad(cost, a)
    g = T.grad(cost, a, disconnected_inputs="ignore")
    assert_close(g.eval({a: _sparse((2, 3))}), np.zeros((2, 3)))


@pytest.mark.parametrize("build", [T.flatnonzero, T.nonzero, T.nonzero_values,
                                   lambda s: s.nonzero(return_matrix=True), lambda s: s.nonzero_values()],
                         ids=["flatnonzero", "nonzero", "nonzero_values", "method", "method_values"])
def test_a_scalar_is_refused_as_theano_does(build):
    with pytest.raises(ValueError, match="Nonzero only supports non-scalar arrays"):
        build(T.dscalar("s"))


@pytest.mark.parametrize("build", [lambda r: T.nonzero(r)[0], T.flatnonzero, T.nonzero_values,
                                   lambda r: T.nonzero(r, return_matrix=True)],
                         ids=["nonzero", "flatnonzero", "nonzero_values", "nonzero_matrix"])
def test_inside_a_scan_step_raises_as_compress_does(build):
    m = T.dmatrix("m")
    out, _ = thx.scan(lambda r: T.sum(build(r)), sequences=[m])
    # the step's error, wrapped with the node that raised it (FlatNonzero) when the function runs
    with pytest.raises(Exception, match="impossible inside a traced context") as info:
        thx.function([m], out)(np.ones((2, 3)))
    first = str(info.value).splitlines()[0]
    assert "NotImplementedError: compress, nonzero, flatnonzero or nonzero_values" in first
    assert "Use it at the top level of the function" in first
    assert "FlatNonzero" in str(info.value)
    # and in a map step
    out3, _ = thx.map(lambda r: T.sum(build(r)), sequences=[m])
    with pytest.raises(Exception, match="impossible inside a traced context") as info3:
        thx.function([m], out3)(np.ones((2, 3)))
    assert str(info3.value).splitlines()[0] == first
    # compress raises the same error there
    out2, _ = thx.scan(lambda r: T.sum(T.extra_ops.compress(r, r)), sequences=[m])
    with pytest.raises(Exception, match="impossible inside a traced context") as info2:
        thx.function([m], out2)(np.ones((2, 3)))
    assert type(info2.value) is type(info.value)
    assert str(info2.value).splitlines()[0] == first


# ------------------------------------------------------------------ a whole program


def test_count_and_average_positive_entries_per_row():
    # per row of m: how many entries are positive, their mean (0 for a row without any), and
    # the gradient of the sum of the means w.r.t. m
    m = T.dmatrix("m")
    rows, cols = T.nonzero(T.gt(m, 0))
    n_rows = m.shape[0]
    counts = T.bincount(rows, minlength=n_rows)
    sums = T.inc_subtensor(T.zeros((n_rows,), dtype="float64")[rows], m[rows, cols])
    means = sums / T.cast(T.maximum(counts, 1), "float64")
    cost = T.sum(means)
    f = thx.function([m], [counts, means, T.grad(cost, m)])
    for data in (R.uniform(-1, 1, size=(4, 5)), -np.ones((3, 2)), R.uniform(-1, 1, size=(6, 3))):
        c, mu, g = f(data)
        pos = data > 0
        want_c = pos.sum(axis=1)
        want_mu = np.where(want_c > 0, (data * pos).sum(axis=1) / np.maximum(want_c, 1), 0.0)
        np.testing.assert_array_equal(c, want_c)
        assert_close(mu, want_mu)
        assert_close(g, pos / np.maximum(want_c, 1)[:, None])


def test_theano_names_under_the_alias():
    code = ("import thx; thx.install_theano_alias()\n"
            "import numpy as np, theano, theano.tensor as T\n"
            "from theano.tensor.basic import nonzero, flatnonzero, nonzero_values\n"
            "from theano.tensor import nonzero_values as nv\n"
            "assert nv is nonzero_values is T.nonzero_values and nonzero is T.nonzero\n"
            "x = T.dvector('x')\n"
            "f = theano.function([x], [x.nonzero_values(), flatnonzero(x)] + list(nonzero(x)))\n"
            "print([a.tolist() for a in f(np.array([0., 3., 0., 5.]))])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[[3.0, 5.0], [1, 3], [1, 3]]"


def test_theano_indexing_doc_mask_raises_and_nonzero_indexes_like_numpy():
    # Theano 1.0 library/tensor/basic "Indexing": t[t > 4] is a TypeError pointing to nonzero();
    # t[(t > 4).nonzero()] gives NumPy's n[n > 4]
    n = np.arange(9).reshape(3, 3)
    t = T.arange(9).reshape((3, 3))
    with pytest.raises(TypeError, match=r"does not support boolean mask.*nonzero\(\)"):
        t[t > 4]
    np.testing.assert_array_equal(t[(t > 4).nonzero()].eval(), n[n > 4])
