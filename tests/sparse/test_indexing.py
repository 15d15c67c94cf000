"""thx/sparse/indexing.py: x[i, j], x[a:b, c:d], x[rows], x[rows, cols], hstack/vstack, diagonals.

Values are checked against NumPy indexing of the dense matrix (and SciPy's stacking), on random
csr and csc matrices with an explicitly stored zero and on an empty matrix.  These gradients are
regular: each is compared, over the whole matrix, with ``jax.grad`` of the same indexing on the
dense matrix (costs read outputs through ``DenseFromSparse(structured=False)``, so no gradient is
cut to a stored pattern on the way).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import thx
import thx.sparse as S
import thx.tensor as T
from tests.oracle import jax_grads

FORMATS = ("csr", "csc")
SHAPE = (5, 4)
to_dense = S.DenseFromSparse(structured=False)  # regular gradient: every entry of the output


def matrix(fmt: str, seed: int = 0, shape=SHAPE):
    rng = np.random.RandomState(seed)
    m = sp.random(*shape, density=0.5, format=fmt, random_state=rng,
                  data_rvs=lambda n: rng.uniform(-2, 2, n))
    m.data[0] = 0.0  # an explicitly stored zero
    return m


def cases(fmt: str):
    return [matrix(fmt, 1), sp.csr_matrix(SHAPE).asformat(fmt)]  # random, and empty


def weights(shape, seed: int = 3) -> np.ndarray:
    return np.random.RandomState(seed).uniform(0.5, 1.5, shape)


def check_grad(g, a, jax_index, w):
    """``g`` (sparse, ``a``'s format) against jax.grad of ``sum(w * jax_index(A))``."""
    (expected,) = jax_grads(jax_index, [a.toarray()], w, [0])
    assert sp.issparse(g) and g.format == a.format
    np.testing.assert_allclose(g.toarray(), expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- x[i, j]

@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_scalar(fmt):
    x, i, j = S.matrix(fmt, "x", "float64"), T.iscalar("i"), T.lscalar("j")
    outs = [x[i, j], x[2, 1], x[np.int64(-1), -2]]
    assert [str(o.owner.op) for o in outs] == ["GetItemScalar"] * 3
    assert outs[0].type == T.dscalar
    gx = thx.grad(3.0 * x[i, j], x)
    f = thx.function([x, i, j], outs + [gx])
    for a in cases(fmt):
        d = a.toarray()
        r0, r1, r2, g = f(a, 3, -3)
        assert r0.shape == () and (r0, r1, r2) == (d[3, -3], d[2, 1], d[-1, -2])
        check_grad(g, a, lambda A: A[3, -3], np.float64(3.0))
    with pytest.raises(IndexError):
        f(matrix(fmt), 5, 0)


# ---------------------------------------------------------------- x[a:b, c:d]

SLICES = [
    (slice(1, 4), slice(0, 2)),
    (slice(None, None, 2), slice(1, None)),
    (slice(None), slice(None, None, -1)),
    (slice(-3, None), slice(None)),
    (slice(4, 1, -2), slice(3, 0, -1)),
    (slice(1, 3),),  # rows only: x[1:3]
    (slice(7, 9), slice(0, 4)),  # past the end: an empty matrix, as NumPy's
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_2d_constant_bounds(fmt):
    x = S.matrix(fmt, "x", "float64")
    outs = [x[s] for s in SLICES]
    assert all(str(o.owner.op) == "GetItem2d" and o.type == x.type for o in outs)
    ws = [weights(np.zeros(SHAPE)[s].shape, k) for k, s in enumerate(SLICES)]
    grads = [thx.grad(T.sum(to_dense(o) * w), x) for o, w in zip(outs, ws)]
    f = thx.function([x], outs + grads)
    for a in cases(fmt):
        res = f(a)
        for s, r, g, w in zip(SLICES, res, res[len(SLICES):], ws):
            assert r.format == fmt
            np.testing.assert_array_equal(r.toarray(), a.toarray()[s])
            check_grad(g, a, lambda A, s=s: A[s], w)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_2d_symbolic_bounds(fmt):
    x = S.matrix(fmt, "x", "float64")
    a0, b0, c0, st = T.iscalar("a"), T.iscalar("b"), T.lscalar("c"), T.iscalar("st")
    y = x[a0:b0:st, c0:]
    w = T.dmatrix("w")
    g = thx.grad(T.sum(to_dense(y) * w), x)
    f = thx.function([x, a0, b0, c0, st, w], [y, g])
    a = matrix(fmt, 2)
    for bounds in [(0, 5, 1, 2), (4, 0, 2, -1), (1, 3, 0, 1)]:  # (a, b, c, st)
        s = (slice(bounds[0], bounds[1], bounds[3]), slice(bounds[2], None))
        ww = weights(a.toarray()[s].shape)
        r, gr = f(a, *bounds, ww)
        np.testing.assert_array_equal(r.toarray(), a.toarray()[s])
        check_grad(gr, a, lambda A: A[s], ww)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        f(a, 0, 2, 0, 0, np.ones((0, 4)))


# ---------------------------------------------------------------- x[rows]

@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_list(fmt):
    x, v = S.matrix(fmt, "x", "float64"), T.lvector("v")
    rows = [3, 0, 3, -1]
    outs = [x[rows], x[np.array(rows)], x[v], x[[]]]
    assert [str(o.owner.op) for o in outs] == ["GetItemList"] * 4
    w = weights((4, 4))
    g = thx.grad(T.sum(to_dense(x[v]) * w), x)  # row 3 twice: its gradient rows add up
    f = thx.function([x, v], outs + [g])
    for a in cases(fmt):
        r1, r2, r3, r4, gr = f(a, rows)
        for r in (r1, r2, r3):
            assert r.format == fmt
            np.testing.assert_array_equal(r.toarray(), a.toarray()[rows])
        assert r4.shape == (0, 4)
        check_grad(gr, a, lambda A: A[np.array(rows)], w)
    with pytest.raises(IndexError, match="index 5 is out of bounds for a dimension of size 5"):
        f(matrix(fmt), [0, 5])


# ---------------------------------------------------------------- x[rows, cols]

@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_2lists(fmt):
    x, r, c = S.matrix(fmt, "x", "float64"), T.ivector("r"), T.ivector("c")
    rows, cols = [0, 4, 4, -2], [1, 3, 3, 0]
    outs = [x[rows, cols], x[r, c]]
    assert [str(o.owner.op) for o in outs] == ["GetItem2Lists"] * 2
    assert outs[0].type == T.dvector
    w = weights(4)
    g = thx.grad(T.sum(x[r, c] * w), x)  # (4, 3) twice: summed
    f = thx.function([x, r, c], outs + [g])
    for a in cases(fmt):
        o1, o2, gr = f(a, rows, cols)
        expected = a.toarray()[rows, cols]
        np.testing.assert_array_equal(o1, expected)
        np.testing.assert_array_equal(o2, expected)
        check_grad(gr, a, lambda A: A[np.array(rows), np.array(cols)], w)
    with pytest.raises(IndexError, match="2 row indices and 1 column indices"):
        f(matrix(fmt), [0, 1], [0])


# ---------------------------------------------------------------- unsupported forms

def test_indexing_errors():
    x = S.csr_matrix("x")
    with pytest.raises(NotImplementedError, match=r"no sparse vector.*x\[M:M\+1, N:O\]"):
        x[1, 1:3]
    with pytest.raises(NotImplementedError, match="no sparse vector"):
        x[T.iscalar()]
    with pytest.raises(NotImplementedError, match="no sparse vector"):
        x[0:2, 1]
    with pytest.raises(IndexError, match="too many indices for a sparse matrix: 3 given"):
        x[1:2, 1:2, 0:1]
    with pytest.raises(ValueError, match="Impossible to index into a sparse matrix with slice "
                                         "where start=1.5"):
        x[1.5:3]
    with pytest.raises(ValueError, match="slice where stop=.*an integer scalar is needed"):
        x[0:T.dvector()]
    with pytest.raises(ValueError, match="Advanced indexing is not implemented for sparse "
                                         "matrices. Argument not supported: None"):
        x[None]
    with pytest.raises(ValueError, match=r"mixed with other indices.*x\[rows\]\[:, a:b\]"):
        x[[0, 1], 1:2]
    with pytest.raises(TypeError, match="GetItemList: the index must be a vector of integers, "
                                        "got TensorType\\(float64, vector\\)"):
        S.get_item_list(x, T.dvector())
    with pytest.raises(TypeError, match="GetItemScalar: index 1 must be an integer scalar"):
        S.get_item_scalar(x, (1, T.dscalar()))
    with pytest.raises(TypeError, match="GetItemScalar called with a slice"):
        S.get_item_scalar(x, (1, slice(0, 1)))
    with pytest.raises(TypeError, match="GetItem2d: expected a sparse matrix, got TensorType"):
        S.get_item_2d(T.dmatrix(), (slice(0, 1),))


# ---------------------------------------------------------------- hstack / vstack

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stack", ["hstack", "vstack"])
def test_stack(fmt, stack):
    x, y = S.matrix(fmt, "x", "float64"), S.matrix(fmt, "y", "float32")
    fn, sp_fn = getattr(S, stack), getattr(sp, stack)
    z, z_csr = fn([x, y]), fn([x, y], format="csr", dtype="float32")
    assert str(z.owner.op) == f"{stack[0].upper()}Stack(csc,float64)"
    assert z.type == S.SparseType("csc", "float64") and z_csr.type == S.SparseType("csr", "float32")
    axis = 1 if stack == "hstack" else 0
    b = matrix(fmt, 4, (5, 3) if axis else (2, 4)).astype("float32")
    out_shape = (5, 7) if axis else (7, 4)
    w, V, w2 = weights(out_shape), T.dmatrix("V"), weights((out_shape[0], 2), 5)
    # sparse output gradient (sliced per block), and a dense one (from S.dot: split per block)
    g_sparse = thx.grad(T.sum(to_dense(z) * w), [x, y])
    g_dense = thx.grad(T.sum(S.dot(z, V) * w2), [x, y])
    f = thx.function([x, y, V], [z, z_csr] + g_sparse + g_dense)
    vv = weights((out_shape[1], 2), 6)
    for a in cases(fmt):
        r, r_csr, gx, gy, dx, dy = f(a, b, vv)
        expected = sp_fn([a, b]).toarray()
        assert r.format == "csc" and r.dtype == np.float64 and r_csr.format == "csr"
        np.testing.assert_array_equal(r.toarray(), expected)
        np.testing.assert_allclose(r_csr.toarray(), expected.astype("float32"))
        join = (lambda A, B: jnp.concatenate([A, B], axis=axis))
        ex = jax_grads(join, [a.toarray(), b.toarray().astype("float64")], w, [0, 1])
        ed = jax_grads(lambda A, B: join(A, B) @ vv, [a.toarray(), b.toarray().astype("float64")],
                       w2, [0, 1])
        for g, e, like in ((gx, ex[0], a), (gy, ex[1], b), (dx, ed[0], a), (dy, ed[1], b)):
            assert g.format == like.format and g.dtype == like.dtype
            np.testing.assert_allclose(g.toarray(), e, rtol=1e-6, atol=1e-6)


def test_stack_errors():
    with pytest.raises(ValueError, match="Cannot join an empty list of sparses"):
        S.hstack([])
    with pytest.raises(TypeError, match="vstack: expected a sparse matrix, got TensorType"):
        S.vstack([S.csr_matrix(), T.dmatrix()])
    with pytest.raises(ValueError, match="The output dtype must be specified"):
        S.HStack("csr")
    x, y = S.csr_matrix("x"), S.csr_matrix("y")
    f = thx.function([x, y], S.hstack([x, y]))
    with pytest.raises(ValueError):
        f(sp.csr_matrix((2, 2)), sp.csr_matrix((3, 2)))


# ---------------------------------------------------------------- diagonals

@pytest.mark.parametrize("fmt", FORMATS)
def test_diag_and_square_diagonal(fmt):
    x, v = S.matrix(fmt, "x", "float64"), T.dvector("v")
    d, sq = S.diag(x), S.square_diagonal(v)
    assert (str(d.owner.op), str(sq.owner.op)) == ("Diag", "SquareDiagonal")
    assert d.type == T.dvector and sq.type == S.SparseType("csc", "float64")
    w, W = weights(4), weights((3, 3))
    gx = thx.grad(T.sum(d * w), x)
    gv = thx.grad(T.sum(to_dense(sq) * W), v)
    g_sparse_out = thx.grad(T.sum(S.diag(S.transpose(S.transpose(sq))) * w[:3]), v)
    f = thx.function([x, v], [d, sq, gx, gv, g_sparse_out])
    vv = np.array([1.5, 0.0, -2.0])
    for a in [matrix(fmt, 7, (4, 4)), sp.csr_matrix((4, 4)).asformat(fmt)]:
        r, s, g1, g2, g3 = f(a, vv)
        np.testing.assert_array_equal(r, a.toarray().diagonal())
        np.testing.assert_array_equal(s.toarray(), np.diag(vv))
        assert s.nnz == 3  # every diagonal entry is stored, zeros too (Theano's)
        check_grad(g1, a, jnp.diagonal, w)
        (e2,) = jax_grads(jnp.diag, [vv], W, [0])
        np.testing.assert_allclose(g2, e2)
        np.testing.assert_allclose(g3, w[:3])
    with pytest.raises(ValueError, match=r"Diag only apply on square matrix, got shape \(5, 4\)"):
        f(matrix(fmt), vv)
    with pytest.raises(TypeError, match="data argument must be a vector, got TensorType"):
        S.square_diagonal(T.dmatrix())


# ---------------------------------------------------------------- construct_sparse_from_list

@pytest.mark.filterwarnings("ignore:thx function compiles once per length")  # the error call
def test_construct_sparse_from_list():
    X, values, ilist = T.dmatrix("X"), T.dmatrix("values"), T.lvector("ilist")
    out = S.construct_sparse_from_list(X, values, ilist)
    assert out.type == S.SparseType("csc", "float64")
    w = weights((5, 3))
    gv = thx.grad(T.sum(to_dense(out) * w), values)
    f = thx.function([X, values, ilist], [out, gv])
    vals, idx = weights((3, 3), 8), np.array([4, 0, 4])
    r, g = f(np.zeros((5, 3)), vals, idx)
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, vals)
    assert r.format == "csc"
    np.testing.assert_allclose(r.toarray(), expected)
    (e,) = jax_grads(lambda V: jnp.zeros((5, 3)).at[idx].add(V), [vals], w, [0])
    np.testing.assert_allclose(g, e)
    with pytest.raises(ValueError, match=r"values of shape \(3, 3\) for 2 rows"):
        f(np.zeros((5, 3)), vals, idx[:2])
    with pytest.raises(TypeError, match="cannot create a sparse matrix from values with 1 ndim"):
        S.construct_sparse_from_list(X, T.dvector(), ilist)
