"""``T.nlinalg``/``T.slinalg`` and the diagonal helpers against NumPy/SciPy (values) and
``jax.grad``/``jax.jvp`` of the same functions written in JAX (gradients, R-ops).

Ops that read one triangle of their input (Cholesky, ``eigh``, triangular solves, ``eigvalsh``)
are compared with JAX functions of that triangle alone (``sym_lower(a)`` below), since their
gradient is the gradient of that function, as in Theano.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import pytest
import scipy.linalg as sl

import thx
import thx.tensor as T
from thx.tensor import nlinalg as NL
from thx.tensor import slinalg as SL

R = np.random.RandomState(11)
A = R.randn(4, 4)
SPD = A @ A.T + 4 * np.eye(4)
PENCIL_B = np.eye(4) + 0.1 * SPD
B = R.randn(4, 3)
b = R.randn(4)
W = R.randn(4, 4)
c = R.randn(4)
x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dvector("v")


def sym_lower(a):
    return jnp.tril(a) + jnp.tril(a, -1).T


def sym_upper(a):
    return jnp.triu(a) + jnp.triu(a, 1).T


def assert_grads_match_jax(cost, inputs, values, jax_cost, rtol=1e-7, atol=1e-9):
    got = thx.function(inputs, thx.grad(cost, inputs))(*values)
    with jax.enable_x64(True):
        want = jax.grad(jax_cost, argnums=tuple(range(len(values))))(*values)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- values

VALUE_CASES = [
    ("matrix_inverse", lambda: NL.matrix_inverse(x), [A], lambda a: np.linalg.inv(a)),
    ("pinv", lambda: NL.pinv(x), [B], np.linalg.pinv),
    ("det", lambda: NL.det(x), [A], np.linalg.det),
    ("eigh", lambda: NL.eigh(x), [SPD], lambda a: list(np.linalg.eigh(a))),
    ("eigh_upper", lambda: NL.eigh(x, "U"), [np.triu(SPD)], lambda a: list(np.linalg.eigh(a, "U"))),
    ("eig", lambda: NL.eig(x), [SPD], lambda a: [np.real(t) for t in np.linalg.eig(a)]),
    ("qr", lambda: NL.qr(x), [B], lambda a: list(np.linalg.qr(a))),
    ("qr_full", lambda: NL.qr(x, "full"), [B], lambda a: list(np.linalg.qr(a))),
    ("qr_complete", lambda: NL.qr(x, "complete"), [B], lambda a: list(np.linalg.qr(a, "complete"))),
    ("qr_r", lambda: NL.qr(x, "r"), [B], lambda a: np.linalg.qr(a, "r")),
    ("svd", lambda: NL.svd(x), [B], lambda a: list(np.linalg.svd(a))),
    ("svd_reduced", lambda: NL.svd(x, full_matrices=False), [B],
     lambda a: list(np.linalg.svd(a, full_matrices=False))),
    ("svd_s", lambda: NL.svd(x, compute_uv=False), [B], lambda a: np.linalg.svd(a, compute_uv=False)),
    ("trace", lambda: x.trace(), [A], np.trace),
    ("matrix_dot", lambda: NL.matrix_dot(x, x.T, x), [A], lambda a: a @ a.T @ a),
    ("cholesky", lambda: SL.cholesky(x), [np.tril(SPD)], lambda a: np.linalg.cholesky(SPD)),
    ("cholesky_upper", lambda: SL.Cholesky(lower=False)(x), [np.triu(SPD)], lambda a: sl.cholesky(SPD)),
    ("solve", lambda: SL.solve(x, y), [A, B], lambda a, bb: np.linalg.solve(a, bb)),
    ("solve_lower", lambda: SL.solve_lower_triangular(x, y), [A, B],
     lambda a, bb: sl.solve_triangular(a, bb, lower=True)),
    ("solve_upper", lambda: SL.solve_upper_triangular(x, y), [A, B],
     lambda a, bb: sl.solve_triangular(a, bb, lower=False)),
    ("solve_symmetric", lambda: SL.solve_symmetric(x, y), [SPD, B], lambda a, bb: np.linalg.solve(a, bb)),
    ("eigvalsh", lambda: SL.eigvalsh(x, y), [SPD, PENCIL_B], lambda a, bb: sl.eigvalsh(a, bb)),
    ("eigvalsh_upper", lambda: SL.eigvalsh(x, y, lower=False), [np.triu(SPD), np.triu(PENCIL_B)],
     lambda a, bb: sl.eigvalsh(SPD, PENCIL_B)),
    ("eigvalsh_one", lambda: SL.eigvalsh(x, None), [SPD], lambda a: sl.eigvalsh(a)),
    ("expm", lambda: SL.expm(x), [A / 3], sl.expm),
    ("kron", lambda: SL.kron(x, y), [A, B], np.kron),
    ("tensorinv", lambda: NL.tensorinv(x, 1), [A], lambda a: np.linalg.tensorinv(a, 1)),
]


@pytest.mark.parametrize("name,build,values,ref", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_match_numpy_and_scipy(name, build, values, ref):
    out = build()
    inputs = [x, y][:len(values)]
    got = thx.function(inputs, out)(*values)
    want = ref(*values)
    for g, w in zip(got if isinstance(out, list) else [got], want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)


def test_dtypes_follow_numpy_linalg():
    f32 = T.fmatrix("f32")
    assert NL.matrix_inverse(f32).dtype == "float32"
    assert SL.cholesky(f32).dtype == "float32"
    i = T.lmatrix("i")
    assert NL.det(i).dtype == "float64"
    got = thx.function([i], NL.matrix_inverse(i))(np.array([[2, 0], [0, 4]]))
    np.testing.assert_allclose(got, [[0.5, 0], [0, 0.25]])
    got32 = thx.function([f32], SL.cholesky(f32))(SPD.astype("float32"))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, np.linalg.cholesky(SPD), rtol=1e-5)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", np.inf, -np.inf, "inf", "-inf", 1, -1, 2, -2])
def test_matrix_norms_match_numpy(ord):
    want = np.linalg.norm(B, {"inf": np.inf, "-inf": -np.inf}.get(ord, ord) if isinstance(ord, str) else ord)
    np.testing.assert_allclose(thx.function([x], NL.norm(x, ord))(B), want, rtol=1e-12)


@pytest.mark.parametrize("ord", [None, np.inf, -np.inf, 0, 1, 2, 3, -1, 0.5])
def test_vector_norms_match_numpy(ord):
    vals = np.array([0.5, 0.0, -2.0, 1.5])
    with np.errstate(divide="ignore"):  # NumPy's own warning for a zero entry at a negative order
        want = np.linalg.norm(vals, ord)
    np.testing.assert_allclose(thx.function([v], NL.norm(v, ord))(vals), want, rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, -1, -3])
def test_matrix_power_matches_numpy(n):
    np.testing.assert_allclose(thx.function([x], NL.matrix_power(x, n))(A),
                               np.linalg.matrix_power(A, n), rtol=1e-9, atol=1e-12)


def test_tensorsolve_and_tensorinv_match_numpy():
    t = T.dtensor3("t")
    a = R.randn(2, 3, 6)
    bb = R.randn(2, 3)
    np.testing.assert_allclose(thx.function([t, y], NL.tensorsolve(t, y))(a, bb),
                               np.linalg.tensorsolve(a, bb), rtol=1e-9)
    a2 = R.randn(6, 2, 3)
    np.testing.assert_allclose(thx.function([t], NL.tensorinv(t, 1))(a2), np.linalg.tensorinv(a2, 1),
                               rtol=1e-9)
    a3 = R.randn(3, 6, 2)
    np.testing.assert_allclose(thx.function([t, y], NL.tensorsolve(t, y, axes=(1,)))(a3, bb.T),
                               np.linalg.tensorsolve(a3, bb.T, axes=(1,)), rtol=1e-9)


def test_lstsq_matches_numpy_and_runs_on_the_host():
    f = thx.function([x, v], NL.lstsq()(x, v, -1.0))
    a = R.randn(6, 3)
    rhs = R.randn(6)
    for got, want in zip(f(a, rhs), np.linalg.lstsq(a, rhs, rcond=-1)):
        np.testing.assert_allclose(got, want, rtol=1e-9)
    # rank deficient: NumPy's empty residuals
    deficient = np.c_[a[:, :2], a[:, :1]]
    sol, res, rank, s = f(deficient, rhs)
    assert res.shape == (0,) and rank == 2
    np.testing.assert_allclose(sol, np.linalg.lstsq(deficient, rhs, rcond=-1)[0], rtol=1e-9)


# ---------------------------------------------------------------------- diagonals


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3])
def test_diagonal_and_its_gradient(offset):
    got = thx.function([x], [T.diagonal(y, offset), thx.grad(T.sum(T.diagonal(x, offset) ** 2), x)],
                       givens={y: x})(B)
    np.testing.assert_array_equal(got[0], np.diagonal(B, offset))
    with jax.enable_x64(True):
        want = jax.grad(lambda a: jnp.sum(jnp.diagonal(a, offset) ** 2))(B)
    np.testing.assert_allclose(got[1], want)


@pytest.mark.parametrize("axes", [(0, 1), (1, 2), (2, 0), (-1, 0)])
def test_diagonal_of_a_3d_tensor_over_any_axes(axes):
    t = T.dtensor3("t")
    a = R.randn(3, 4, 5)
    f = thx.function([t], [t.diagonal(1, *axes), thx.grad(T.sum(T.sin(T.diagonal(t, 1, *axes))), t)])
    d, g = f(a)
    np.testing.assert_array_equal(d, np.diagonal(a, 1, *axes))
    with jax.enable_x64(True):
        want = jax.grad(lambda z: jnp.sum(jnp.sin(jnp.diagonal(z, 1, *axes))))(a)
    np.testing.assert_allclose(g, want)


@pytest.mark.parametrize("k", [-2, 0, 1])
def test_diag_of_a_vector_and_its_gradient(k):
    M = R.randn(4 + abs(k), 4 + abs(k))
    got = thx.function([v], [T.diag(v, k), thx.grad(T.sum(T.diag(v, k) * M), v)])(b)
    np.testing.assert_array_equal(got[0], np.diag(b, k))
    np.testing.assert_allclose(got[1], np.diagonal(M, k))


def test_alloc_diag_is_the_inverse_of_extract_diag_on_any_axes():
    from thx.tensor.diagonal import AllocDiag
    m = R.randn(2, 3)
    out = thx.function([x], AllocDiag(1, 2, 0)(x))(m)
    assert out.shape == (4, 2, 4)
    np.testing.assert_array_equal(np.diagonal(out, 1, 2, 0), m)
    assert np.count_nonzero(out) == np.count_nonzero(m)


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tri_tril_triu_match_numpy(k):
    m = R.randn(3, 4)
    m[0, 3] = np.inf
    got = thx.function([x], [T.tril(x, k), T.triu(x, k), T.tri(3, 5, k)])(m)
    np.testing.assert_array_equal(got[0], np.tril(m, k))
    np.testing.assert_array_equal(got[1], np.triu(m, k))
    np.testing.assert_array_equal(got[2], np.tri(3, 5, k))


# ---------------------------------------------------------------------- gradients vs jax.grad


GRAD_CASES = [
    ("matrix_inverse", lambda: T.sum(NL.matrix_inverse(x) * W), [A], lambda a: jnp.sum(jnp.linalg.inv(a) * W)),
    ("pinv", lambda: T.sum(NL.pinv(x) ** 2), [B], lambda a: jnp.sum(jnp.linalg.pinv(a) ** 2)),
    ("det", lambda: NL.det(x), [A], jnp.linalg.det),
    ("log_det", lambda: T.log(abs(NL.det(x))), [A], lambda a: jnp.log(jnp.abs(jnp.linalg.det(a)))),
    ("eigh_values", lambda: T.sum(NL.eigh(x)[0] * c), [SPD],
     lambda a: jnp.sum(jnp.linalg.eigh(sym_lower(a), symmetrize_input=False)[0] * c)),
    # v diag(c) v^T and w ** 2 do not depend on the eigenvectors' signs
    ("eigh_vectors_lower", lambda: (lambda w_, v_: T.sum(T.dot(v_ * c, v_.T) * W) + T.sum(w_ ** 2))(*NL.eigh(x)),
     [SPD], lambda a: (lambda r: jnp.sum((r[1] * c) @ r[1].T * W) + jnp.sum(r[0] ** 2))(
         jnp.linalg.eigh(sym_lower(a), symmetrize_input=False))),
    ("eigh_vectors_upper", lambda: (lambda w_, v_: T.sum(T.dot(v_ * c, v_.T) * W))(*NL.eigh(x, "U")),
     [SPD], lambda a: (lambda r: jnp.sum((r[1] * c) @ r[1].T * W))(
         jnp.linalg.eigh(sym_upper(a), symmetrize_input=False))),
    ("svd_values", lambda: T.sum(NL.svd(x, compute_uv=False) * c[:3]), [B],
     lambda a: jnp.sum(jnp.linalg.svd(a, compute_uv=False) * c[:3])),
    ("svd_values_of_uv", lambda: T.sum(NL.svd(x)[1] ** 3), [B],
     lambda a: jnp.sum(jnp.linalg.svd(a, compute_uv=False) ** 3)),
    ("nuclear_norm", lambda: NL.norm(x, "nuc"), [B], lambda a: jnp.linalg.norm(a, "nuc")),
    ("trace", lambda: NL.trace(T.dot(x, x)), [A], lambda a: jnp.trace(a @ a)),
    ("matrix_power", lambda: T.sum(NL.matrix_power(x, 5) * W), [A / 2],
     lambda a: jnp.sum(jnp.linalg.matrix_power(a, 5) * W)),
    ("cholesky_lower", lambda: T.sum(SL.cholesky(x) * W), [SPD],
     lambda a: jnp.sum(jnp.linalg.cholesky(sym_lower(a)) * W)),
    ("cholesky_upper", lambda: T.sum(SL.Cholesky(lower=False)(x) * W), [SPD],
     lambda a: jnp.sum(jnp.linalg.cholesky(sym_upper(a)).T * W)),
    ("gp_log_likelihood", lambda: -T.sum(T.log(T.diag(SL.cholesky(x)))) - 0.5 * T.sum(
        SL.solve_lower_triangular(SL.cholesky(x), v) ** 2), [SPD, b],
     lambda a, r: -jnp.sum(jnp.log(jnp.diag(jnp.linalg.cholesky(sym_lower(a))))) - 0.5 * jnp.sum(
         jsl.solve_triangular(jnp.linalg.cholesky(sym_lower(a)), r, lower=True) ** 2)),
    ("solve_vector", lambda: T.sum(SL.solve(x, v) * c), [A, b], lambda a, r: jnp.sum(jnp.linalg.solve(a, r) * c)),
    ("solve_matrix", lambda: T.sum(SL.solve(x, y) ** 2), [A, B], lambda a, r: jnp.sum(jnp.linalg.solve(a, r) ** 2)),
    ("solve_lower", lambda: T.sum(SL.solve_lower_triangular(x, y) * B), [SPD, B],
     lambda a, r: jnp.sum(jsl.solve_triangular(jnp.tril(a), r, lower=True) * B)),
    ("solve_upper", lambda: T.sum(SL.solve_upper_triangular(x, v) * c), [SPD, b],
     lambda a, r: jnp.sum(jsl.solve_triangular(jnp.triu(a), r, lower=False) * c)),
    ("eigvalsh_pencil", lambda: T.sum(SL.eigvalsh(x, y) * c), [SPD, PENCIL_B],
     lambda a, bb: jnp.sum(_pencil_values(sym_lower(a), sym_lower(bb)) * c)),
    ("eigvalsh_pencil_upper", lambda: T.sum(SL.eigvalsh(x, y, lower=False) ** 2), [SPD, PENCIL_B],
     lambda a, bb: jnp.sum(_pencil_values(sym_upper(a), sym_upper(bb)) ** 2)),
    ("eigvalsh_one", lambda: T.sum(SL.eigvalsh(x, None) * c), [SPD],
     lambda a: jnp.sum(jnp.linalg.eigvalsh(sym_lower(a)) * c)),
    ("expm", lambda: T.sum(SL.expm(x) * W), [A / 3], lambda a: jnp.sum(jsl.expm(a) * W)),
    ("kron", lambda: T.sum(SL.kron(x, y) ** 2), [A, B], lambda a, bb: jnp.sum(jnp.kron(a, bb) ** 2)),
    ("tensorsolve", lambda: T.sum(NL.tensorsolve(x, v) * c), [A, b],
     lambda a, r: jnp.sum(jnp.linalg.tensorsolve(a, r) * c)),
    ("inverse_times_vector", lambda: T.sum(T.dot(NL.matrix_inverse(x), v) ** 2), [A, b],
     lambda a, r: jnp.sum((jnp.linalg.inv(a) @ r) ** 2)),
]


def _pencil_values(a, bb):
    l = jnp.linalg.cholesky(bb)
    m = jsl.solve_triangular(l, a, lower=True)
    return jnp.linalg.eigvalsh(jsl.solve_triangular(l, m.T, lower=True))


@pytest.mark.parametrize("name,build,values,jax_cost", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_jax_grad(name, build, values, jax_cost):
    inputs = [x] if len(values) == 1 else [x, v if np.ndim(values[1]) == 1 else y]
    assert_grads_match_jax(build(), inputs, values, jax_cost)


@pytest.mark.parametrize("name,build,values,jax_fn", [
    ("matrix_inverse", lambda: NL.matrix_inverse(x), [A], jnp.linalg.inv),
    ("det", lambda: NL.det(x), [A], jnp.linalg.det),
    ("solve", lambda: SL.solve(x, y), [A, B], jnp.linalg.solve),
    ("solve_lower", lambda: SL.solve_lower_triangular(x, y), [A, B],
     lambda a, r: jsl.solve_triangular(jnp.tril(a), r, lower=True)),
    ("diagonal", lambda: T.diagonal(x, 1), [A], lambda a: jnp.diagonal(a, 1)),
])
def test_rop_matches_jax_jvp(name, build, values, jax_fn):
    inputs = [x, y][:len(values)]
    tangents = [R.randn(*np.shape(t)) for t in values]
    evs = [i.type() for i in inputs]
    out = build()
    got = thx.function(inputs + evs, thx.Rop(out, inputs, evs), on_unused_input="ignore")(*values, *tangents)
    with jax.enable_x64(True):
        _, want = jax.jvp(jax_fn, tuple(values), tuple(tangents))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_perform_and_lowering_agree_in_debugmode():
    """DebugMode runs every node's NumPy perform and compares it with the JAX lowering."""
    cost = (T.sum(NL.eigh(x)[1] ** 3) + T.sum(SL.expm(x / 10) * W) + T.sum(SL.cholesky(x) * W)
            + T.sum(SL.eigvalsh(x, y)) + T.sum(SL.solve_upper_triangular(x, y)) + NL.det(x)
            + T.sum(NL.pinv(y) ** 2))
    f = thx.function([x, y], thx.grad(cost, [x, y]), mode="DebugMode")
    f(SPD, PENCIL_B)


