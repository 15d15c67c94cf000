"""Scan push-out rewrites (``thx/rewriting/scan_pushout.py``): what leaves the loop, and the
values and gradients after it, checked against ``jax.grad`` of hand-written ``lax.scan`` code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.compile.mode import Mode
from thx.scan.op import Scan
from thx.tensor.math import Dot
from tests.oracle import assert_close

RNG = np.random.RandomState(11)
NO_PUSHOUT = Mode(optimizer="fast_run").excluding("scan_pushout")


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def close(a, b):
    assert_close(np.asarray(a), np.asarray(b), rtol=1e-8, atol=1e-10)


def loops(f):
    """``[(loop name, nodes in its step, dots in its step, states, per-step outputs)]``, sorted."""
    out = []
    for n in f.maker.fgraph.toposort():
        if isinstance(n.op, Scan):
            nodes = n.op.fgraph.apply_nodes
            out.append((n.op.name, len(nodes), sum(isinstance(a.op, Dot) for a in nodes), n.op.n_rec,
                        n.op.n_nit))
    return sorted(out)


def dots_in_loops(f):
    return {name: d for name, _, d, _, _ in loops(f)}


def check(ins, outs, vals, want):
    """Compile with and without the push-outs; both must match ``want``. Returns both."""
    f, g = theano.function(ins, outs), theano.function(ins, outs, mode=NO_PUSHOUT)
    for got_f, got_g, w in zip(f(*vals), g(*vals), want):
        close(got_f, w)
        close(got_g, w)
    return f, g


def rnn_vals(n=7, h=5, i=4, batch=None):
    lead = () if batch is None else (batch,)
    return [RNG.randn(h, h) / 2, RNG.randn(h, i) / 2, RNG.randn(n, *lead, i), RNG.randn(*lead, h)]


# ------------------------------------------------------------------ tanh RNN, every way of writing it

FORMS = {
    # name: (thx step, jax step, weights transposed?, batched?)
    "dot(W, h)": (lambda x, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x)),
                  lambda x, h, W, U: jnp.tanh(W @ h + U @ x), False, None),
    "dot(h, W)": (lambda x, h, W, U: T.tanh(T.dot(h, W) + T.dot(x, U)),
                  lambda x, h, W, U: jnp.tanh(h @ W + x @ U), True, None),
    "batched dot(h, W)": (lambda x, h, W, U: T.tanh(T.dot(h, W) + T.dot(x, U)),
                          lambda x, h, W, U: jnp.tanh(h @ W + x @ U), True, 3),
    "batched dot(W, h.T).T": (lambda x, h, W, U: T.tanh(T.dot(W, h.T).T + T.dot(U, x.T).T),
                              lambda x, h, W, U: jnp.tanh((W @ h.T).T + (U @ x.T).T), False, 3),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_rnn_gradient_leaves_one_product_per_step(form):
    step, jstep, right, batch = FORMS[form]
    W, U, h0 = T.dmatrix("W"), T.dmatrix("U"), (T.dvector if batch is None else T.dmatrix)("h0")
    X = (T.dmatrix if batch is None else T.dtensor3)("X")
    H, _ = theano.scan(step, sequences=X, outputs_info=h0, non_sequences=[W, U])
    outs = [H] + T.grad(T.mean(H ** 2) + T.sum(H[-1] * H[1]), [W, U, X, h0])
    vals = rnn_vals(batch=batch)
    if right:
        vals[1] = vals[1].T.copy()

    def loss(W, U, X, h0):
        def body(h, x):
            h = jstep(x, h, W, U)
            return h, h
        Hs = jax.lax.scan(body, h0, X)[1]
        return jnp.mean(Hs ** 2) + jnp.sum(Hs[-1] * Hs[1]), Hs

    (_, Hs), grads = jax.value_and_grad(loss, argnums=(0, 1, 2, 3), has_aux=True)(*vals)
    f, g = check([W, U, X, h0], outs, vals, [Hs, *grads])
    # before: the forward step does U's product and the backward step recomputes it, does the
    # adjoint products and two per-step weight products; after: one product per step each way,
    # plus, for a batched state, the input's product (already a matrix product per step: batching
    # it before the loop would only store a [steps, batch, hidden] array for the loop to read) and
    # the two weight products (GEMMs per step, accumulated in the loop as jax.grad does: moved
    # out, they stored delta and h at every step; a vector state's outer products are moved)
    assert dots_in_loops(f) == ({"scan_fn": 1, "grad_of_scan_fn": 1} if batch is None
                                else {"scan_fn": 2, "grad_of_scan_fn": 3})
    assert sum(dots_in_loops(g).values()) >= 4
    # a vector state's weight accumulators left the backward loop: only its adjoint state
    # remains; a batched state's two stay, stored as the loop's last value only (save-mem)
    assert [n_rec for name, _, _, n_rec, _ in loops(f) if name == "grad_of_scan_fn"] == \
        [1 if batch is None else 3]


def test_truncated_and_reversed_rnn_gradients():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    for go_back in (False, True):
        H, _ = theano.scan(lambda x, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x)), sequences=X, outputs_info=h0,
                           non_sequences=[W, U], truncate_gradient=3, go_backwards=go_back)
        outs = T.grad(T.sum(H[-1] ** 2) + T.sum(H[0]), [W, U])
        vals = rnn_vals(n=6)

        def loss(W, U, X, h0, go_back=go_back):
            X = X[::-1] if go_back else X
            h, hs = h0, []
            for t in range(X.shape[0]):
                if t == X.shape[0] - 3:  # only the last 3 steps are backpropagated
                    h = jax.lax.stop_gradient(h)
                h = jnp.tanh(W @ h + U @ X[t])
                hs.append(h if t >= X.shape[0] - 3 else jax.lax.stop_gradient(h))
            return jnp.sum(hs[-1] ** 2) + jnp.sum(hs[0])

        f, _ = check([W, U, X, h0], outs, vals, jax.grad(loss, argnums=(0, 1))(*vals))
        assert dots_in_loops(f)["grad_of_scan_fn"] == 1


def test_two_taps_two_sequences():
    W1, W2, U, X, Y, h0 = (T.dmatrix("W1"), T.dmatrix("W2"), T.dmatrix("U"), T.dmatrix("X"), T.dmatrix("Y"),
                           T.dmatrix("h0"))
    H, _ = theano.scan(lambda x, y, h2, h1, W1, W2, U: T.tanh(T.dot(W1, h1) + T.dot(W2, h2) + T.dot(U, x) * y),
                       sequences=[X, Y], outputs_info=dict(initial=h0, taps=[-2, -1]), non_sequences=[W1, W2, U])
    ins = [W1, W2, U, X, Y, h0]
    outs = [H] + T.grad(T.sum(T.sin(H)), ins)
    n, h, i = 6, 4, 3
    vals = [RNG.randn(h, h) / 2, RNG.randn(h, h) / 2, RNG.randn(h, i), RNG.randn(n, i), RNG.randn(n, h),
            RNG.randn(2, h)]

    def loss(W1, W2, U, X, Y, h0):
        def body(c, xy):
            h2, h1 = c
            h = jnp.tanh(W1 @ h1 + W2 @ h2 + (U @ xy[0]) * xy[1])
            return (h1, h), h
        Hs = jax.lax.scan(body, (h0[0], h0[1]), (X, Y))[1]
        return jnp.sum(jnp.sin(Hs)), Hs

    (_, Hs), grads = jax.value_and_grad(loss, argnums=range(6), has_aux=True)(*vals)
    f, _ = check(ins, outs, vals, [Hs, *grads])
    assert dots_in_loops(f) == {"scan_fn": 2, "grad_of_scan_fn": 2}


# ------------------------------------------------------------------ gated steps

def lstm_step(x, h, c, Wx, Wh):
    z = T.dot(Wx, x) + T.dot(Wh, h)
    n = h.shape[0]
    i, f, o, u = T.nnet.sigmoid(z[:n]), T.nnet.sigmoid(z[n:2 * n]), T.nnet.sigmoid(z[2 * n:3 * n]), T.tanh(z[3 * n:])
    c = f * c + i * u
    return [o * T.tanh(c), c]


def lstm_jax(x, h, c, Wx, Wh):
    z = Wx @ x + Wh @ h
    n = h.shape[0]
    i, f, o, u = (jax.nn.sigmoid(z[:n]), jax.nn.sigmoid(z[n:2 * n]), jax.nn.sigmoid(z[2 * n:3 * n]),
                  jnp.tanh(z[3 * n:]))
    c = f * c + i * u
    return o * jnp.tanh(c), c


def gru_step(x, h, Wz, Uz, Wr, Ur, Wh, Uh):
    z = T.nnet.sigmoid(T.dot(x, Wz) + T.dot(h, Uz))
    r = T.nnet.sigmoid(T.dot(x, Wr) + T.dot(h, Ur))
    return (1 - z) * h + z * T.tanh(T.dot(x, Wh) + T.dot(r * h, Uh))


def gru_jax(x, h, Wz, Uz, Wr, Ur, Wh, Uh):
    z = jax.nn.sigmoid(x @ Wz + h @ Uz)
    r = jax.nn.sigmoid(x @ Wr + h @ Ur)
    return (1 - z) * h + z * jnp.tanh(x @ Wh + (r * h) @ Uh)


def test_lstm_gradient():
    Wx, Wh, X, h0, c0 = T.dmatrix("Wx"), T.dmatrix("Wh"), T.dmatrix("X"), T.dvector("h0"), T.dvector("c0")
    (H, C), _ = theano.scan(lstm_step, sequences=X, outputs_info=[h0, c0], non_sequences=[Wx, Wh])
    ins = [Wx, Wh, X, h0, c0]
    outs = [H] + T.grad(T.mean(H ** 2) + T.sum(C[-1]), ins)
    n, h, i = 5, 3, 4
    vals = [RNG.randn(4 * h, i) / 2, RNG.randn(4 * h, h) / 2, RNG.randn(n, i), RNG.randn(h), RNG.randn(h)]

    def loss(Wx, Wh, X, h0, c0):
        def body(hc, x):
            h, c = lstm_jax(x, *hc, Wx, Wh)
            return (h, c), (h, c)
        Hs, Cs = jax.lax.scan(body, (h0, c0), X)[1]
        return jnp.mean(Hs ** 2) + jnp.sum(Cs[-1]), Hs

    (_, Hs), grads = jax.value_and_grad(loss, argnums=range(5), has_aux=True)(*vals)
    f, g = check(ins, outs, vals, [Hs, *grads])
    assert dots_in_loops(f) == {"scan_fn": 1, "grad_of_scan_fn": 1}
    assert dots_in_loops(g)["grad_of_scan_fn"] > 1


def test_batched_gru_gradient():
    names = ["Wz", "Uz", "Wr", "Ur", "Wh", "Uh"]
    ws = [T.dmatrix(k) for k in names]
    X, h0 = T.dtensor3("X"), T.dmatrix("h0")
    H, _ = theano.scan(gru_step, sequences=X, outputs_info=h0, non_sequences=ws)
    ins = ws + [X, h0]
    outs = [H] + T.grad(T.mean(H ** 2), ins)
    n, b, h, i = 5, 2, 3, 4
    vals = [RNG.randn(*((i, h) if k.startswith("W") else (h, h))) / 2 for k in names] + [RNG.randn(n, b, i),
                                                                                       RNG.randn(b, h)]

    def loss(*a):
        def body(h, x):
            h = gru_jax(x, h, *a[:6])
            return h, h
        Hs = jax.lax.scan(body, a[7], a[6])[1]
        return jnp.mean(Hs ** 2), Hs

    (_, Hs), grads = jax.value_and_grad(loss, argnums=range(8), has_aux=True)(*vals)
    f, g = check(ins, outs, vals, [Hs, *grads])
    before, after = dots_in_loops(g), dots_in_loops(f)
    # a batched state: the x products are matrix products per step already, and stay in the step
    # (batched before the loop they would only store [steps, batch, 3 * hidden] for it to read)
    assert after["scan_fn"] == before["scan_fn"] == 6
    assert after["grad_of_scan_fn"] < before["grad_of_scan_fn"]


# ------------------------------------------------------------------ each rewrite on its own

def test_loop_invariant_work_moves_before_the_loop():
    W, b, h0 = T.dmatrix("W"), T.dvector("b"), T.dvector("h0")
    H, _ = theano.scan(lambda h, W, b: T.tanh(T.dot(W.T, h) + T.exp(b) * 2), outputs_info=h0,
                       non_sequences=[W, b], n_steps=4)
    vals = [RNG.randn(3, 3), RNG.randn(3), RNG.randn(3)]

    def ref(W, b, h0):
        return jax.lax.scan(lambda h, _: (jnp.tanh(W.T @ h + jnp.exp(b) * 2),) * 2, h0, None, length=4)[1]

    f, g = check([W, b, h0], [H], vals, [ref(*vals)])
    (_, n_after, _, _, _), = loops(f)
    (_, n_before, _, _, _), = loops(g)
    assert n_after == 3 and n_before > n_after  # dot, add, tanh: exp(b) * 2 and W.T are computed once


def test_per_step_output_products_and_accumulators_move_after_the_loop():
    V, W, X, h0, a0 = T.dmatrix("V"), T.dmatrix("W"), T.dmatrix("X"), T.dvector("h0"), T.dmatrix("a0")

    def step(x, h, acc, W, V):
        h = T.tanh(T.dot(W, h) + x)
        return [h, acc + T.outer(h, x) + T.exp(x).dimshuffle("x", 0)], T.dot(V, h)

    (H, A, Y), _ = theano.scan(lambda x, h, acc, W, V: step(x, h, acc, W, V)[0] + [step(x, h, acc, W, V)[1]],
                               sequences=X, outputs_info=[h0, a0, None], non_sequences=[W, V])
    ins = [V, W, X, h0, a0]
    outs = [Y, A[-1]] + T.grad(T.sum(Y ** 2) + T.sum(A[-1] ** 2), [V, W, X])
    n, h = 6, 4
    vals = [RNG.randn(2, h), RNG.randn(h, h) / 2, RNG.randn(n, h), RNG.randn(h), RNG.randn(h, h)]

    def run(V, W, X, h0, a0):
        def body(c, x):
            h, acc = c
            h = jnp.tanh(W @ h + x)
            return (h, acc + jnp.outer(h, x) + jnp.exp(x)[None, :]), V @ h
        (_, acc), Y = jax.lax.scan(body, (h0, a0), X)
        return Y, acc

    Y0, A0 = run(*vals)
    grads = jax.grad(lambda *a: jnp.sum(run(*a)[0] ** 2) + jnp.sum(run(*a)[1] ** 2), argnums=(0, 1, 2))(*vals)
    f, g = check(ins, outs, vals, [Y0, A0, *grads])
    fwd = [x for x in loops(f) if x[0] == "scan_fn"]
    # forward: only h's recurrence stays (1 state, no per-step output needing V), both before and after
    assert fwd == [("scan_fn", fwd[0][1], 1, 1, 0)]
    (_, _, dots, n_rec, n_nit), = [x for x in loops(g) if x[0] == "scan_fn"]
    assert dots >= 2 and (n_rec, n_nit) == (2, 1)  # before: the accumulator and dot(V, h) in the loop


def test_maps_are_left_to_vmap_and_a_vanishing_loop_still_checks_lengths():
    X, k, U = T.dmatrix("X"), T.iscalar("k"), T.dmatrix("U")
    Y, _ = theano.scan(lambda x, U: T.exp(T.dot(U, x)), sequences=X, non_sequences=U)
    f = theano.function([X, U], Y)
    x, u = RNG.randn(5, 3), RNG.randn(2, 3)
    close(f(x, u), np.exp(x @ u.T))
    assert loops(f) == [("scan_fn", 2, 1, 0, 1)]  # a map (dot, exp): jax.vmap batches its step as it is
    # a loop that only sums a sequence would vanish, but n_steps may be more than its rows: kept
    S, _ = theano.scan(lambda x, s: s + x, sequences=X, outputs_info=X[0] * 0, n_steps=k)
    g = theano.function([X, k], S[-1])
    close(g(x, 2), x[:2].sum(axis=0))
    assert [n_rec for _, _, _, n_rec, _ in loops(g)] == [1]
    with pytest.raises(ValueError, match="fewer than the 7 steps"):
        g(x, 7)
    # with n_steps = the sequence's length, the loop is one sum
    S, _ = theano.scan(lambda x, s: s + x, sequences=X, outputs_info=X[0] * 0)
    g = theano.function([X], S[-1])
    close(g(x), x.sum(axis=0))
    assert loops(g) == []


def test_mode_can_exclude_each_rewrite():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    H, _ = theano.scan(lambda x, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x)), sequences=X, outputs_info=h0,
                       non_sequences=[W, U])
    mode = Mode(optimizer="fast_run").excluding("local_scan_pushout_seqs")
    assert dots_in_loops(theano.function([W, U, X, h0], H, mode=mode)) == {"scan_fn": 2}
    assert dots_in_loops(theano.function([W, U, X, h0], H)) == {"scan_fn": 1}


def test_sequence_taps_and_a_stop_condition():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    H, _ = theano.scan(lambda x0, x1, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x1 - x0)),
                       sequences=dict(input=X, taps=[-1, 0]), outputs_info=h0, non_sequences=[W, U])
    vals = rnn_vals(n=6)

    def loss(W, U, X, h0):
        def body(h, xs):
            h = jnp.tanh(W @ h + U @ (xs[1] - xs[0]))
            return h, h
        Hs = jax.lax.scan(body, h0, (X[:-1], X[1:]))[1]
        return jnp.sum(Hs ** 3), Hs

    (_, Hs), grads = jax.value_and_grad(loss, argnums=range(4), has_aux=True)(*vals)
    f, _ = check([W, U, X, h0], [H] + T.grad(T.sum(H ** 3), [W, U, X, h0]), vals, [Hs, *grads])
    assert dots_in_loops(f) == {"scan_fn": 1, "grad_of_scan_fn": 1}

    # until: loop-invariant and sequence work leave the loop; the accumulator stays (the number
    # of steps is known only at the end)
    (S, A), _ = theano.scan(lambda x, h, a, W: ([T.tanh(T.dot(T.exp(W), h) + x), a + T.sum(x)],
                                                theano.scan_module.until(T.sum(h) > 1e9)),
                            sequences=X, outputs_info=[h0[:4], T.constant(0.0, dtype="float64")], non_sequences=W)
    g = theano.function([X, W, h0], [S, A])
    x, w, h = RNG.randn(5, 4), RNG.randn(4, 4) / 4, RNG.randn(5)
    want_s, hh = [], h[:4]
    for t in range(5):
        hh = np.tanh(np.exp(w) @ hh + x[t])
        want_s.append(hh)
    got_s, got_a = g(x, w, h)
    close(got_s, np.stack(want_s))
    close(got_a, np.cumsum(x.sum(axis=1)))
    ((_, nodes, _, n_rec, _),) = loops(g)
    assert n_rec == 2 and nodes == 6  # dot, add, tanh; add (the sums of x's rows are a sequence); sum, gt


def test_a_full_size_per_step_term_keeps_its_accumulator_in_the_loop():
    # storing outer(h, h) * W at every step would cost steps x the accumulator's memory
    W, h0, a0 = T.dmatrix("W"), T.dvector("h0"), T.dmatrix("a0")
    (H, A), _ = theano.scan(lambda h, a, W: [T.tanh(T.dot(W, h)), a + T.outer(h, h) * W],
                            outputs_info=[h0, a0], non_sequences=W, n_steps=4)
    f = theano.function([W, h0, a0], A[-1])
    w, h, a = RNG.randn(3, 3), RNG.randn(3), RNG.randn(3, 3)
    want_h, want_a = h, a
    for _ in range(4):
        want_h, want_a = np.tanh(w @ want_h), want_a + np.outer(want_h, want_h) * w
    close(f(w, h, a), want_a)
    assert [n_rec for _, _, _, n_rec, _ in loops(f)] == [2]
