"""``theano.OpFromGraph``: Theano's documented examples, gradients and R-ops against
``jax.grad``/``jax.jvp`` of the same function, overrides, shared variables, inlining, nesting,
use inside scan, and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx import OpFromGraph, function, grad
from thx.gradient import NullTypeGradError
from thx.graph.fg import MissingInputError
from thx.graph.type import DisconnectedType, NullType

R = np.random.RandomState(3)
x, y, z = T.dscalars("x", "y", "z")


def _ops(f):
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


def test_theano_example_1_behaves_like_an_op():
    op = OpFromGraph([x, y, z], [x + y * z])
    fn = function([x, y, z], [op(x, y, z) + op(z, y, x)])
    np.testing.assert_allclose(fn(1., 2., 3.)[0], (1 + 2 * 3) + (3 + 2 * 1))
    assert _ops(fn).count("OpFromGraph") == 2  # inline=False keeps the nodes
    assert str(op) == "OpFromGraph{inline=False}"


def test_theano_example_2_reads_a_shared_variable_and_its_gradient_reaches_it():
    s = thx.shared(R.rand(2, 2))
    op = OpFromGraph([x, y, z], [x + y * z + s])
    fn = function([x, y, z], op(x, y, z) + op(z, y, x))
    np.testing.assert_allclose(fn(1., 2., 3.), 7 + 5 + 2 * s.get_value())
    gs = function([x, y, z], grad(T.sum(op(x, y, z) * s), s))(1., 2., 3.)
    np.testing.assert_allclose(gs, 7 + 2 * s.get_value())
    s.set_value(np.ones((2, 2)))  # the node reads the shared variable, not a copy of its value
    np.testing.assert_allclose(fn(1., 2., 3.), 14.0 * np.ones((2, 2)))


def test_theano_example_3_overrides_one_gradient():
    def rescale_dy(inps, grads):
        x_, y_, z_ = inps
        return z_ * 2

    op = OpFromGraph([x, y, z], [x + y * z], grad_overrides=["default", rescale_dy, "default"])
    dx, dy, dz = grad(op(x, y, z), [x, y, z])
    got = function([x, y, z], [dx, dy, dz])(2., 3., 4.)
    np.testing.assert_allclose(got, [1., 8., 3.])


def test_gradients_and_rop_match_jax():
    W, v = T.dmatrix("W"), T.dvector("v")
    layer = OpFromGraph([W, v], [T.tanh(T.dot(W, v)), T.sum(v ** 2)])
    h, n = layer(W, v)
    cost = T.sum(h ** 2) + 0.5 * n
    Wv, vv = R.randn(3, 4), R.randn(4)
    got = function([W, v], grad(cost, [W, v]))(Wv, vv)

    def jcost(a, b):
        return jnp.sum(jnp.tanh(a @ b) ** 2) + 0.5 * jnp.sum(b ** 2)
    with jax.enable_x64(True):
        want = jax.grad(jcost, argnums=(0, 1))(Wv, vv)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    ev = T.dvector("ev")
    tv = R.randn(4)
    r = function([W, v, ev], thx.Rop(h, v, ev))(Wv, vv, tv)
    with jax.enable_x64(True):
        _, t = jax.jvp(lambda b: jnp.tanh(Wv @ b), (vv,), (tv,))
    np.testing.assert_allclose(r, t, rtol=1e-10)


def test_second_derivative_through_the_gradient_op():
    v = T.dvector("v")
    op = OpFromGraph([v], [T.sum(T.sin(v) * v)])
    g = grad(op(v), v)
    hess = thx.gradient.hessian(op(v), v)
    vv = R.randn(3)
    got_g, got_h = function([v], [g, hess])(vv)
    with jax.enable_x64(True):
        f = lambda q: jnp.sum(jnp.sin(q) * q)  # noqa: E731
        np.testing.assert_allclose(got_g, jax.grad(f)(vv), rtol=1e-10)
        np.testing.assert_allclose(got_h, jax.hessian(f)(vv), rtol=1e-10)


def test_overrides_by_op_null_and_disconnected():
    gx, gy_ = T.dscalars("gx", "gy")
    custom = OpFromGraph([x, y, gx], [gx * 10, gx * 20])  # takes inputs + output gradients
    op = OpFromGraph([x, y], [x * y], grad_overrides=custom)
    got = function([x, y], grad(op(x, y), [x, y]))(2., 3.)
    np.testing.assert_allclose(got, [10., 20.])
    op_null = OpFromGraph([x, y], [x * y], grad_overrides=["default", NullType()()])
    np.testing.assert_allclose(function([x, y], grad(op_null(x, y), x))(2., 3.), 3.)
    with pytest.raises(NullTypeGradError):
        grad(op_null(x, y), y)
    op_disc = OpFromGraph([x, y], [x * y], grad_overrides=["default", DisconnectedType()()])
    with pytest.raises(thx.gradient.DisconnectedInputError):
        grad(op_disc(x, y), y)
    g0 = grad(op_disc(x, y), y, disconnected_inputs="ignore")
    assert function([x, y], g0, on_unused_input="ignore")(2., 3.) == 0.


def test_rop_override_callable():
    def rop(inputs, points):
        return [points[0] * 100 + points[1]]
    op = OpFromGraph([x, y], [x * y], rop_overrides=rop)
    ex, ey = T.dscalars("ex", "ey")
    got = function([x, y, ex, ey], thx.Rop(op(x, y), [x, y], [ex, ey]))(2., 3., 1., 5.)
    np.testing.assert_allclose(got, 105.)


def test_inline_puts_the_graph_into_the_function():
    op = OpFromGraph([x, y], [x * y + x], inline=True)
    f = function([x, y], op(x, y) * 2)
    assert "OpFromGraph" not in _ops(f)
    np.testing.assert_allclose(f(2., 3.), 16.)
    g = function([x, y], op(x, y), mode="FAST_COMPILE")
    assert "OpFromGraph" not in _ops(g)


def test_nested_and_applied_to_expressions():
    inner = OpFromGraph([x], [T.exp(x) - 1])
    outer = OpFromGraph([x, y], [inner(x) * inner(y)])
    f = function([x, y], [outer(x + 1, y), grad(outer(x + 1, y), x)])
    val, gx = f(0.5, 0.25)
    np.testing.assert_allclose(val, np.expm1(1.5) * np.expm1(0.25))
    np.testing.assert_allclose(gx, np.exp(1.5) * np.expm1(0.25))


def test_inside_a_scan_step_and_its_gradient():
    h, u = T.dvector("h"), T.dvector("u")
    W = T.dmatrix("W")
    cell = OpFromGraph([h, u, W], [T.tanh(T.dot(W, h) + u)])
    X = T.dmatrix("X")
    H, _ = thx.scan(lambda u_t, h_t, W_: cell(h_t, u_t, W_), sequences=X,
                    outputs_info=T.zeros_like(X[0]), non_sequences=W)
    cost = T.sum(H ** 2)
    f = function([X, W], [cost, grad(cost, W)])
    Xv, Wv = R.randn(5, 3), R.randn(3, 3) * 0.5

    def jcost(Wm):
        def step(hc, ut):
            hn = jnp.tanh(Wm @ hc + ut)
            return hn, hn
        _, hs = jax.lax.scan(step, jnp.zeros(3), Xv)
        return jnp.sum(hs ** 2)
    with jax.enable_x64(True):
        c, g = jax.value_and_grad(jcost)(Wv)
    got_c, got_g = f(Xv, Wv)
    np.testing.assert_allclose(got_c, c, rtol=1e-10)
    np.testing.assert_allclose(got_g, g, rtol=1e-10)


def test_shape_is_inferred_without_running_the_graph():
    m = T.dmatrix("m")
    op = OpFromGraph([m], [T.dot(m, m.T)])
    f = function([m], op(m).shape)
    assert "OpFromGraph" not in _ops(f)
    np.testing.assert_array_equal(f(np.zeros((3, 5))), [3, 3])


def test_perform_agrees_with_the_lowering_in_debugmode():
    m = T.dmatrix("m")
    op = OpFromGraph([m], [T.nnet.sigmoid(m).sum(axis=0)])
    f = function([m], grad(T.sum(op(m) ** 2), m), mode="DebugMode")
    mv = R.randn(3, 2)
    with jax.enable_x64(True):
        want = jax.grad(lambda q: jnp.sum(jnp.sum(jax.nn.sigmoid(q), axis=0) ** 2))(mv)
    np.testing.assert_allclose(f(mv), want, rtol=1e-10)


def test_errors():
    with pytest.raises(TypeError, match="outputs must be list"):
        OpFromGraph([x], x * 2)
    with pytest.raises(TypeError, match="updates and givens are not allowed"):
        OpFromGraph([x], [x * 2], updates=[])
    with pytest.raises(MissingInputError, match="depend on y"):
        OpFromGraph([x], [x * y])
    op = OpFromGraph([x], [x * 2])
    with pytest.raises(TypeError, match="Wrong type, expected"):
        op(T.dvector())
    with pytest.raises(ValueError, match="takes 1 inputs, got 2"):
        op(x, y)
    with pytest.raises(ValueError, match="Need to override 2 gradients, got 1"):
        grad(OpFromGraph([x, y], [x * y], grad_overrides=["default"])(x, y), x)
    with pytest.raises(TypeError, match="Gradient override should be"):
        grad(OpFromGraph([x], [x * 2], grad_overrides=3)(x), x)