def test_in_a_map_over_a_batch_of_matrices():
    stack = T.dtensor3("stack")
    dets, _ = thx.map(lambda m: NL.det(m) + T.sum(SL.solve(m, T.ones_like(m[0]))), sequences=[stack])
    g = thx.grad(T.sum(dets), stack)
    mats = R.randn(5, 3, 3) + 3 * np.eye(3)
    got_d, got_g = thx.function([stack], [dets, g])(mats)

    def one(m):
        return jnp.linalg.det(m) + jnp.sum(jnp.linalg.solve(m, jnp.ones(3)))
    with jax.enable_x64(True):
        np.testing.assert_allclose(got_d, jax.vmap(one)(mats), rtol=1e-10)
        np.testing.assert_allclose(got_g, jax.grad(lambda s: jnp.sum(jax.vmap(one)(s)))(mats), rtol=1e-8)


# ---------------------------------------------------------------------- rewrites


def _ops(f):
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


def test_inverse_times_matrix_is_rewritten_to_a_solve():
    before = T.dot(NL.matrix_inverse(x), y)
    f = thx.function([x, y], before)
    assert "MatrixInverse" not in _ops(f) and _ops(f).count("Solve") == 1
    np.testing.assert_allclose(f(A, B), np.linalg.solve(A, B), rtol=1e-10)
    g = thx.function([x, y], T.dot(y.T, NL.matrix_inverse(x)))  # from the right
    assert "MatrixInverse" not in _ops(g)
    np.testing.assert_allclose(g(A, B), B.T @ np.linalg.inv(A), rtol=1e-10)
    unopt = thx.function([x, y], before, mode="FAST_COMPILE")
    assert "MatrixInverse" in _ops(unopt)


