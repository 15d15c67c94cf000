"""A cost that reads only a scan's last state (``h[-1]``): its gradient starts the backward loop.

``T.grad`` gives the trace of ``h`` a gradient that is zeros but for its last
row.  Read as a sequence, it was a ``[steps, ...]`` array of zeros the
backward loop added to its adjoint at every step; ``scan_grad`` now puts the
row in the backward loop's initial adjoint instead (``_last_row_only`` in
``thx/scan/derivatives.py``).  Values are checked against ``jax.grad`` of
``lax.scan`` (truncated gradients with ``stop_gradient``); the backward loop
is compared with the one built for a cost whose gradient is not of that shape
(one sequence fewer).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from tests.oracle import assert_close
from thx.scan.op import Scan

RNG = np.random.RandomState(5)


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _backward_sequences(grads) -> int:
    """Sequences of the gradient's backward loop, as built (before the optimizer)."""
    [n] = {v.owner for g in grads for v in theano.graph.basic.ancestors([g])
           if v.owner is not None and isinstance(v.owner.op, Scan) and "grad" in v.owner.op.name}
    return n.op.n_seqs


def _rnn(batch):
    W, U, v = T.dmatrix("W"), T.dmatrix("U"), T.dvector("v")
    X = T.dtensor3("X") if batch else T.dmatrix("X")
    h0 = T.dmatrix("h0") if batch else T.dvector("h0")
    H, _ = theano.scan(lambda x, h, W, U: T.tanh(T.dot(h, W) + T.dot(x, U)), sequences=X,
                       outputs_info=h0, non_sequences=[W, U])
    return [W, U, X, h0, v], H


def _rnn_vals(batch, n=9, h=5, i=3):
    lead = (4,) if batch else ()
    return [RNG.randn(h, h) / 2, RNG.randn(i, h) / 2, RNG.randn(n, *lead, i), RNG.randn(*lead, h),
            RNG.randn(h)]


def _rnn_jax(W, U, X, h0, v, read):
    def body(h, x):
        h = jnp.tanh(h @ W + x @ U)
        return h, h
    return read(jax.lax.scan(body, h0, X)[1], v)


@pytest.mark.parametrize("batch", [False, True])
def test_gradient_of_the_last_state_against_jax(batch):
    ins, H = _rnn(batch)
    v = ins[-1]
    cost = T.sum(T.tanh(T.dot(H[-1], v)))
    grads = T.grad(cost, ins[:4])
    # before: output gradient, forward rows, and the step's residuals; after: one fewer
    other = T.grad(T.sum(T.tanh(T.dot(H[-2], v))), ins[:4])  # a second-to-last row: a sequence
    assert _backward_sequences(grads) == _backward_sequences(other) - 1
    vals = _rnn_vals(batch)
    got = theano.function(ins, grads)(*vals)
    want = jax.grad(lambda *a: _rnn_jax(*a, read=lambda Hs, v: jnp.sum(jnp.tanh(Hs[-1] @ v))),
                    argnums=(0, 1, 2, 3))(*[jnp.asarray(a) for a in vals])
    for g, w in zip(got, want):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)


def test_two_taps_and_a_truncated_gradient_against_jax():
    # a state read at taps [-2, -1] keeps two adjoints: the last row starts the first of them;
    # with truncate_gradient the loop still starts at the last step
    W, X, h0 = T.dmatrix("W"), T.dmatrix("X"), T.dmatrix("h0")
    n, vals = 8, [RNG.randn(4, 4) / 2, RNG.randn(8, 4), RNG.randn(2, 4)]
    for trunc in (-1, 3):
        H, _ = theano.scan(lambda x, a, b, W: T.tanh(T.dot(b, W) + 0.5 * a + x), sequences=X,
                           outputs_info=dict(initial=h0, taps=[-2, -1]), non_sequences=W,
                           truncate_gradient=trunc)
        last = T.sum(H[-1] ** 3)
        grads = T.grad(last, [W, X, h0])
        # the same cost plus a zero term on another row: its gradient is read as a sequence
        assert _backward_sequences(grads) == _backward_sequences(T.grad(last + 0.0 * T.sum(H[-3]),
                                                                       [W, X, h0])) - 1
        got = theano.function([W, X, h0], grads)(*vals)
        free = 0 if trunc == -1 else n - trunc  # steps run without gradient (Theano's truncation)

        def loss(W, X, h0, free=free):
            sg = jax.lax.stop_gradient
            a, b = (sg(h0[0]), sg(h0[1])) if free else (h0[0], h0[1])
            for t in range(n):
                if t == free and free:
                    a, b = sg(a), sg(b)
                Wt, xt = (sg(W), sg(X[t])) if t < free else (W, X[t])
                a, b = b, jnp.tanh(b @ Wt + 0.5 * a + xt)
            return jnp.sum(b ** 3)

        want = jax.grad(loss, argnums=(0, 1, 2))(*[jnp.asarray(v) for v in vals])
        for g, w in zip(got, want):
            assert_close(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)


def test_lstm_classifier_over_sentences_of_several_lengths():
    # the sentence classifier of bench.workloads.lstm_epoch: h[-1] of an LSTM; calls at several
    # lengths go through shape buckets (masked scans), where the last true step is not the last row
    from bench.workloads import LSTM_EPOCH_QUICK, lstm_epoch_data, lstm_epoch_jax, lstm_epoch_thx
    params, sents, targets = lstm_epoch_data(LSTM_EPOCH_QUICK, np.random.RandomState(0))
    got, step = lstm_epoch_thx(theano, T, params, sents, targets)
    want = lstm_epoch_jax(params, sents, targets)
    assert_close(np.asarray(got), np.asarray(want), rtol=1e-9, atol=1e-12)
    assert step._bucket is not None  # the epoch ran through the buckets


def test_go_backwards_is_covered_and_a_sum_over_steps_keeps_its_sequence():
    # go_backwards is a forward loop over the reversed sequence: its h[-1] starts the adjoint too;
    # mean(H) reads every row's gradient, which stays a sequence
    W, X, h0 = T.dmatrix("W"), T.dmatrix("X"), T.dvector("h0")
    vals = [RNG.randn(3, 3) / 2, RNG.randn(6, 3), RNG.randn(3)]
    for back, read, moved in ((True, lambda H: H[-1], True), (False, lambda H: H.mean(axis=0), False)):
        H, _ = theano.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=X, outputs_info=h0,
                           non_sequences=W, go_backwards=back)
        cost = T.sum(read(H) ** 2)
        grads = T.grad(cost, [W, X, h0])
        seq_form = T.grad(cost + 0.0 * T.sum(H[-3]), [W, X, h0])
        assert (_backward_sequences(grads) < _backward_sequences(seq_form)) == moved
        got = theano.function([W, X, h0], grads)(*vals)

        def loss(W, X, h0, back=back, read=read):
            def body(h, x):
                h = jnp.tanh(h @ W + x)
                return h, h
            Hs = jax.lax.scan(body, h0, X, reverse=back)[1]
            Hs = Hs[::-1] if back else Hs
            return jnp.sum(read(Hs) ** 2)

        want = jax.grad(loss, argnums=(0, 1, 2))(*[jnp.asarray(a) for a in vals])
        for g, w in zip(got, want):
            assert_close(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)
