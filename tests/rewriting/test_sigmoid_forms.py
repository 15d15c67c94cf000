"""``1 - sigmoid(x)``: rewritten to ``sigmoid(-x)`` where its relative error counts, kept where
``sigmoid(x)`` is computed anyway and the difference is only added or multiplied (the
gradient ``s * (1 - s)``, a GRU's update).  Structure is checked by counting ops in the
optimized graph and exponentials in the StableHLO XLA receives (against ``jax.grad``'s own
program); values against ``jax.grad`` and NumPy."""

import jax
import jax.numpy as jnp
import numpy as np

import thx
import thx.tensor as T
from tests.oracle import assert_close
from tests.rewriting.scan_helpers import scans, x64  # noqa: F401  (x64: an autouse fixture)


def _count(f, name):
    return sum(1 for n in f.maker.fgraph.toposort()
               if getattr(getattr(n.op, "scalar_op", None), "name", None) == name)


def _exps(text):
    return text.count("stablehlo.exponential")


def test_sigmoid_gradient_computes_one_exponential_like_jax():
    x, g = T.dvector("x"), T.dvector("g")
    f = thx.function([x, g], T.grad(T.sum(T.nnet.sigmoid(x) * g), x))
    assert _count(f, "sigmoid") == 1 and _count(f, "neg") == 0  # s * (1 - s), no sigmoid(-x)
    xv = np.array([-40.0, -3.0, 0.0, 0.5, 4.0, 40.0])
    gv = np.random.RandomState(0).randn(6)

    def jf(x, g):
        return jnp.sum(jax.nn.sigmoid(x) * g)
    jtext = jax.jit(jax.grad(jf)).lower(xv, gv).as_text()
    assert _exps(f.lower_text(xv, gv)) == _exps(jtext) == 1
    assert_close(f(xv, gv), np.asarray(jax.grad(jf)(xv, gv)), rtol=1e-12, atol=1e-300)


def test_gru_update_keeps_one_sigmoid():
    z, h, c = T.dvector("z"), T.dvector("h"), T.dvector("c")
    u = T.nnet.sigmoid(z)
    f = thx.function([z, h, c], u * h + (1 - u) * c)
    assert _count(f, "sigmoid") == 1
    zv, hv, cv = np.random.RandomState(1).randn(3, 5)
    s = 1 / (1 + np.exp(-zv))
    assert_close(f(zv, hv, cv), s * hv + (1 - s) * cv, rtol=1e-12)


def test_one_minus_sigmoid_alone_or_divided_is_still_stabilized():
    x = T.dvector("x")
    s = T.nnet.sigmoid(x)
    alone = thx.function([x], 1 - s)
    divided = thx.function([x], [s, s / (1 - s)])  # sigmoid(x) is used, but 1 - s is a divisor
    assert thx.pp(alone.maker.fgraph.outputs[0]) == "sigmoid((-x))"
    assert _count(divided, "sigmoid") == 2
    xv = np.array([-5.0, 0.0, 40.0])
    assert_close(alone(xv), 1 / (1 + np.exp(xv)), rtol=1e-12)
    assert_close(divided(xv)[1], np.exp(xv), rtol=1e-12)  # 1 - s would round to 0 at x = 40


def test_lstm_backward_step_recomputes_each_gate_once():
    X, h0, c0, W, U = T.dtensor3("X"), T.dmatrix("h0"), T.dmatrix("c0"), T.dmatrix("W"), T.dmatrix("U")
    H = 3

    def step(x, h, c, W, U):
        z = T.dot(x, W) + T.dot(h, U)
        i, f, o = (T.nnet.sigmoid(z[:, k * H:(k + 1) * H]) for k in range(3))
        c = f * c + i * T.tanh(z[:, 3 * H:])
        return [o * T.tanh(c), c]
    (hs, _), _ = thx.scan(step, sequences=X, outputs_info=[h0, c0], non_sequences=[W, U])
    cost = T.sum(hs ** 2)
    f = thx.function([X, h0, c0, W, U], [cost] + T.grad(cost, [W, U]))
    from thx.rewriting.scan import optimize_inner
    back = [op for op in scans(f) if op.reverse]
    assert back
    inner = optimize_inner(back[0], False)
    sig = [n for n in inner.apply_nodes if getattr(getattr(n.op, "scalar_op", None), "name", None) == "sigmoid"]
    assert len(sig) <= 3  # one per gate, no sigmoid(-z) beside it

    r = np.random.RandomState(2)
    vals = [r.randn(4, 2, 2), r.randn(2, 3) * 0.1, r.randn(2, 3) * 0.1, r.randn(2, 12) * 0.5, r.randn(3, 12) * 0.5]

    def jcost(X, h0, c0, W, U):
        def body(carry, x):
            h, c = carry
            z = x @ W + h @ U
            i, f_, o = (jax.nn.sigmoid(z[:, k * H:(k + 1) * H]) for k in range(3))
            c = f_ * c + i * jnp.tanh(z[:, 3 * H:])
            h = o * jnp.tanh(c)
            return (h, c), h
        return jnp.sum(jax.lax.scan(body, (h0, c0), X)[1] ** 2)
    want = [jcost(*vals)] + list(jax.grad(jcost, argnums=(3, 4))(*vals))
    for got, e in zip(f(*vals), want):
        assert_close(got, np.asarray(e), rtol=1e-10, atol=1e-12)


def test_a_transposed_non_sequence_is_not_transposed_per_step():
    # dot(W.T, delta) in the backward step: W.T is computed once, before the loop
    X, h0, W = T.dmatrix("X"), T.dvector("h0"), T.dmatrix("W")
    hs, _ = thx.scan(lambda x, h, W: T.tanh(T.dot(W, h) + x), sequences=X, outputs_info=h0, non_sequences=W)
    cost = T.sum(hs ** 2)
    f = thx.function([X, h0, W], [cost, T.grad(cost, W)])
    from thx.rewriting.scan import optimize_inner
    from thx.tensor.elemwise import DimShuffle
    for op in scans(f):
        inner = optimize_inner(op, False)
        nonseqs = set(inner.inputs[len(inner.inputs) - op.n_nonseqs:])
        assert not [n for n in inner.apply_nodes if isinstance(n.op, DimShuffle) and n.inputs[0] in nonseqs
                    and n.inputs[0].ndim == 2]
    r = np.random.RandomState(3)
    vals = [r.randn(5, 3), r.randn(3), r.randn(3, 3) * 0.5]

    def jcost(X, h0, W):
        def body(h, x):
            h = jnp.tanh(W @ h + x)
            return h, h
        return jnp.sum(jax.lax.scan(body, h0, X)[1] ** 2)
    got = f(*vals)
    assert_close(got[0], np.asarray(jcost(*vals)), rtol=1e-12)
    assert_close(got[1], np.asarray(jax.grad(jcost, argnums=2)(*vals)), rtol=1e-10, atol=1e-12)
