"""Scan gradients read forward residuals stored by the forward loop (thx/scan/residuals.py).

The backward step no longer recomputes the forward step's products and gates: an augmented
forward scan stores them, the optimizer merges it into the forward loop (one loop, one copy of
each state), and the backward step reads them as sequences.  Checked on the compiled graphs
(op counts before/after) and against ``jax.grad`` of the equivalent ``lax.scan``.
"""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.scan.op import Scan
from thx.scan_module import until
from bench.rnn_matrix import Case, _Ops, _step
from tests.scan.conftest import close

residuals = importlib.import_module("thx.scan.residuals")  # thx.scan is also the function


# ----------------------------------------------------------------- the cells, on both front ends
# (bench/rnn_matrix.py's: one step written once over thx.tensor and jax.numpy)

def Ops(batched, right, H, on_thx):
    return _Ops(Case("tanh", batched, right, 1, 1, 1, H), on_thx)


def step_of(cell, o):
    return _step(Case(cell, o.c.batched, o.c.right, 1, 1, 1, o.c.hidden), o)


def arrays(cell, batched, right, steps=5, B=3, D=4, H=5, seed=0):
    rng = np.random.RandomState(seed)
    x_shape = ((steps, B, D) if right else (steps, D, B)) if batched else (steps, D)
    h_shape = ((B, H) if right else (H, B)) if batched else (H,)

    def w(n_out, n_in):
        a = rng.randn(n_out, n_in) / np.sqrt(n_in)
        return a.T.copy() if right else a
    states = [0.3 * rng.randn(*h_shape)] * (2 if cell == "lstm" else 1)
    if cell == "tanh":
        ws = [w(H, D), w(H, H), 0.1 * rng.randn(H)]
    elif cell == "lstm":
        ws = [w(4 * H, D), w(4 * H, H), 0.1 * rng.randn(4 * H)]
    else:
        ws = [w(2 * H, D), w(2 * H, H), 0.1 * rng.randn(2 * H), w(H, D), w(H, H), 0.1 * rng.randn(H)]
    return [rng.randn(*x_shape)], states, ws


def thx_grad(cell, batched, right, vals, H=5, **scan_kw):
    """Compiled ``[cost] + grad(cost, every input)`` of the cell's scan."""
    seqs, states, ws = vals
    var = lambda a, n: T.TensorType("float64", (False,) * a.ndim)(n)  # noqa: E731
    xs = [var(a, f"x{k}") for k, a in enumerate(seqs)]
    h0 = [var(a, f"h{k}") for k, a in enumerate(states)]
    wv = [var(a, f"w{k}") for k, a in enumerate(ws)]
    out, _ = theano.scan(step_of(cell, Ops(batched, right, H, True)), sequences=xs, outputs_info=h0,
                         non_sequences=wv, **scan_kw)
    hs = out[0] if isinstance(out, (list, tuple)) else out
    cost = T.sum(hs ** 2) + T.sum(T.sin(hs[-1]))
    ins = xs + h0 + wv
    return theano.function(ins, [cost] + theano.grad(cost, ins))


def jax_grad(cell, batched, right, vals, H=5, go_backwards=False):
    seqs, states, ws = vals
    step = step_of(cell, Ops(batched, right, H, False))

    def loss(x, *rest):
        h0, w = rest[:len(states)], rest[len(states):]

        def body(carry, xt):
            new = step(xt, *carry, *w)
            return tuple(new), new[0]
        hs = jax.lax.scan(body, tuple(h0), x[::-1] if go_backwards else x)[1]
        return jnp.sum(hs ** 2) + jnp.sum(jnp.sin(hs[-1]))
    args = list(seqs) + list(states) + list(ws)
    return [loss(*args)] + list(jax.grad(loss, argnums=range(len(args)))(*args))