def test_solve_with_a_cholesky_factor_becomes_triangular():
    L = SL.cholesky(x)
    f = thx.function([x, v], [SL.solve(L, v), SL.solve(L.T, v)])
    structures = sorted(n.op.A_structure for n in f.maker.fgraph.toposort() if isinstance(n.op, SL.Solve))
    assert structures == ["lower_triangular", "upper_triangular"]
    lo, up = f(SPD, b)
    chol = np.linalg.cholesky(SPD)
    np.testing.assert_allclose(lo, np.linalg.solve(chol, b), rtol=1e-10)
    np.testing.assert_allclose(up, np.linalg.solve(chol.T, b), rtol=1e-10)


def test_sandbox_psd_hint_turns_a_solve_into_cholesky_solves():
    from thx.sandbox.linalg import Hint, psd, spectral_radius_bound
    A_psd = psd(x)
    f = thx.function([x, v], [SL.solve(A_psd, v), NL.det(A_psd), SL.cholesky(A_psd), T.dot(A_psd.T, v)])
    ops = _ops(f)
    assert "Hint" not in ops and "Det" not in ops and ops.count("Cholesky") == 1
    assert sorted(n.op.A_structure for n in f.maker.fgraph.toposort() if isinstance(n.op, SL.Solve)) == [
        "lower_triangular", "upper_triangular"]
    sol, d, chol, prod = f(SPD, b)
    np.testing.assert_allclose(sol, np.linalg.solve(SPD, b), rtol=1e-10)
    np.testing.assert_allclose(d, np.linalg.det(SPD), rtol=1e-10)
    np.testing.assert_allclose(prod, SPD @ b, rtol=1e-12)
    assert_grads_match_jax(T.sum(SL.solve(psd(x), v) ** 2), [x, v], [SPD, b],
                           lambda a, r: jnp.sum(jnp.linalg.solve(a, r) ** 2))
    # the hint is an identity when no rewrite removes it
    g = thx.function([x], Hint(psd=True)(x) * 2, mode="FAST_COMPILE")
    np.testing.assert_array_equal(g(SPD), 2 * SPD)
    bound = thx.function([x], spectral_radius_bound(x, 4))(SPD)
    rho = np.abs(np.linalg.eigvalsh(SPD)).max()
    np.testing.assert_allclose(bound, np.sum(np.linalg.eigvalsh(SPD) ** 16) ** (1 / 16), rtol=1e-10)
    assert rho <= bound <= 4 ** (1 / 16) * rho * (1 + 1e-12)  # trace(X^16)^(1/16) <= n^(1/16) rho


