"""The fast backward pass of a batched RNN: forward results read from the traces, and (once
the optimizer's scan push-outs ran) the weight gradients as one matrix product after the loop.  Checked against ``jax.grad`` of the
equivalent ``lax.scan``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.graph.basic import toposort
from thx.scan.op import Scan
from thx.tensor.math import Dot

RNG = np.random.RandomState(7)


from tests.scan.conftest import close  # noqa: E402,F401


def data(steps=6, batch=3, d_in=4, d_h=5):
    return [RNG.randn(steps, batch, d_in), RNG.randn(batch, d_h), RNG.randn(d_in, d_h) / 2,
            RNG.randn(d_h, d_h) / 2, 0.1 * RNG.randn(d_h)]


def backward_scans(outputs):
    return [n.op for n in toposort(outputs) if isinstance(n.op, Scan) and n.op.name.startswith("grad_of")]


def test_batched_rnn_gradient_matches_jax_grad_of_lax_scan():
    X, h0, W, U, b = T.dtensor3("X"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    h, _ = theano.scan(lambda x, h, W, U, b: T.tanh(T.dot(x, W) + T.dot(h, U) + b),
                       sequences=X, outputs_info=h0, non_sequences=[W, U, b])
    cost = T.mean(h ** 2) + T.sum(h[-1] * h[2])
    ins = [X, h0, W, U, b]
    grads = theano.grad(cost, ins)
    # once compiled, the backward step does three matrix products: the adjoint through U and
    # the two weight gradients' GEMMs, accumulated as jax.grad does (thx/rewriting/scan_pushout.py,
    # _per_step_gemm); the forward step is not recomputed, and X's gradient (δ·Wᵀ) is one
    # product over all steps after the loop
    f = theano.function(ins, grads)
    (bop,) = backward_scans(f.maker.fgraph.outputs)
    assert sum(isinstance(n.op, Dot) for n in bop.fgraph.apply_nodes) == 3

    def cost_jax(X, h0, W, U, b):
        def step(h, x):
            h = jnp.tanh(x @ W + h @ U + b)
            return h, h
        hs = jax.lax.scan(step, h0, X)[1]
        return jnp.mean(hs ** 2) + jnp.sum(hs[-1] * hs[2])

    vals = data()
    for got, want in zip(f(*vals), jax.grad(cost_jax, argnums=range(5))(*vals)):
        close(got, want)


def test_two_tap_go_backwards_truncated_rnn_gradient_matches_jax():
    X, h0, W, U, V = (T.dtensor3("X"), T.dtensor3("h0"), T.dmatrix("W"), T.dmatrix("U"),
                      T.dmatrix("V"))
    h, _ = theano.scan(lambda x, h2, h1, W, U, V: T.tanh(T.dot(x, W) + T.dot(h1, U) + T.dot(h2, V)),
                       sequences=X, outputs_info=dict(initial=h0, taps=[-2, -1]),
                       non_sequences=[W, U, V], go_backwards=True)
    cost = T.sum(T.sin(h))
    ins = [X, h0, W, U, V]
    f = theano.function(ins, theano.grad(cost, ins))

    def cost_jax(X, h0, W, U, V):
        def step(c, x):
            h2, h1 = c
            h = jnp.tanh(x @ W + h1 @ U + h2 @ V)
            return (h1, h), h
        hs = jax.lax.scan(step, (h0[0], h0[1]), X[::-1])[1]
        return jnp.sum(jnp.sin(hs))

    X0, _, W0, U0, _ = data()
    vals = [X0, RNG.randn(2, 3, 5), W0, U0, RNG.randn(5, 5) / 2]
    for got, want in zip(f(*vals), jax.grad(cost_jax, argnums=range(5))(*vals)):
        close(got, want)

    # truncated: only the last 3 steps are backpropagated, in thx as in Theano
    ht, _ = theano.scan(lambda x, h, W, U: T.tanh(T.dot(x, W) + T.dot(h, U)), sequences=X,
                        outputs_info=h0[0], non_sequences=[W, U], truncate_gradient=3)
    gt = theano.function([X, h0, W, U], theano.grad(T.sum(ht[-1] ** 2), [W, U]))

    def cost_trunc(W, U, X, h0):
        h = h0[0]
        for t in range(X.shape[0]):
            if t == X.shape[0] - 3:
                h = jax.lax.stop_gradient(h)
            h = jnp.tanh(X[t] @ W + h @ U)
        return jnp.sum(h ** 2)

    for got, want in zip(gt(X0, vals[1], W0, U0), jax.grad(cost_trunc, argnums=(0, 1))(W0, U0, X0, vals[1])):
        close(got, want)


def test_second_derivative_through_the_fast_backward_pass_matches_jax():
    X, h0, W, U, b = T.dtensor3("X"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    h, _ = theano.scan(lambda x, h, W, U, b: T.tanh(T.dot(x, W) + T.dot(h, U) + b),
                       sequences=X, outputs_info=h0, non_sequences=[W, U, b])
    gW = theano.grad(T.mean(h ** 2), W)
    ins = [X, h0, W, U, b]
    f = theano.function(ins, theano.grad(T.sum(gW ** 2), [W, U, b]))

    def cost_jax(X, h0, W, U, b):
        def step(h, x):
            h = jnp.tanh(x @ W + h @ U + b)
            return h, h
        return jnp.mean(jax.lax.scan(step, h0, X)[1] ** 2)

    g = jax.grad(cost_jax, argnums=2)
    vals = data(steps=4)
    want = jax.grad(lambda *a: jnp.sum(g(*a) ** 2), argnums=(2, 3, 4))(*vals)
    for got, w in zip(f(*vals), want):
        close(got, w)
