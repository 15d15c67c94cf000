"""thx.sparse's core ops (thx/sparse/basic.py, dot.py, sharedvar.py) against SciPy and NumPy, their
gradients against jax.grad of the dense computation (structured ones at the stored positions)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import thx
import thx.sparse as S
import thx.tensor as T


def _rand(m, n, fmt="csr", density=0.4, seed=0):
    rng = np.random.RandomState(seed)
    a = sp.random(m, n, density=density, format=fmt, random_state=rng)
    a.data = rng.uniform(0.5, 2.0, a.nnz)  # away from 0: explicit values
    return a


def _var(fmt, name="x"):
    return S.csr_matrix(name) if fmt == "csr" else S.csc_matrix(name)


def _jax_grad(fn, *args, argnums=0):
    with jax.enable_x64(True):
        return np.asarray(jax.grad(fn, argnums=argnums)(*[jnp.asarray(a) for a in args]))


FORMATS = ["csr", "csc"]


# ------------------------------------------------------------------ types, inputs, outputs

def test_type_and_variable():
    x = S.csr_matrix("x")
    assert str(x.type) == "Sparse[float64, csr]"
    assert x.T.format == "csc" and x.T.T.format == "csr"
    assert S.csc_matrix(dtype="float32").type == S.SparseType("csc", "float32")
    assert str(S.csr_matrix()) == "SparseVariable{csr,float64}"
    with pytest.raises(NotImplementedError, match="unsupported sparse format"):
        S.SparseType("bsr", "float64")


@pytest.mark.parametrize("fmt", FORMATS)
def test_identity_and_conversion_of_inputs(fmt):
    x = _var(fmt)
    f = thx.function([x], x)
    a = _rand(4, 3, fmt)
    out = f(a)
    assert out.format == fmt and out is not a and (out != a).nnz == 0
    b = f(a.tocoo())  # another format is converted
    assert b.format == fmt and np.array_equal(b.toarray(), a.toarray())
    assert f(a.astype("float32")).dtype == np.float64  # a safe upcast
    with pytest.raises(TypeError, match="expected a scipy.sparse matrix for a Sparse"):
        f(a.toarray())
    y = S.csr_matrix("y", dtype="float32")
    with pytest.raises(TypeError, match="loss of precision"):
        thx.function([y], y)(a)


@pytest.mark.parametrize("fmt", FORMATS)
def test_dense_from_sparse_and_back(fmt):
    x = _var(fmt)
    a = _rand(5, 4, fmt)
    np.testing.assert_array_equal(thx.function([x], x.toarray())(a), a.toarray())
    d = T.dmatrix("d")
    conv = S.csr_from_dense if fmt == "csr" else S.csc_from_dense
    dense = a.toarray()
    out = thx.function([d], conv(d))(dense)
    assert out.format == fmt and np.array_equal(out.toarray(), dense) and out.nnz == a.nnz


def test_csm_properties_and_csm_roundtrip():
    x = S.csr_matrix("x")
    a = _rand(4, 6)
    data, ind, ptr, shp = thx.function([x], S.csm_properties(x))(a)
    np.testing.assert_array_equal(data, a.data)
    np.testing.assert_array_equal(ind, a.indices)
    np.testing.assert_array_equal(ptr, a.indptr)
    np.testing.assert_array_equal(shp, [4, 6])
    assert ind.dtype == np.int32 and shp.dtype == np.int32
    np.testing.assert_array_equal(thx.function([x], x.shape)(a), [4, 6])
    dv, iv, pv, sv = T.dvector("d"), T.ivector("i"), T.ivector("p"), T.ivector("s")
    built = thx.function([dv, iv, pv, sv], S.CSR(dv, iv, pv, sv))(a.data, a.indices, a.indptr,
                                                                  np.array([4, 6], "int32"))
    assert built.format == "csr" and np.array_equal(built.toarray(), a.toarray())


def test_csm_gradient_is_the_gradient_at_the_stored_positions():
    # cost(data) = sum(dense(CSR(data, ...)) * w): d cost / d data = w at the positions
    dv, iv, pv, sv, w = T.dvector("d"), T.ivector("i"), T.ivector("p"), T.ivector("s"), T.dmatrix("w")
    cost = (S.dense_from_sparse(S.CSR(dv, iv, pv, sv)) * w).sum()
    g = thx.function([dv, iv, pv, sv, w], thx.grad(cost, dv))
    a = _rand(4, 5)
    W = np.arange(20.0).reshape(4, 5)
    rows = np.repeat(np.arange(4), np.diff(a.indptr))
    np.testing.assert_allclose(g(a.data, a.indices, a.indptr, np.array([4, 5], "int32"), W),
                               W[rows, a.indices])


@pytest.mark.parametrize("fmt", FORMATS)
def test_transpose_neg_cast(fmt):
    x = _var(fmt)
    a = _rand(3, 5, fmt)
    t, n, c = thx.function([x], [x.T, -x, S.fcast(x)])(a)
    assert t.format == ("csc" if fmt == "csr" else "csr")
    np.testing.assert_array_equal(t.toarray(), a.toarray().T)
    np.testing.assert_array_equal(n.toarray(), -a.toarray())
    assert c.dtype == np.float32


# ------------------------------------------------------------------ arithmetic

@pytest.mark.parametrize("fmt", FORMATS)
def test_add_sub_mul_values(fmt):
    x, y, d = _var(fmt, "x"), _var(fmt, "y"), T.dmatrix("d")
    a, b = _rand(4, 5, fmt, seed=1), _rand(4, 5, fmt, seed=2)
    D = np.random.RandomState(3).randn(4, 5)
    ss, sd, ds, sub_, mss, msd, msv = thx.function([x, y, d], [
        x + y, x + d, d + x, x - y, x * y, x * d, S.mul(x, T.constant(np.arange(5.0)))])(a, b, D)
    A, B = a.toarray(), b.toarray()
    assert ss.format == fmt
    np.testing.assert_allclose(ss.toarray(), A + B)
    np.testing.assert_allclose(sd, A + D)
    np.testing.assert_allclose(ds, A + D)
    np.testing.assert_allclose(sub_.toarray(), A - B)
    np.testing.assert_allclose(mss.toarray(), A * B)
    np.testing.assert_allclose(msd.toarray(), A * D)
    assert msd.nnz == a.nnz  # MulSD keeps x's stored positions
    np.testing.assert_allclose(msv.toarray(), A * np.arange(5.0))


def test_add_of_two_formats_is_refused():
    with pytest.raises(NotImplementedError, match="one format"):
        S.csr_matrix("a") + S.csc_matrix("b")
    with pytest.raises(NotImplementedError, match="at least one sparse"):
        S.add(T.dmatrix(), T.dmatrix())


def test_add_sd_gradient():
    x, d = S.csr_matrix("x"), T.dmatrix("d")
    a = _rand(4, 3)
    D = np.random.RandomState(0).randn(4, 3)
    cost = ((x + d) ** 2).sum()
    gx, gd = thx.function([x, d], thx.grad(cost, [x, d]))(a, D)
    A = a.toarray()
    jgx = _jax_grad(lambda A, D: ((A + D) ** 2).sum(), A, D, argnums=0)
    jgd = _jax_grad(lambda A, D: ((A + D) ** 2).sum(), A, D, argnums=1)
    np.testing.assert_allclose(gd, jgd)
    mask = A != 0
    np.testing.assert_allclose(gx.toarray(), np.where(mask, jgx, 0))  # structured
    assert gx.nnz == a.nnz


@pytest.mark.parametrize("fmt", FORMATS)
def test_mul_sd_gradient_with_broadcast_vector(fmt):
    x, v = _var(fmt), T.dvector("v")
    a = _rand(5, 4, fmt)
    vv = np.random.RandomState(1).randn(4)
    cost = S.sp_sum(S.col_scale(x, v) * 3.0, sparse_grad=True) + (S.dense_from_sparse(S.row_scale(x, v[:1].repeat(5)))).sum()
    gx, gv = thx.function([x, v], thx.grad(cost, [x, v]))(a, vv)
    A = a.toarray()

    def dense(A, v):
        return (A * v[None, :] * 3.0).sum() + (A * v[0]).sum()
    np.testing.assert_allclose(gv, _jax_grad(dense, A, vv, argnums=1))
    np.testing.assert_allclose(gx.toarray(), np.where(A != 0, _jax_grad(dense, A, vv), 0))


def test_mul_ss_gradient():
    x, y = S.csr_matrix("x"), S.csr_matrix("y")
    a, b = _rand(4, 4, seed=1, density=0.6), _rand(4, 4, seed=2, density=0.6)
    gx, gy = thx.function([x, y], thx.grad(S.sp_sum(x * y, sparse_grad=True), [x, y]))(a, b)
    A, B = a.toarray(), b.toarray()
    np.testing.assert_allclose(gx.toarray(), np.where((A != 0) & (B != 0), B, 0))
    np.testing.assert_allclose(gy.toarray(), np.where((A != 0) & (B != 0), A, 0))


# ------------------------------------------------------------------ products

@pytest.mark.parametrize("fmt", FORMATS)
def test_structured_dot_value_and_gradients(fmt):
    x, W = _var(fmt), T.dmatrix("W")
    a = _rand(6, 4, fmt)
    Wv = np.random.RandomState(2).randn(4, 3)
    y = S.structured_dot(x, W)
    cost = (T.tanh(y) ** 2).sum()
    f = thx.function([x, W], [y] + thx.grad(cost, [x, W]))
    val, gx, gW = f(a, Wv)
    A = a.toarray()
    np.testing.assert_allclose(val, A @ Wv)

    def dense(A, W):
        return (jnp.tanh(A @ W) ** 2).sum()
    np.testing.assert_allclose(gW, _jax_grad(dense, A, Wv, argnums=1), rtol=1e-10)
    assert gx.format == fmt and gx.nnz == a.nnz
    np.testing.assert_allclose(gx.toarray(), np.where(A != 0, _jax_grad(dense, A, Wv), 0), rtol=1e-10)


def test_structured_dot_dense_left_and_sparse_right():
    x, d = S.csc_matrix("x"), T.dmatrix("d")
    a = _rand(4, 5, "csc")
    D = np.random.RandomState(0).randn(3, 4)
    np.testing.assert_allclose(thx.function([x, d], S.structured_dot(d, x))(a, D), D @ a.toarray())
    y = S.csc_matrix("y")
    b = _rand(5, 2, "csc", seed=4)
    out = thx.function([x, y], S.structured_dot(x, y))(a, b)
    assert out.format == "csc"
    np.testing.assert_allclose(out.toarray(), a.toarray() @ b.toarray())


@pytest.mark.parametrize("left_sparse", [True, False])
def test_dot_regular_gradient(left_sparse):
    x, d = S.csr_matrix("x"), T.dmatrix("d")
    a = _rand(4, 4)
    D = np.random.RandomState(5).randn(4, 4)
    out = S.dot(x, d) if left_sparse else S.dot(d, x)
    cost = (out ** 3).sum()
    val, gx, gd = thx.function([x, d], [out] + thx.grad(cost, [x, d]))(a, D)
    A = a.toarray()

    def dense(A, D):
        return (((A @ D) if left_sparse else (D @ A)) ** 3).sum()
    np.testing.assert_allclose(val, A @ D if left_sparse else D @ A)
    np.testing.assert_allclose(gd, _jax_grad(dense, A, D, argnums=1), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(gx), _jax_grad(dense, A, D), rtol=1e-10)  # dense: regular


def test_dot_needs_a_sparse_operand():
    with pytest.raises(TypeError, match="at least one sparse"):
        S.dot(T.dmatrix(), T.dmatrix())


def test_dot_shape_mismatch_is_a_clear_error():
    x, d = S.csr_matrix("x"), T.dmatrix("d")
    f = thx.function([x, d], S.structured_dot(x, d))
    with pytest.raises(ValueError, match="not aligned"):
        f(_rand(3, 4), np.ones((5, 2)))


def test_true_dot_and_sampling_dot():
    x, y, d, e = S.csr_matrix("x"), S.csr_matrix("y"), T.dmatrix("d"), T.dmatrix("e")
    a, b = _rand(4, 5), _rand(5, 3, seed=3)
    D = np.random.RandomState(0).randn(5, 3)
    ss, sd = thx.function([x, y, d], [S.true_dot(x, y), S.true_dot(x, d)])(a, b, D)
    assert ss.format == "csr" and sd.format == "csr"
    np.testing.assert_allclose(ss.toarray(), a.toarray() @ b.toarray())
    np.testing.assert_allclose(sd.toarray(), a.toarray() @ D)
    gd = thx.function([x, d], thx.grad(S.sp_sum(S.true_dot(x, d)), d))(a, D)
    np.testing.assert_allclose(gd, _jax_grad(lambda D: (a.toarray() @ D).sum(), D))
    p = _rand(4, 3, seed=7)
    X, Y = np.random.RandomState(1).randn(4, 6), np.random.RandomState(2).randn(3, 6)
    sdot = S.sampling_dot(d, e, x)
    out, gX = thx.function([d, e, x], [sdot, thx.grad(S.sp_sum(sdot), d)])(X, Y, p)
    P = p.toarray()
    np.testing.assert_allclose(out.toarray(), P * (X @ Y.T))
    np.testing.assert_allclose(gX, _jax_grad(lambda X: (P * (X @ Y.T)).sum(), X))


# ------------------------------------------------------------------ sums

@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("sparse_grad", [True, False])
def test_sp_sum(axis, sparse_grad):
    x, w = S.csc_matrix("x"), T.dvector("w")
    a = _rand(5, 4, "csc")
    s = S.sp_sum(x, axis=axis, sparse_grad=sparse_grad)
    cost = (s ** 2).sum() if axis is None else (s * w[: (4 if axis == 0 else 5)]).sum() ** 2
    val, g = thx.function([x, w], [s, thx.grad(cost, x)], on_unused_input="ignore")(a, np.arange(1.0, 6.0))
    A = a.toarray()
    np.testing.assert_allclose(val, A.sum(axis=axis))
    wv = np.arange(1.0, 6.0)

    def dense(A):
        s = A.sum(axis=axis)
        return (s ** 2).sum() if axis is None else (s * wv[: (4 if axis == 0 else 5)]).sum() ** 2
    jg = _jax_grad(dense, A)
    np.testing.assert_allclose(g.toarray(), np.where(A != 0, jg, 0) if sparse_grad else jg)


def test_sp_ones_zeros_like_and_clean():
    x = S.csr_matrix("x")
    a = _rand(4, 4)
    a.data[0] = 0.0  # an explicit zero
    ones, zeros, cleaned = thx.function([x], [S.sp_ones_like(x), S.sp_zeros_like(x), S.clean(x)])(a)
    assert ones.nnz == a.nnz and np.all(ones.data == 1)
    assert zeros.nnz == 0 and zeros.shape == a.shape
    assert cleaned.nnz == a.nnz - 1 and cleaned.has_sorted_indices


# ------------------------------------------------------------------ shared variables and programs

def test_shared_sparse_with_update():
    a = _rand(5, 4)
    s = thx.shared(a, name="s")
    assert isinstance(s, S.SparseSharedVariable) and s.type == S.SparseType("csr", "float64")
    a.data[:] = 0  # the shared value is a copy
    assert s.get_value().sum() > 0
    total = s.get_value().sum()
    f = thx.function([], S.sp_sum(s), updates=[(s, s * 2.0)])
    assert np.isclose(f(), total) and np.isclose(f(), 2 * total)
    np.testing.assert_allclose(s.get_value().sum(), 4 * total)
    s.set_value(sp.csr_matrix(np.eye(4, 4)))
    assert np.isclose(f(), 4.0)


def test_sgd_step_on_a_minibatch_of_varying_nnz():
    """Softmax regression on sparse rows, against NumPy, over minibatches of different nnz."""
    rng = np.random.RandomState(0)
    X = sp.random(40, 12, density=0.3, format="csr", random_state=rng)
    y = rng.randint(0, 3, 40).astype("int32")
    W0 = rng.randn(12, 3) * 0.1
    x, t = S.csr_matrix("x"), T.ivector("t")
    W = thx.shared(W0.copy(), name="W")
    b = thx.shared(np.zeros(3), name="b")
    p = T.nnet.softmax(S.structured_dot(x, W) + b)
    cost = -T.mean(T.log(p)[T.arange(t.shape[0]), t])
    gW, gb = thx.grad(cost, [W, b])
    train = thx.function([x, t], cost, updates=[(W, W - 0.5 * gW), (b, b - 0.5 * gb)])
    Wn, bn = W0.copy(), np.zeros(3)
    for i in range(4):
        xb, yb = X[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]
        c = train(xb, yb)
        A = xb.toarray()
        z = A @ Wn + bn
        pz = np.exp(z - z.max(1, keepdims=True))
        pz /= pz.sum(1, keepdims=True)
        want = -np.log(pz[np.arange(10), yb]).mean()
        dz = pz.copy()
        dz[np.arange(10), yb] -= 1
        dz /= 10
        Wn, bn = Wn - 0.5 * A.T @ dz, bn - 0.5 * dz.sum(0)
        np.testing.assert_allclose(c, want, rtol=1e-12)
    np.testing.assert_allclose(W.get_value(), Wn, rtol=1e-12)


def test_sparse_inside_scan_is_a_clear_error():
    x = S.csr_matrix("x")
    with pytest.raises(NotImplementedError, match="cannot enter a scan step"):
        thx.scan(lambda w, xx: S.structured_dot(xx, w), sequences=[T.dtensor3("ws")], non_sequences=[x])


def test_printing():
    x, W = S.csr_matrix("x"), T.dmatrix("W")
    assert thx.pp(S.dot(x, W)) == "SparseDot(x, W)"
    assert thx.pp(S.structured_dot(x, W)) == "StructuredDot(x, W)"
    assert thx.pp(S.sp_sum(x.T, axis=0)) == "SpSum{axis=0, sparse_grad=False}(Transpose(x))"


def test_tensor_dot_and_operators_dispatch_to_sparse():
    """``T.dot(sparse, dense)`` and ``dense + sparse`` are sparse ops, as in Theano."""
    x, W, d = S.csr_matrix("x"), T.dmatrix("W"), T.dmatrix("d")
    a = _rand(3, 4)
    Wv, D = np.random.RandomState(0).randn(4, 2), np.random.RandomState(1).randn(3, 4)
    r1, r2, r3, r4 = thx.function([x, W, d], [T.dot(x, W), T.dot(D.T, x), d + x, d * x])(a, Wv, D)
    A = a.toarray()
    np.testing.assert_allclose(r1, A @ Wv)
    np.testing.assert_allclose(r2, D.T @ A)
    np.testing.assert_allclose(r3, D + A)
    np.testing.assert_allclose(r4.toarray(), D * A)


def test_dense_input_of_varying_length_next_to_a_sparse_one():
    """A function with a sparse input is not padded to shape buckets (the bucket call converted
    every argument with np.asarray, which made a 0-d object array of a SciPy matrix)."""
    x, y = S.csr_matrix("x"), T.ivector("y")
    W = thx.shared(np.ones((4, 2)))
    f = thx.function([x, y], S.structured_dot(x, W).sum() + y.sum())
    X = sp.csr_matrix(np.array([[1.0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 3]]))
    Y = np.array([0, 1, 1], dtype="int32")
    assert float(f(X[0:2], Y[0:2])) == 9.0
    assert float(f(X[0:2], Y[0:3])) == 10.0
    assert float(f(X[2:3], Y[0:1])) == 6.0


def test_sparse_constants_and_eval():
    A = sp.csr_matrix(np.diag([1.0, 2.0, 3.0]))
    W = T.dmatrix("W")
    Wv = np.arange(6.0).reshape(3, 2)
    dotted, folded = thx.function([W], [S.structured_dot(A, W), S.sp_sum(S.as_sparse_variable(A)) + 1])(Wv)
    np.testing.assert_allclose(dotted, A.toarray() @ Wv)
    assert float(folded) == 7.0  # constant-folded by SciPy's perform
    x = S.csr_matrix("x")
    np.testing.assert_array_equal(x.T.eval({x: A}).toarray(), A.toarray())


def test_dense_on_the_left_of_a_comparison_defers_to_the_sparse_operand():
    x, d = S.csr_matrix("x"), T.dmatrix("d")
    a = _rand(3, 3)
    D = np.full((3, 3), 1.0)
    lt, ge = thx.function([x, d], [d < x, d >= x])(a, D)
    A = a.toarray()
    np.testing.assert_array_equal(np.asarray(lt.toarray() if sp.issparse(lt) else lt), (D < A).astype("uint8"))
    np.testing.assert_array_equal(np.asarray(ge.toarray() if sp.issparse(ge) else ge), (D >= A).astype("uint8"))
