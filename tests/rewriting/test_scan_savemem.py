"""Scan rewrites in the outer optimizer: pruning unread outputs and unused inputs, and keeping
only the steps an output's readers need (``store_steps``).  Values and gradients are checked
against hand-written JAX or NumPy on random inputs; structure by counting outputs and by the
HLO XLA receives (no ``[n_steps, ...]`` array for a stored state)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.mode import Mode
from thx.config import config
from thx.scan.op import Scan
from tests.oracle import assert_close
from tests.rewriting.scan_helpers import scans, x64  # noqa: F401  (x64: an autouse fixture)

NO_SCAN_REWRITES = Mode(optimizer="fast_run").excluding("scan")
# the push-outs (test_scan_pushout.py) turn U's products into one (n_steps, 4) sequence before the
# loop and keep delta per step for the weight gradients: the structure checked here is without them
NO_PUSHOUTS = Mode(optimizer="fast_run").excluding("scan_pushout")


def rnn():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    H, _ = thx.scan(lambda x_t, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x_t)),
                    sequences=X, outputs_info=h0, non_sequences=[W, U])
    return [W, U, X, h0], H


def jax_rnn(W, U, X, h0):
    def step(h, x):
        h = jnp.tanh(W @ h + U @ x)
        return h, h
    return jax.lax.scan(step, h0, X)[1]


def values(n=7, seed=0):
    r = np.random.RandomState(seed)
    return [r.randn(4, 4) * 0.4, r.randn(4, 3) * 0.4, r.randn(n, 3), r.randn(4)]


def test_prune_drops_the_unrequested_sequence_gradient():
    ins, H = rnn()
    cost = T.mean(H ** 2)
    before = thx.function(ins, T.grad(cost, ins[:2]), mode=NO_SCAN_REWRITES)
    after = thx.function(ins, T.grad(cost, ins[:2]), mode=NO_PUSHOUTS)
    grad_before = [op for op in scans(before) if op.reverse][0]
    grad_after = [op for op in scans(after) if op.reverse][0]
    assert grad_before.n_nit == 1  # dX, one row per step, that nobody reads
    assert grad_after.n_nit == 0
    assert grad_after.n_nonseqs == grad_before.n_nonseqs - 1  # U served only dX = U.T @ delta
    assert len(grad_after.fgraph.apply_nodes) < len(grad_before.fgraph.apply_nodes)
    assert grad_after.store_steps == (1,) * grad_after.n_rec  # all its states: the carry only
    vals = values()
    expect = jax.grad(lambda W, U: jnp.mean(jax_rnn(W, U, *vals[2:]) ** 2), argnums=(0, 1))(*vals[:2])
    for got, b, e in zip(after(*vals), before(*vals), expect):
        assert_close(got, np.asarray(e), rtol=1e-10, atol=1e-12)
        assert_close(b, np.asarray(e), rtol=1e-10, atol=1e-12)


def test_prune_keeps_states_a_read_output_depends_on():
    x, a0, b0, c0 = T.dvector("x"), T.dscalar("a0"), T.dscalar("b0"), T.dscalar("c0")
    w = T.dscalar("w")
    # a feeds b; c (with its own non-sequence w) feeds nothing read
    (a, b, c), _ = thx.scan(lambda x_t, a, b, c, w: [a + x_t, b * 0.5 + a, c * w + x_t],
                            sequences=x, outputs_info=[a0, b0, c0], non_sequences=w)
    f = thx.function([x, a0, b0, c0, w], b, on_unused_input="ignore")
    (op,) = scans(f)
    assert op.n_rec == 2 and op.n_nonseqs == 0
    (op0,) = scans(thx.function([x, a0, b0, c0, w], b, mode=NO_SCAN_REWRITES, on_unused_input="ignore"))
    assert op0.n_rec == 3 and op0.n_nonseqs == 1
    xv = np.random.RandomState(1).randn(6)
    av, bv, expect = 0.3, -0.2, []
    for t in range(6):
        av, bv = av + xv[t], bv * 0.5 + av
        expect.append(bv)
    assert_close(f(xv, 0.3, -0.2, 0.1, 2.0), np.array(expect))


def test_last_state_is_stored_as_one_step_without_a_stacked_output():
    ins, H = rnn()
    vals = values(n=50)
    f = thx.function(ins, H[-1], mode=NO_PUSHOUTS)
    (op,) = scans(f)
    assert op.store_steps == (1,)
    g = thx.function(ins, H[-1], mode=NO_SCAN_REWRITES)
    assert "50x4xf64" not in f.lower_text(*vals)
    assert "50x4xf64" in g.lower_text(*vals)  # the reference does stack one row per step
    expect = np.asarray(jax_rnn(*vals))[-1]
    assert_close(f(*vals), expect, rtol=1e-12, atol=1e-12)


def test_gradients_through_the_last_state_equal_jax():
    ins, H = rnn()
    cost = T.sum(H[-1] ** 2)
    f = thx.function(ins, [cost] + T.grad(cost, ins))
    back = [op for op in scans(f) if op.reverse]
    assert back and all(op.store_steps and op.n_nit <= 1 for op in back)
    vals = values(n=9, seed=3)

    def jcost(*a):
        return jnp.sum(jax_rnn(*a)[-1] ** 2)
    expect = [jcost(*vals)] + list(jax.grad(jcost, argnums=(0, 1, 2, 3))(*vals))
    for got, e in zip(f(*vals), expect):
        assert_close(got, np.asarray(e), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [7, 2])
def test_last_k_states_and_the_view_of_a_short_trace(n):
    ins, H = rnn()
    f = thx.function(ins, [H[-3:], H[-2]])
    (op,) = scans(f)
    assert op.store_steps == (3,)
    vals = values(n=n, seed=4)
    full = np.asarray(jax_rnn(*vals))
    got = f(*vals)
    assert got[0].shape == full[-3:].shape  # 2 steps: 2 rows, as in the full trace
    assert_close(got[0], full[-3:], rtol=1e-12, atol=1e-12)
    assert_close(got[1], full[-2], rtol=1e-12, atol=1e-12)


def test_two_taps_keep_their_lag_in_the_carry_and_return_one_row():
    init = T.dvector("init")
    fib, _ = thx.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=10)
    f = thx.function([init], [fib[-1], fib[-2:]])
    (op,) = scans(f)
    assert op.store_steps == (2,) and op.lags == (2,)
    seq = [0.5, 1.25]
    for _ in range(10):
        seq.append(seq[-2] + seq[-1])
    last, last2 = f(np.array([0.5, 1.25]))
    assert_close(last, np.array(seq[-1]))
    assert_close(last2, np.array(seq[-2:]))


def test_nit_outputs_keep_their_last_rows_and_a_map_runs_only_those_steps():
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    (h, y), _ = thx.scan(lambda x, h: [T.tanh(h + x), T.sum(x * h)], sequences=X, outputs_info=[h0, None])
    z = thx.map(lambda x: T.exp(x) * 2, sequences=X)[0]
    f = thx.function([X, h0], [y[-1], z[-2:]])
    ops = scans(f)
    assert sorted(op.store_steps for op in ops) == [(1, 1), (2,)]
    Xv, hv = np.random.RandomState(5).randn(6, 3), np.random.RandomState(6).randn(3)
    hs, ys = hv, []
    for x in Xv:
        ys.append(np.sum(x * hs))
        hs = np.tanh(hs + x)
    got = f(Xv, hv)
    assert_close(got[0], np.array(ys[-1]))
    assert_close(got[1], np.exp(Xv[-2:]) * 2)


def test_shared_variable_update_keeps_one_step():
    acc = thx.shared(np.zeros(3), name="acc")
    X = T.dmatrix("X")
    _, upd = thx.scan(lambda x: {acc: acc + x ** 2}, sequences=X)
    f = thx.function([X], [], updates=upd)
    (op,) = scans(f)
    assert op.store_steps == (1,)
    Xv = np.random.RandomState(7).randn(5, 3)
    f(Xv)
    f(Xv)
    assert_close(acc.get_value(), 2 * np.sum(Xv ** 2, axis=0))


def test_until_scans_keep_every_step():
    m = T.dscalar("m")
    vals, _ = thx.scan(lambda p, m: (p * 2, thx.scan_module.until(p * 2 > m)),
                       outputs_info=T.constant(1.0, dtype="float64"), non_sequences=m, n_steps=100)
    f = thx.function([m], vals[-1])
    (op,) = scans(f)
    assert not op.store_steps
    assert f(45.0) == 64.0


def test_truncated_gradient_through_the_last_state_equals_the_unoptimized_graph():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    H, _ = thx.scan(lambda x_t, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x_t)), sequences=X,
                    outputs_info=h0, non_sequences=[W, U], truncate_gradient=3)
    cost = T.sum(H[-1] ** 2)
    outs = T.grad(cost, [W, U, h0])
    f = thx.function([W, U, X, h0], outs)
    g = thx.function([W, U, X, h0], outs, mode=Mode(optimizer=None))
    assert any(op.store_steps for op in scans(f))
    vals = values(n=8, seed=8)
    for a, b in zip(f(*vals), g(*vals)):
        assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_bucketed_lengths_read_the_true_last_state():
    ins, H = rnn()
    f = thx.function(ins, H[-1])
    for n in (5, 3, 7, 6, 2):
        vals = values(n=n, seed=n)
        assert_close(f(*vals), np.asarray(jax_rnn(*vals))[-1], rtol=1e-12, atol=1e-12)
    assert f._bucket is not None and f._bucket[0].masks_scan  # the scan ran masked, padded


def test_perform_infer_shape_and_printing_agree_with_the_lowering():
    from thx.graph.evaluate import evaluate
    x, h0 = T.dvector("x"), T.dvector("h0")
    (h, y), _ = thx.scan(lambda x_t, h2, h1: [h1 * 0.5 + h2 + x_t, x_t * 3], sequences=x,
                         outputs_info=[dict(initial=h0, taps=[-2, -1]), None])
    node = h.owner.inputs[0].owner
    stored = node.op.clone_with(store_steps=[3, 2])(*node.inputs)
    xv, hv = np.random.RandomState(9).randn(5), np.random.RandomState(10).randn(2)
    full_h = list(hv)
    for t in range(5):
        full_h.append(full_h[-1] * 0.5 + full_h[-2] + xv[t])
    expect = [np.array(full_h[-3:]), xv[-2:] * 3]
    by_perform = evaluate(stored, {x: xv, h0: hv})
    f = thx.function([x, h0], stored + [s.shape for s in stored], mode=Mode(optimizer="fast_run"))
    lowered = f(xv, hv)
    for k in range(2):
        assert_close(by_perform[k], expect[k])
        assert_close(lowered[k], expect[k])
        assert tuple(lowered[2 + k]) == expect[k].shape
    assert "store=[3,2]" in thx.pp(stored[0])
    with pytest.raises(NotImplementedError, match="keeps only its last steps"):
        T.grad(T.sum(stored[0]), x)


def test_config_flag_excluding_the_rewrite():
    ins, H = rnn()
    with config.change_flags(optimizer_excluding="local_scan_save_mem"):
        f = thx.function(ins, H[-1])
    (op,) = scans(f)
    assert not op.store_steps


@pytest.mark.parametrize("reverse", [False, True])
def test_stored_rows_are_the_most_recent_rows_of_the_full_trace(reverse):
    from thx.graph.evaluate import evaluate
    x, h0 = T.dvector("x"), T.dvector("h0")
    (h, y), _ = thx.scan(lambda x_t, h2, h1: [h1 * 0.5 - h2 + x_t, x_t * h1], sequences=x,
                         outputs_info=[dict(initial=h0, taps=[-2, -1]), None])
    node = h.owner.inputs[0].owner
    full = node.op.clone_with(reverse=reverse)(*node.inputs)
    xv, hv = np.random.RandomState(11).randn(6), np.random.RandomState(12).randn(2)
    ref = thx.function([x, h0], full, mode=Mode(optimizer=None))(xv, hv)
    for store in ([1, 4], [3, 9], [8, 1]):  # fewer rows than the trace, and more
        stored = node.op.clone_with(reverse=reverse, store_steps=store)(*node.inputs)
        got = thx.function([x, h0], stored, mode=Mode(optimizer=None))(xv, hv)
        by_perform = evaluate(stored, {x: xv, h0: hv})
        for k, s in enumerate(store):
            want = ref[k][:s] if reverse else ref[k][-s:]
            assert_close(got[k], want)
            assert_close(by_perform[k], want)


def test_bucketed_gradients_and_last_rows_equal_jax():
    ins, H = rnn()
    cost = T.sum(H[-1] ** 2)
    f = thx.function(ins, [H[-3:]] + T.grad(cost, ins[:2]))

    def jref(W, U, X, h0):
        return jnp.sum(jax_rnn(W, U, X, h0)[-1] ** 2)
    for n in (5, 3, 7, 6):
        vals = values(n=n, seed=20 + n)
        got = f(*vals)
        assert_close(got[0], np.asarray(jax_rnn(*vals))[-3:], rtol=1e-12, atol=1e-12)
        for g, e in zip(got[1:], jax.grad(jref, argnums=(0, 1))(*vals)):
            assert_close(g, np.asarray(e), rtol=1e-10, atol=1e-12)


def test_a_scan_inside_a_step_stores_its_last_state_too():
    from thx.rewriting.scan import optimize_inner
    X = T.dmatrix("X")

    def row(x):
        c, _ = thx.scan(lambda e, a: a * 0.5 + e, sequences=x, outputs_info=T.constant(0.0, dtype="float64"))
        return c[-1]
    out, _ = thx.scan(row, sequences=X)
    f = thx.function([X], [out, T.grad(T.sum(out ** 2), X)])
    forward = [op for op in scans(f) if not op.reverse][0]
    inner = [n.op for n in optimize_inner(forward, False).apply_nodes if isinstance(n.op, Scan)]
    assert [op.store_steps for op in inner] == [(1,)]
    Xv = np.random.RandomState(13).randn(4, 5)
    decay = 0.5 ** np.arange(4, -1, -1)  # d a_final / d x_t
    a = Xv @ decay
    got = f(Xv)
    assert_close(got[0], a)
    assert_close(got[1], 2 * a[:, None] * decay[None, :])


def test_prune_in_an_until_scan_keeps_the_states_the_condition_reads():
    x = T.dvector("x")
    z = T.constant(0.0, dtype="float64")
    # a is read, b only decides when to stop, c is read by nothing
    (a, b, c), _ = thx.scan(lambda x_t, a, b, c: ([a + x_t, b + 1.0, c * x_t], thx.scan_module.until(b + 1.0 >= 3)),
                            sequences=x, outputs_info=[z, z, T.constant(1.0, dtype="float64")])
    f = thx.function([x], a)
    (op,) = scans(f)
    assert op.as_while and op.n_rec == 2
    xv = np.arange(1.0, 7.0)
    assert_close(f(xv), np.cumsum(xv)[:3])


def test_bad_store_steps_are_named():
    x = T.dvector("x")
    h, _ = thx.scan(lambda x_t, h: h + x_t, sequences=x, outputs_info=T.dscalar("h0"))
    op = h.owner.inputs[0].owner.op
    with pytest.raises(ValueError, match="store_steps needs one count >= 0 per output"):
        op.clone_with(store_steps=[1, 2])
    with pytest.raises(ValueError, match="stop condition keeps all its steps"):
        op.clone_with(as_while=True, fgraph=_with_condition(op.fgraph), store_steps=[1])


def _with_condition(fg):
    from thx.graph.fg import FunctionGraph
    return FunctionGraph(fg.inputs, fg.outputs + [T.gt(fg.outputs[0], 3)])


def _chain_reads(H, H5):
    """Reads through chained views (name -> (graph, NumPy of the states ``hs``, of ``hs5``))."""
    return {
        "h[1:][-1]": (H[1:][-1], lambda hs: hs[1:][-1]),
        "h[-1:][0]": (H[-1:][0], lambda hs: hs[-1:][0]),
        "h[-4:][1:][0]": (H[-4:][1:][0], lambda hs: hs[-4:][1:][0]),
        "h[::-1][0]": (H[::-1][0], lambda hs: hs[::-1][0]),
        "h[-2:][::-1]": (H[-2:][::-1], lambda hs: hs[-2:][::-1]),
        "h[:, 0][-1]": (H[:, 0][-1], lambda hs: hs[:, 0][-1]),
        "h[1:, 1:][-2]": (H[1:, 1:][-2], lambda hs: hs[1:, 1:][-2]),
        "h5[2:][0]": (H5[2:][0], lambda hs5: hs5[2:][0]),
        "h5[3]": (H5[3], lambda hs5: hs5[3]),
        "h5[1:][::-1][1]": (H5[1:][::-1][1], lambda hs5: hs5[1:][::-1][1]),
    }


CHAIN_ROWS = {"h[1:][-1]": 1, "h[-1:][0]": 1, "h[-4:][1:][0]": 4, "h[::-1][0]": 1, "h[-2:][::-1]": 2,
              "h[:, 0][-1]": 1, "h[1:, 1:][-2]": 2, "h5[2:][0]": 3, "h5[3]": 2, "h5[1:][::-1][1]": 2}


@pytest.mark.parametrize("name", sorted(CHAIN_ROWS))
def test_reads_through_chained_views_store_only_the_last_rows(name):
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    H, _ = thx.scan(lambda x, h: T.tanh(h * 0.5 + x), sequences=X, outputs_info=h0)
    H5, _ = thx.scan(lambda h: T.tanh(h * 0.5 - 0.25), outputs_info=h0, n_steps=5)
    out, ref = _chain_reads(H, H5)[name]
    f = thx.function([X, h0], out, on_unused_input="ignore")
    g = thx.function([X, h0], out, mode=NO_SCAN_REWRITES, on_unused_input="ignore")
    (op,) = scans(f)
    (op0,) = scans(g)
    assert op0.store_steps == () and op.store_steps == (CHAIN_ROWS[name],)
    hv = np.random.RandomState(14).randn(3)
    h5, hs5 = hv, []
    for _ in range(5):
        h5 = np.tanh(h5 * 0.5 - 0.25)
        hs5.append(h5)
    for n in (6, 3):  # 3 steps: fewer than "h[-4:][1:][0]" reads
        Xv = np.random.RandomState(n).randn(n, 3)
        h, hs = hv, []
        for x in Xv:
            h = np.tanh(h * 0.5 + x)
            hs.append(h)
        want = ref(np.array(hs5)) if name.startswith("h5") else ref(np.array(hs))
        with config.change_flags(shape_buckets="off"):  # exact lengths, one compile each
            assert_close(f(Xv, hv), want, rtol=1e-12, atol=1e-12)
            assert_close(g(Xv, hv), want, rtol=1e-12, atol=1e-12)


def test_a_chained_read_out_of_range_raises_as_on_the_full_trace():
    # 1 step: h[1:] is empty (h is the trace without h0), so h[1:][-1] raises on the full trace
    # and on the stored rows
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    H, _ = thx.scan(lambda x, h: h * 0.5 + x, sequences=X, outputs_info=h0)
    out = H[1:][-1]
    f = thx.function([X, h0], out)
    assert scans(f)[0].store_steps == (1,)
    hv = np.zeros(2)
    for fn in (f, thx.function([X, h0], out, mode=NO_SCAN_REWRITES)):
        with config.change_flags(shape_buckets="off"):  # exact lengths, one compile each
            assert_close(fn(np.ones((4, 2)), hv), np.full(2, 1.875))
            assert_close(fn(np.ones((2, 2)), hv), np.full(2, 1.5))
            with pytest.raises(IndexError):
                fn(np.ones((1, 2)), hv)


def test_cost_and_gradient_through_a_reversed_view_equal_jax():
    ins, H = rnn()
    cost = T.sum(H[::-1][0] ** 2) + T.sum(H[:, 1][-2:])
    f = thx.function(ins, [cost] + T.grad(cost, ins[:2]))  # the gradient reads every step
    assert [op.store_steps for op in scans(thx.function(ins, cost))] == [(2,)]
    vals = values(n=6, seed=15)

    def jcost(*a):
        hs = jax_rnn(*a)
        return jnp.sum(hs[::-1][0] ** 2) + jnp.sum(hs[:, 1][-2:])
    expect = [jcost(*vals)] + list(jax.grad(jcost, argnums=(0, 1))(*vals))
    for got, e in zip(f(*vals), expect):
        assert_close(got, np.asarray(e), rtol=1e-10, atol=1e-12)
