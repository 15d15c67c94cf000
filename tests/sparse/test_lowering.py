"""The XLA lowering of the sparse products and reductions (thx/lowering/sparse.py): padded
arrays inside jitted code, against SciPy and NumPy, and one compile per bucket of stored entries."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import thx
import thx.sparse as S
import thx.tensor as T
from thx.lowering.sparse import MIN_BUCKET, SparseArrays


def _rand(m, n, fmt, nnz, seed=0):
    rng = np.random.RandomState(seed)
    flat = rng.choice(m * n, size=nnz, replace=False)
    a = sp.coo_matrix((rng.uniform(0.5, 2.0, nnz), (flat // n, flat % n)), shape=(m, n))
    return a.asformat(fmt)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("nnz", [0, 1, 17, 40])
def test_products_and_sums_with_padded_entries(fmt, nnz):
    """Padding never leaks: W holds inf and nan in its first and last rows, which padded entries
    would read (their column is 0, or one past the last)."""
    x, W, V = (S.csr_matrix("x") if fmt == "csr" else S.csc_matrix("x")), T.dmatrix("W"), T.dmatrix("V")
    a = _rand(6, 8, fmt, nnz)
    Wv = np.random.RandomState(1).randn(8, 3)
    Vv = np.random.RandomState(2).randn(4, 6)
    outs = thx.function([x, W, V], [S.structured_dot(x, W), S.dot(x, W), S.dot(V, x), x.toarray(),
                                     S.sp_sum(x), S.sp_sum(x, axis=0), S.sp_sum(x, axis=1),
                                     S.structured_dot(x.T, V.T)])(a, Wv, Vv)
    A = a.toarray()
    want = [A @ Wv, A @ Wv, Vv @ A, A, A.sum(), A.sum(axis=0), A.sum(axis=1), A.T @ Vv.T]
    for got, w in zip(outs, want):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)
    if nnz and nnz < 40:  # the zero rows of A meet W's first and last rows: still finite
        Wbad = Wv.copy()
        Wbad[[0, -1]] = [np.inf, np.nan, -np.inf]
        rows = np.flatnonzero(np.all(A[:, [0, -1]] == 0, axis=1))
        got = thx.function([x, W], S.structured_dot(x, W))(a, Wbad)
        assert np.all(np.isfinite(got[rows]))


def test_one_compile_per_bucket_of_stored_entries():
    x, W = S.csr_matrix("x"), T.dmatrix("W")
    f = thx.function([x, W], S.structured_dot(x, W).sum())
    Wv = np.ones((50, 2))
    before = f.n_compiles
    for nnz in (20, 25, 31, 32, 21):  # one bucket (32 entries)
        a = _rand(10, 50, "csr", nnz, seed=nnz)
        assert np.isclose(f(a, Wv), 2 * a.sum())
    after_one = f.n_compiles
    f(_rand(10, 50, "csr", 40), Wv)  # the next bucket (64)
    assert after_one - before <= 1 and f.n_compiles == after_one + 1


def test_padded_arrays_round_trip():
    a = _rand(5, 7, "csc", 9)
    s = SparseArrays.from_scipy(a)
    assert s.data.shape == (MIN_BUCKET,) and s.format == "csc" and s.shape == (5, 7)
    b = s.to_host_value()
    assert b.format == "csc" and b.nnz == 9 and np.array_equal(b.toarray(), a.toarray())


def test_lowered_then_host_ops_and_sparse_updates():
    """A lowered transpose feeding a host op (its value converted back to SciPy), and a shared
    sparse matrix updated with a lowered op's output."""
    x = S.csr_matrix("x")
    a = _rand(4, 3, "csr", 5)
    data, indices, _, shape = thx.function([x], S.csm_properties(x.T))(a)
    np.testing.assert_array_equal(shape, [3, 4])
    np.testing.assert_allclose(np.sort(data), np.sort(a.data))
    s = thx.shared(a, name="s")
    step = thx.function([], S.sp_sum(s), updates=[(s, s.T.T)])
    assert np.isclose(step(), a.sum())
    assert sp.issparse(s.get_value()) and np.array_equal(s.get_value().toarray(), a.toarray())
    assert np.isclose(step(), a.sum())


def test_two_sparse_operands_stay_on_the_host():
    x, y = S.csr_matrix("x"), S.csr_matrix("y")
    a, b = _rand(4, 5, "csr", 6), _rand(5, 3, "csr", 4, seed=3)
    out = thx.function([x, y], S.structured_dot(x, y))(a, b)
    assert sp.issparse(out) and np.allclose(out.toarray(), a.toarray() @ b.toarray())
    np.testing.assert_allclose(thx.function([x, y], S.dot(x, y))(a, b), a.toarray() @ b.toarray())


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_times_dense_in_xla_keeps_the_structure(fmt):
    """MulSD (x * dense, col_scale, row_scale, x * 2) lowered: the product at x's stored positions,
    its gradients, and a sparse output converted back to SciPy."""
    x, d, v = (S.csr_matrix("x") if fmt == "csr" else S.csc_matrix("x")), T.dmatrix("d"), T.dvector("v")
    a = _rand(5, 4, fmt, 7)
    D = np.random.RandomState(0).randn(5, 4)
    vv = np.random.RandomState(1).randn(4)
    prod = x * d
    cost = S.sp_sum(S.col_scale(prod, v) * 2.0, sparse_grad=True)
    out, c, gd, gv = thx.function([x, d, v], [prod, cost] + thx.grad(cost, [d, v]))(a, D, vv)
    A = a.toarray()
    assert sp.issparse(out) and out.format == fmt and out.nnz == a.nnz
    np.testing.assert_allclose(out.toarray(), A * D)
    np.testing.assert_allclose(c, (A * D * vv * 2.0).sum())
    np.testing.assert_allclose(gd, A * vv * 2.0)
    np.testing.assert_allclose(gv, (A * D * 2.0).sum(axis=0))