def test_det_is_not_taken_from_a_cholesky_factor_without_the_symmetric_hint():
    nonsym = SPD + np.triu(np.ones((4, 4)), 1)
    f = thx.function([x], [NL.det(x), SL.cholesky(x)])
    np.testing.assert_allclose(f(nonsym)[0], np.linalg.det(nonsym), rtol=1e-10)


# ---------------------------------------------------------------------- errors


def test_singular_matrix_raises_linalg_error():
    f = thx.function([x], NL.matrix_inverse(x))
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        f(np.ones((3, 3)))
    g = thx.function([x, v], SL.solve(x, v))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        g(np.zeros((3, 3)), np.ones(3))
    h = thx.function([x, v], SL.solve_lower_triangular(x, v))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        h(np.diag([1.0, 0.0, 2.0]), np.ones(3))


def test_cholesky_of_a_matrix_that_is_not_positive_definite():
    bad = -np.eye(3)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        thx.function([x], SL.cholesky(x))(bad)
    assert np.isnan(thx.function([x], SL.Cholesky(on_error="nan")(x))(bad)).all()
    with pytest.raises(ValueError, match="on_error"):
        SL.Cholesky(on_error="ignore")


def test_bad_inputs_get_clear_errors():
    with pytest.raises(TypeError, match="MatrixInverse: the input must be a matrix"):
        NL.matrix_inverse(v)
    with pytest.raises(TypeError, match="Solve: b must be a vector or a matrix"):
        SL.solve(x, T.dtensor3())
    with pytest.raises(ValueError, match="unrecognized mode"):
        NL.qr(x, "economic-ish")
    with pytest.raises(ValueError, match="Invalid norm order"):
        NL.norm(x, 3)
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        NL.norm(v, "fro")
    with pytest.raises(TypeError, match="dimensions must sum to 3 or more"):
        SL.kron(v, v)
    with pytest.raises(ValueError, match="Invalid matrix structure"):
        SL.Solve("triangular")
    with pytest.raises(TypeError, match="exponent must be an integer"):
        NL.matrix_power(x, 1.5)
    with pytest.raises(NotImplementedError, match="singular vectors"):
        thx.grad(T.sum(NL.svd(x)[0]), x)
    with pytest.raises(ValueError, match="input must be 1- or 2-d"):
        T.diag(T.dtensor3())


def test_wrong_shape_at_call_time_is_reported():
    f = thx.function([x, v], SL.solve(x, v))
    with pytest.raises(ValueError, match=r"(?s)inconsistent size.*Apply node that caused the error: Solve"):
        f(A, np.ones(3))
    with pytest.raises(ValueError, match=r"(?s)must have shape \[\.\.\., n, n\].*Det\(x\)"):
        thx.function([x], NL.det(x))(np.ones((2, 3)))
