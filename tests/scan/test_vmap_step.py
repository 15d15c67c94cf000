"""The step of a map-like scan lowered with ``jax.vmap`` (thx/rewriting/scan.py): one-hot
increments, products sunk into the one-hot, sums of one-hots merged, invariant values
materialized.  Values against ``jax.hessian`` / ``jax.jacrev``; the step's shape by op counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.rewriting.scan import optimize_inner
from thx.scan.materialize import Materialize, materialize
from thx.scan.op import Scan


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _vmapped_step(f):
    [scan] = [n.op for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    return optimize_inner(scan, vmapped=True)


COSTS = [
    ("x2_sin", lambda m, v: m.sum(v ** 2 * m.sin(v))),
    ("tanh", lambda m, v: m.sum(m.tanh(v))),
    ("exp_cross", lambda m, v: m.sum(m.exp(v[:-1] * v[1:])) + m.sum(v) ** 2),
]


@pytest.mark.parametrize("name,cost", COSTS, ids=[c[0] for c in COSTS])
def test_hessian_matches_jax(name, cost):
    x = T.dvector("x")
    f = thx.function([x], thx.gradient.hessian(cost(T, x), x))
    v = np.random.RandomState(0).randn(7)
    np.testing.assert_allclose(f(v), jax.hessian(lambda u: cost(jnp, u))(v), rtol=1e-12, atol=1e-12)


def test_elementwise_hessian_step_is_one_select_of_one_stored_vector():
    x = T.dvector("x")
    f = thx.function([x], thx.gradient.hessian(T.sum(x ** 2 * T.sin(x)), x))
    fg = _vmapped_step(f)
    out = fg.outputs[0].owner
    assert out.op.scalar_op.name == "switch"  # switch(i == arange(n), materialize(h(x)), 0)
    assert isinstance(out.inputs[1].owner.op, Materialize)
    kinds = [getattr(getattr(n.op, "scalar_op", None), "name", None) for n in fg.apply_nodes]
    assert kinds.count("switch") == 2  # the one-hot and the negative-index wrap of i
    # every sin / cos is computed before the map (below the one Materialize)
    below = set()
    stack = [out.inputs[1]]
    while stack:
        v = stack.pop()
        if v.owner is not None and v.owner not in below:
            below.add(v.owner)
            stack.extend(v.owner.inputs)
    trig = [n for n in fg.apply_nodes if kinds[list(fg.apply_nodes).index(n)] in ("sin", "cos")]
    assert trig and all(n in below for n in trig)


def test_jacobian_of_matrix_product_wrt_matrix_matches_jacrev():
    W, x = T.dmatrix("W"), T.dvector("x")
    f = thx.function([W, x], thx.gradient.jacobian(T.tanh(T.dot(W, x)), W))
    rs = np.random.RandomState(1)
    Wv, xv = rs.randn(3, 4), rs.randn(4)
    want = jax.jacrev(lambda w: jnp.tanh(w @ xv))(Wv)
    np.testing.assert_allclose(f(Wv, xv), want, rtol=1e-12, atol=1e-12)


def test_map_with_a_nonzero_base_increment_matches_numpy():
    # inc_subtensor(b[i], y) with a base that is not zeros keeps the add form
    x, b = T.dvector("x"), T.dvector("b")
    out, _ = thx.scan(lambda i, x, b: T.inc_subtensor(b[i], T.exp(x[i])) * T.cos(x),
                      sequences=T.arange(x.shape[0]), non_sequences=[x, b])
    f = thx.function([x, b], out)
    xv, bv = np.random.RandomState(2).randn(2, 5)
    want = np.stack([(bv + np.eye(5)[i] * np.exp(xv[i])) * np.cos(xv) for i in range(5)])
    np.testing.assert_allclose(f(xv, bv), want, rtol=1e-12)


def test_materialize_is_an_exact_identity_with_identity_gradient():
    x = T.dvector("x")
    v = np.array([-0.0, 0.0, np.nan, np.inf, -np.inf, 1.5, -2.25e-300])
    y = thx.function([x], materialize(x))(v)
    assert np.array_equal(y, v, equal_nan=True) and np.array_equal(np.signbit(y), np.signbit(v))
    g = thx.function([x], thx.grad(T.sum(materialize(x) ** 3), x))(v[5:])
    np.testing.assert_allclose(g, 3 * v[5:] ** 2)


def test_cheap_invariants_are_left_to_fusion():
    # the tutorial's Jacobian of x ** 2: the hoisted 2 * x is arithmetic, not worth a stored copy
    x = T.dvector("x")
    J, _ = thx.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(x.shape[0]),
                    non_sequences=[x ** 2, x])
    f = thx.function([x], J)
    fg = _vmapped_step(f)
    assert not any(isinstance(n.op, Materialize) for n in fg.apply_nodes)
    assert [getattr(n.op, "scalar_op", None) and n.op.scalar_op.name
            for n in fg.apply_nodes].count("switch") == 2
    np.testing.assert_allclose(f(np.arange(4.0)), np.diag(2 * np.arange(4.0)))


PRODUCTS = [
    ("weights_left", lambda m, W, v: m.tanh(m.dot(W, v))),
    ("weights_right", lambda m, W, v: m.tanh(m.dot(v, W))),
    ("sigmoid_left_plus_x", lambda m, W, v: 1 / (1 + m.exp(-m.dot(W, v))) + v ** 2),
]


def _dots(fg):
    from thx.tensor.math import Dot
    return sum(isinstance(n.op, Dot) for n in fg.apply_nodes)


@pytest.mark.parametrize("name,fn", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_jacobian_through_a_product_takes_a_row_not_a_product(name, fn):
    """onehot_dots: the step's dot(W.T, one-hot * u) is W[i] * u[i]; only the forward
    product (not batched: it does not depend on i) is left in the step."""
    x, W = T.dvector("x"), T.dmatrix("W")
    f = thx.function([x, W], thx.gradient.jacobian(fn(T, W, x), x))
    [scan] = [n.op for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    before = scan.fgraph.clone()
    from thx.rewriting.engine import optimize
    from thx.rewriting.mode import get_mode
    optimize(before, get_mode(scan.mode))
    after = optimize_inner(scan, vmapped=True)
    assert _dots(before) == 2 and _dots(after) == 1  # the backward product is gone
    rs = np.random.RandomState(3)
    for n in (1, 6):  # (a function per length: one is not padded to the other's)
        g = thx.function([x, W], thx.gradient.jacobian(fn(T, W, x), x)) if n == 1 else f
        xv, Wv = rs.randn(n), rs.randn(n, n)
        want = jax.jacrev(lambda u: fn(jnp, Wv, u))(xv)
        np.testing.assert_allclose(g(xv, Wv), want, rtol=1e-12, atol=1e-12)


def test_hessian_through_a_product_matches_jax():
    x, W = T.dvector("x"), T.dmatrix("W")
    f = thx.function([x, W], thx.gradient.hessian(T.sum(T.tanh(T.dot(W, x))), x))
    rs = np.random.RandomState(4)
    xv, Wv = rs.randn(5), rs.randn(4, 5)
    want = jax.hessian(lambda u: jnp.sum(jnp.tanh(Wv @ u)))(xv)
    np.testing.assert_allclose(f(xv, Wv), want, rtol=1e-12, atol=1e-12)


def test_jacobian_wrt_a_non_square_product_matches_jacrev():
    # W is 3 x 5: the one-hot has the length of x (5), the rows of the result the length of y (3)
    x, W = T.dvector("x"), T.dmatrix("W")
    f = thx.function([x, W], thx.gradient.jacobian(T.tanh(T.dot(W, x)), x))
    g = thx.function([x, W], thx.gradient.jacobian(T.tanh(T.dot(W.T, x)), W))
    rs = np.random.RandomState(5)
    xv, Wv = rs.randn(5), rs.randn(3, 5)
    np.testing.assert_allclose(f(xv, Wv), jax.jacrev(lambda u: jnp.tanh(Wv @ u))(xv), rtol=1e-12)
    x3 = rs.randn(3)
    np.testing.assert_allclose(g(x3, Wv), jax.jacrev(lambda w: jnp.tanh(w.T @ x3))(Wv), rtol=1e-12)


def test_a_one_hot_product_keeps_the_products_shape_check():
    # dot(A, one-hot of length n) with A's columns != n was the product's error; taken as a
    # column of A it would have returned numbers
    A, u = T.dmatrix("A"), T.dvector("u")
    out, _ = thx.scan(lambda i, A, u: T.dot(A, T.switch(T.eq(T.arange(u.shape[0]), i), u, 0.0)),
                      sequences=T.arange(u.shape[0]), non_sequences=[A, u])
    f = thx.function([A, u], out)
    Av, uv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(f(Av, uv), np.stack([Av[:, i] * uv[i] for i in range(3)]))
    g = thx.function([A, u], out)
    with pytest.raises(ValueError, match="SpecifyShape"):
        g(np.ones((2, 5)), uv)