def scans(f):
    return [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def inner_count(op, name):
    """How many nodes of the scan's step are ``name`` (an op class or an elementwise op)."""
    return sum(type(n.op).__name__ == name or str(n.op).startswith(f"Elemwise{{{name},")
               for n in op.fgraph.apply_nodes)


def backward(f):
    (op,) = [op for op in scans(f) if op.name.startswith("grad_of")]
    return op


@pytest.fixture
def recompute():
    """Build gradients the way they were built before residuals: recompute everything."""
    residuals.STORE = False
    yield
    residuals.STORE = True


# ----------------------------------------------------------------- the inner graphs, before/after

@pytest.mark.parametrize("right", [False, True])
def test_gru_backward_step_reads_its_gates_instead_of_recomputing_them(right, recompute):
    vals = arrays("gru", True, right)
    before = thx_grad("gru", True, right, vals)
    residuals.STORE = True
    after = thx_grad("gru", True, right, vals)
    # both: the four weight gradients' GEMMs, accumulated in the loop (_per_step_gemm)
    # before: the backward step recomputed dot(x, Wg), dot(h, Ug), dot(x, Wc), dot(r * h, Uc)
    # and the gates, next to its two adjoint products (through Ug and Uc)
    assert inner_count(backward(before), "Dot") == 4 + 6
    assert inner_count(backward(before), "sigmoid") >= 2
    # after: only the two adjoint products are left; the gates come from the forward loop
    assert inner_count(backward(after), "Dot") == 4 + 2
    assert inner_count(backward(after), "sigmoid") == 0
    assert inner_count(backward(after), "tanh") == 0
    # one forward loop (the augmented scan merged into it, its state carried once)
    fwd = [op for op in scans(after) if not op.name.startswith("grad_of")]
    assert len(fwd) == 1 and fwd[0].n_rec == 1 and fwd[0].n_nit == 3
    for got, want in zip(after(*sum(vals, [])), jax_grad("gru", True, right, vals)):
        close(got, want)


def test_lstm_backward_step_does_one_product_and_no_gate(recompute):
    vals = arrays("lstm", True, True)
    before = thx_grad("lstm", True, True, vals)
    residuals.STORE = True
    after = thx_grad("lstm", True, True, vals)
    # both: the two weight gradients' GEMMs (_per_step_gemm); before: dot(x, W), dot(h, U) and
    # the adjoint's; after: the adjoint's
    assert inner_count(backward(before), "Dot") == 2 + 3
    assert inner_count(backward(before), "sigmoid") >= 3
    assert inner_count(backward(after), "Dot") == 2 + 1
    assert inner_count(backward(after), "sigmoid") == 0
    assert inner_count(backward(after), "tanh") == 0
    fwd = [op for op in scans(after) if not op.name.startswith("grad_of")]
    assert len(fwd) == 1 and fwd[0].n_rec == 2  # h and c, each carried once


def test_tanh_rnn_stores_nothing_new():
    # tanh's derivative needs only h, which the forward trace already holds
    vals = arrays("tanh", True, True)
    f = thx_grad("tanh", True, True, vals)
    (fwd,) = [op for op in scans(f) if not op.name.startswith("grad_of")]
    assert fwd.n_nit == 0
    assert inner_count(backward(f), "tanh") == 0


# ----------------------------------------------------------------- values against jax.grad

@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("right", [False, True])
def test_gradients_match_jax(cell, batched, right):
    vals = arrays(cell, batched, right, seed=hash((cell, batched, right)) % 1000)
    f = thx_grad(cell, batched, right, vals)
    for got, want in zip(f(*sum(vals, [])), jax_grad(cell, batched, right, vals)):
        close(got, want)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_go_backwards_matches_jax(cell):
    vals = arrays(cell, True, True, seed=3)
    f = thx_grad(cell, True, True, vals, go_backwards=True)
    for got, want in zip(f(*sum(vals, [])), jax_grad(cell, True, True, vals, go_backwards=True)):
        close(got, want)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_truncate_gradient_matches_the_recomputing_gradient(cell, recompute):
    # a truncated gradient is not jax.grad's: the reference is thx's own recomputing gradient,
    # itself checked against truncated BPTT in tests/scan/test_scan_grad.py
    vals = arrays(cell, True, False, steps=7, seed=4)
    want = thx_grad(cell, True, False, vals, truncate_gradient=3)(*sum(vals, []))
    residuals.STORE = True
    f = thx_grad(cell, True, False, vals, truncate_gradient=3)
    assert inner_count(backward(f), "sigmoid") == 0
    for got, w in zip(f(*sum(vals, [])), want):
        close(got, w)


def test_two_taps_two_sequences_match_jax():
    rng = np.random.RandomState(5)
    X1, X2, h0 = T.dtensor3("X1"), T.dtensor3("X2"), T.dtensor3("h0")
    W1, W2, U1, U2 = (T.dmatrix(n) for n in ("W1", "W2", "U1", "U2"))

    def step(x1, x2, h2, h1, W1, W2, U1, U2):
        z = T.dot(x1, W1) + T.dot(x2, W2) + T.dot(h1, U1)
        return T.nnet.sigmoid(T.dot(h2, U2)) * T.tanh(z)
    h, _ = theano.scan(step, sequences=[X1, X2], outputs_info=dict(initial=h0, taps=[-2, -1]),
                       non_sequences=[W1, W2, U1, U2])
    cost = T.sum(h ** 2)
    ins = [X1, X2, h0, W1, W2, U1, U2]
    f = theano.function(ins, theano.grad(cost, ins))
    assert inner_count(backward(f), "sigmoid") == 0 and inner_count(backward(f), "tanh") == 0

    def cost_jax(X1, X2, h0, W1, W2, U1, U2):
        def body(c, x):
            h2, h1 = c
            h = jax.nn.sigmoid(h2 @ U2) * jnp.tanh(x[0] @ W1 + x[1] @ W2 + h1 @ U1)
            return (h1, h), h
        return jnp.sum(jax.lax.scan(body, (h0[0], h0[1]), (X1, X2))[1] ** 2)
    vals = [rng.randn(6, 2, 3), rng.randn(6, 2, 3), rng.randn(2, 2, 4)] + \
           [rng.randn(3, 4) / 2, rng.randn(3, 4) / 2, rng.randn(4, 4) / 2, rng.randn(4, 4) / 2]
    for got, want in zip(f(*vals), jax.grad(cost_jax, argnums=range(7))(*vals)):
        close(got, want)


def test_until_scan_recomputes_and_stays_correct():
    # a loop with a stop condition cannot be merged: its gradient stores nothing
    x0, W = T.dvector("x0"), T.dmatrix("W")
    h, _ = theano.scan(lambda h, W: (T.nnet.sigmoid(T.dot(W, h)), until(T.sum(h) > 1e9)),
                       outputs_info=x0, non_sequences=W, n_steps=4)
    cost = T.sum(h ** 2)
    f = theano.function([x0, W], theano.grad(cost, [x0, W]))
    assert all(op.n_nit == 0 for op in scans(f) if not op.name.startswith("grad_of"))

    def cost_jax(x0, W):
        def body(h, _):
            h = jax.nn.sigmoid(W @ h)
            return h, h
        return jnp.sum(jax.lax.scan(body, x0, None, length=4)[1] ** 2)
    rng = np.random.RandomState(6)
    vals = [rng.randn(3), rng.randn(3, 3)]
    for got, want in zip(f(*vals), jax.grad(cost_jax, argnums=(0, 1))(*vals)):
        close(got, want)


def test_second_derivative_through_residuals():
    # the gradient reads the augmented scan's rows; differentiating it again goes through them
    x, W = T.dmatrix("x"), T.dmatrix("W")
    h, _ = theano.scan(lambda xt, h, W: T.nnet.sigmoid(T.dot(W, h) + xt), sequences=x,
                       outputs_info=T.zeros_like(x[0]), non_sequences=W)
    g = theano.grad(T.sum(h ** 2), W)
    f = theano.function([x, W], theano.grad(T.sum(g ** 2), W))

    def cost_jax(x, W):
        def body(h, xt):
            h = jax.nn.sigmoid(W @ h + xt)
            return h, h
        return jnp.sum(jax.lax.scan(body, jnp.zeros_like(x[0]), x)[1] ** 2)
    rng = np.random.RandomState(8)
    vals = [rng.randn(4, 3), rng.randn(3, 3) / 2]
    want = jax.grad(lambda x, W: jnp.sum(jax.grad(cost_jax, argnums=1)(x, W) ** 2), argnums=1)(*vals)
    close(f(*vals), want)


def test_two_gradients_of_one_scan_store_their_residuals_once():
    vals = arrays("gru", True, True, seed=9)
    seqs, states, ws = vals
    var = lambda a, n: T.TensorType("float64", (False,) * a.ndim)(n)  # noqa: E731
    xs, h0 = [var(seqs[0], "x")], [var(states[0], "h0")]
    wv = [var(a, f"w{k}") for k, a in enumerate(ws)]
    hs, _ = theano.scan(step_of("gru", Ops(True, True, 5, True)), sequences=xs, outputs_info=h0,
                        non_sequences=wv)
    f = theano.function(xs + h0 + wv, theano.grad(T.sum(hs ** 2), wv[:3])
                        + theano.grad(T.sum(T.sin(hs)), wv[3:]))
    (fwd,) = [op for op in scans(f) if not op.name.startswith("grad_of")]
    assert (fwd.n_rec, fwd.n_nit) == (1, 3)  # one state, r, u and the candidate, once

    step = step_of("gru", Ops(True, True, 5, False))

    def trace(x, h, *w):
        return jax.lax.scan(lambda c, xt: (step(xt, c, *w)[0],) * 2, h, x)[1]
    args = sum(vals, [])
    want = (list(jax.grad(lambda *a: jnp.sum(trace(*a) ** 2), argnums=(2, 3, 4))(*args))
            + list(jax.grad(lambda *a: jnp.sum(jnp.sin(trace(*a))), argnums=(5, 6, 7))(*args)))
    for got, w in zip(f(*args), want):
        close(got, w)


def test_a_scan_in_the_step_is_recomputed_not_stored():
    # the inner loop's trace (2 steps per outer step) and the values computed from it hold a
    # loop's worth of steps per step: the backward step recomputes them (Theano's behaviour,
    # and what scan_checkpoints relies on); the forward loop stores no per-step matrix
    X, W, h0 = T.dmatrix("X"), T.dmatrix("W"), T.dvector("h0")

    def outer_step(x, h, W):
        inner, _ = theano.scan(lambda a, W: T.nnet.sigmoid(T.dot(W, a)), outputs_info=h,
                               non_sequences=W, n_steps=2)
        return T.tanh(inner[-1] + x)
    H, _ = theano.scan(outer_step, sequences=X, outputs_info=h0, non_sequences=W)
    f = theano.function([X, W, h0], theano.grad(T.sum(H ** 2), [X, W, h0]))
    assert [op.name for op in scans(f)].count("scan_fn") == 1  # one forward loop
    [fwd] = [op for op in scans(f) if op.name == "scan_fn"]
    per_step = fwd.fgraph.outputs[fwd.n_rec:fwd.n_rec + fwd.n_nit]
    assert all(v.ndim <= 1 for v in per_step), [v.type for v in per_step]

    def ref(X, W, h0):
        def step(h, x):
            a = h
            for _ in range(2):
                a = jax.nn.sigmoid(W @ a)
            h = jnp.tanh(a + x)
            return h, h
        return jnp.sum(jax.lax.scan(step, h0, X)[1] ** 2)
    rng = np.random.RandomState(10)
    vals = [rng.randn(4, 3), rng.randn(3, 3) / 2, rng.randn(3)]
    for got, want in zip(f(*vals), jax.grad(ref, argnums=(0, 1, 2))(*vals)):
        close(got, want)
