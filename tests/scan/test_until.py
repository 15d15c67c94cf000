"""Scans with a stop condition (``until``): values, gradients and mixes with other scans.

Oracles: a NumPy loop for the values; for gradients, ``jax.grad`` of the same
loop written in plain ``jax.numpy`` and unrolled for the number of steps the
NumPy loop ran (the gradient of an ``until`` scan, as in Theano, treats that
number as fixed), and central finite differences of the NumPy loop.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from tests.oracle import finite_diff
from tests.scan.conftest import close

until = theano.scan_module.until
RNG = np.random.RandomState(7)
XS = RNG.uniform(-0.5, 1.0, size=(12, 2))
H0 = np.array([0.1, -0.2])
W = RNG.uniform(-0.6, 0.6, size=(2, 2))
PROJ_H = RNG.uniform(0.5, 1.5, size=(12, 2))
PROJ_Y = RNG.uniform(0.5, 1.5, size=12)


# ------------------------------------------------------------------ one until scan, three outputs

def rnn_until_thx(xs, h0, W, lim):
    """h_t = tanh(h_{t-1} W + x_t), y_t = |h_t|^2; stop after the first step with y_t > lim."""
    def step(x, h, W, lim):
        h_new = T.tanh(T.dot(h, W) + x)
        y = (h_new ** 2).sum()
        return [h_new, y], until(y > lim)
    (hs, ys), _ = theano.scan(step, sequences=xs, outputs_info=[h0, None], non_sequences=[W, lim])
    return hs, ys


def rnn_until_numpy(xs, h0, W, lim):
    h, hs, ys = h0, [], []
    for x in xs:
        h = np.tanh(h @ W + x)
        hs.append(h)
        ys.append((h ** 2).sum())
        if ys[-1] > lim:
            break
    return np.stack(hs), np.array(ys)


def rnn_unrolled_jax(xs, h0, W, n):
    h, hs, ys = h0, [], []
    for t in range(n):
        h = jnp.tanh(h @ W + xs[t])
        hs.append(h)
        ys.append((h ** 2).sum())
    return jnp.stack(hs), jnp.stack(ys)


def _symbols():
    return T.dmatrix("xs"), T.dvector("h0"), T.dmatrix("W"), T.dscalar("lim")


@pytest.mark.parametrize("lim", [0.0, 0.5, 100.0])  # stops at the first step, midway, never
def test_values_against_a_numpy_loop(lim):
    xs, h0, Wv, limv = _symbols()
    hs, ys = rnn_until_thx(xs, h0, Wv, limv)
    f = theano.function([xs, h0, Wv, limv], [hs, ys])
    got_h, got_y = f(XS, H0, W, lim)
    want_h, want_y = rnn_until_numpy(XS, H0, W, lim)
    close(got_h, want_h), close(got_y, want_y)
    if lim == 0.0:
        assert got_y.shape == (1,)
    if lim == 100.0:
        assert got_y.shape == (12,)


def test_gradient_against_jax_grad_of_the_unrolled_loop_and_finite_differences():
    lim = 0.5
    n = len(rnn_until_numpy(XS, H0, W, lim)[1])
    assert 1 < n < 12
    xs, h0, Wv, limv = _symbols()
    hs, ys = rnn_until_thx(xs, h0, Wv, limv)
    ph, py = T.dmatrix("ph"), T.dvector("py")
    cost = (ph[: hs.shape[0]] * hs).sum() + (py[: ys.shape[0]] * ys).sum()
    f = theano.function([xs, h0, Wv, limv, ph, py], T.grad(cost, [xs, h0, Wv]))
    g_xs, g_h0, g_W = f(XS, H0, W, lim, PROJ_H, PROJ_Y)

    def jcost(xs_, h0_, W_):
        hs_, ys_ = rnn_unrolled_jax(xs_, h0_, W_, n)
        return (PROJ_H[:n] * hs_).sum() + (PROJ_Y[:n] * ys_).sum()

    want = jax.grad(jcost, argnums=(0, 1, 2))(XS, H0, W)
    close(g_xs, want[0]), close(g_h0, want[1]), close(g_W, want[2])
    assert np.all(g_xs[n:] == 0)  # the rows the loop never read

    def np_cost(xs_, h0_, W_):
        hs_, ys_ = rnn_until_numpy(xs_, h0_, W_, lim)
        return (PROJ_H[: len(hs_)] * hs_).sum() + (PROJ_Y[: len(ys_)] * ys_).sum()

    for k, got in enumerate([g_xs, g_h0, g_W]):
        fd = finite_diff(np_cost, [XS, H0, W], np.ones(()), k)
        close(got, fd, tol=1e-6)


def test_gradient_changes_with_the_number_of_steps_run():
    # one compiled function, three lengths: the backward loop runs as many steps as the forward
    xs, h0, Wv, limv = _symbols()
    hs, _ = rnn_until_thx(xs, h0, Wv, limv)
    f = theano.function([xs, h0, Wv, limv], [hs.shape[0], T.grad(hs.sum(), Wv)])
    for lim in (0.0, 0.3, 0.5, 100.0):
        length, g = f(XS, H0, W, lim)
        n = len(rnn_until_numpy(XS, H0, W, lim)[1])
        assert length == n
        want = jax.grad(lambda W_: rnn_unrolled_jax(XS, H0, W_, n)[0].sum())(W)
        close(g, want)


def test_two_past_steps_gradient():
    # x_t = a * x_{t-1} + x_{t-2}, stop once x_t > m: gradient w.r.t. a and the initial rows
    x0, a, m = T.dvector("x0"), T.dscalar("a"), T.dscalar("m")
    xs, _ = theano.scan(lambda x2, x1, a, m: (a * x1 + x2, until(a * x1 + x2 > m)),
                        outputs_info=[dict(initial=x0, taps=[-2, -1])], non_sequences=[a, m],
                        n_steps=40)
    f = theano.function([x0, a, m], [xs] + T.grad((xs ** 2).sum(), [x0, a]))
    got, g_x0, g_a = f(np.array([1.0, 1.0]), 1.1, 30.0)

    def loop(x0_, a_, n=None):
        rows = [x0_[0], x0_[1]]
        for _ in range(40 if n is None else n):
            rows.append(a_ * rows[-1] + rows[-2])
            if n is None and rows[-1] > 30.0:
                break
        return rows

    want = loop(np.array([1.0, 1.0]), 1.1)[2:]  # scan returns the new rows only
    close(got, np.array(want))
    n = len(want)
    ref = jax.grad(lambda x0_, a_: (jnp.stack(loop(x0_, a_, n)[2:]) ** 2).sum(), argnums=(0, 1))(
        jnp.array([1.0, 1.0]), 1.1)
    close(g_x0, ref[0]), close(g_a, ref[1])


# ------------------------------------------------------------------ mixes in one function

def _doubling(x0, m):
    out, _ = theano.scan(lambda p, m: (p * 2, until(p * 2 > m)), outputs_info=x0,
                         non_sequences=m, n_steps=100)
    return out


def test_until_scan_then_ordinary_scans_on_its_output():
    x0, m, v = T.dscalar("x0"), T.dscalar("m"), T.dvector("v")
    a = _doubling(x0, m)
    decayed, _ = theano.scan(lambda e, acc: acc * 0.5 + e, sequences=a,
                             outputs_info=T.constant(0.0, dtype="float64"))
    squares, _ = theano.map(lambda e: e ** 2, v)  # a map independent of the until scan
    cost = decayed.sum() + (a ** 2).sum() + squares.sum()
    f = theano.function([x0, m, v], [a, decayed, squares] + T.grad(cost, [x0, v]))
    got_a, got_d, got_s, g_x0, g_v = f(1.5, 45.0, np.array([1.0, -2.0]))
    want_a = [1.5 * 2 ** k for k in range(1, 7) if 1.5 * 2 ** (k - 1) <= 45.0]
    close(got_a, np.array(want_a))
    acc, want_d = 0.0, []
    for e in want_a:
        acc = acc * 0.5 + e
        want_d.append(acc)
    close(got_d, np.array(want_d)), close(got_s, np.array([1.0, 4.0]))
    n = len(want_a)

    def jcost(x0_):
        rows = [x0_ * 2 ** k for k in range(1, n + 1)]
        acc_, total = 0.0, 0.0
        for e in rows:
            acc_ = acc_ * 0.5 + e
            total = total + acc_ + e ** 2
        return total

    close(g_x0, jax.grad(jcost)(1.5)), close(g_v, np.array([2.0, -4.0]))


def test_until_scan_reading_another_until_scan():
    x0, m = T.dscalar("x0"), T.dscalar("m")
    a = _doubling(x0, m)
    b, _ = theano.scan(lambda e, acc: (acc + e, until(acc + e > 50)), sequences=a,
                       outputs_info=T.constant(0.0, dtype="float64"))
    f = theano.function([x0, m], [a, b, T.grad((b ** 2).sum(), x0)])
    for x0v, mv in [(1.0, 45.0), (1.0, 10.0), (3.0, 1000.0)]:
        got_a, got_b, g = f(x0v, mv)
        want_a = []
        p = x0v
        while True:
            p = p * 2
            want_a.append(p)
            if p > mv:
                break
        want_b, acc = [], 0.0
        for e in want_a:
            acc += e
            want_b.append(acc)
            if acc > 50:
                break
        close(got_a, np.array(want_a)), close(got_b, np.array(want_b))
        n = len(want_b)
        ref = jax.grad(lambda x: (jnp.cumsum(jnp.stack([x * 2 ** k for k in range(1, n + 1)])) ** 2)
                       .sum())(x0v)
        close(g, ref)


def test_two_independent_until_scans_and_their_gradients():
    x0, m, xs = T.dscalar("x0"), T.dscalar("m"), T.dvector("xs")
    a = _doubling(x0, m)
    s, _ = theano.scan(lambda e, acc: (acc + e, until(acc + e > 3)), sequences=xs,
                       outputs_info=T.constant(0.0, dtype="float64"))
    f = theano.function([x0, m, xs], [a, s] + T.grad(a.sum() + (s ** 3).sum(), [x0, xs]))
    got_a, got_s, g_x0, g_xs = f(1.0, 45.0, np.full(10, 0.7))
    close(got_a, 2.0 ** np.arange(1, 7)), close(got_s, 0.7 * np.arange(1, 6))
    close(g_x0, (2.0 ** np.arange(1, 7)).sum())
    # d/dx_j sum_t s_t^3 = sum_{t >= j} 3 s_t^2 for the 5 steps run, 0 after
    s_ = 0.7 * np.arange(1, 6)
    want = np.zeros(10)
    want[:5] = np.cumsum((3 * s_ ** 2)[::-1])[::-1]
    close(g_xs, want)


def test_shapes_of_trimmed_outputs_are_concrete_downstream():
    # sizes read from the trimmed rows set shapes (alloc, arange, reshape) in the next segment
    x0, m = T.dscalar("x0"), T.dscalar("m")
    a = _doubling(x0, m)
    n = a.shape[0]
    grid = T.zeros((n, 3)) + T.arange(n).dimshuffle(0, "x")
    f = theano.function([x0, m], [grid, a.reshape((n, 1)), T.arange(n * 2)])
    g, col, r = f(1.0, 45.0)
    close(g, np.repeat(np.arange(6.0)[:, None], 3, axis=1))
    close(col, (2.0 ** np.arange(1, 7))[:, None])
    close(r, np.arange(12))
    g, col, r = f(1.0, 3.0)
    assert g.shape == (2, 3) and col.shape == (2, 1) and r.shape == (4,)


def test_independent_until_scans_share_segments():
    # two until scans that do not feed each other run between the same two jitted segments
    from thx.lowering.program import plan
    from thx.lowering.segments import _by_barrier_depth
    x0, m, xs = T.dscalar("x0"), T.dscalar("m"), T.dvector("xs")
    a = _doubling(x0 * 2, m)
    s, _ = theano.scan(lambda e, acc: (acc + e, until(acc + e > 3)), sequences=xs * 3,
                       outputs_info=T.constant(0.0, dtype="float64"))
    f = theano.function([x0, m, xs], [a.sum() + s.sum()])
    p = plan(f.maker.fgraph)
    barriers = {item[3] for item in p.program if getattr(item[3].op, "host_barrier", False)}
    kinds = [item[3] in barriers for item in _by_barrier_depth(p.program, barriers)]
    runs = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert runs == [False, True, False]
    close(f(0.5, 45.0, np.full(4, 0.5))[0], (2.0 ** np.arange(1, 7)).sum() + 1.5 + 3.0 + 4.5)


_COMPILES: list = []


def _count_compiles():
    """XLA compilations so far in this process (JAX's monitoring events)."""
    if not _COMPILES:
        import jax.monitoring
        _COMPILES.append(0)

        def listen(event, duration, **kwargs):
            if event == "/jax/core/compile/backend_compile_duration":
                _COMPILES[0] += 1
        jax.monitoring.register_event_duration_secs_listener(listen)
    return _COMPILES[0]


def test_new_values_with_the_same_number_of_steps_compile_nothing():
    # the loop takes float inputs as run-time values; only a new number of steps compiles
    # (what follows the loop, for the new length)
    x0, m = T.dscalar("x0"), T.dscalar("m")
    a = _doubling(x0, m)
    f = theano.function([x0, m], [a, T.grad(a.sum(), x0)])
    f(1.0, 45.0)
    _count_compiles()
    before = _count_compiles()
    for mv in (40.0, 50.0, 33.0):  # six steps each time
        got, g = f(1.0, mv)
        close(got, 2.0 ** np.arange(1, 7)), close(g, 126.0)
    got, _ = f(1.5, 95.0)  # a new x0: still six steps
    close(got, 1.5 * 2.0 ** np.arange(1, 7))
    assert _count_compiles() == before
    close(f(1.0, 100.0)[0], 2.0 ** np.arange(1, 8))  # seven steps: compiles
    assert _count_compiles() > before


def test_shared_updates_symbolic_n_steps_second_derivative_and_rop():
    x0, m, n = T.dscalar("x0"), T.dscalar("m"), T.iscalar("n")
    k = theano.shared(0)
    a, upd = theano.scan(lambda p, m: (p * 2, {k: k + 1}, until(p * 2 > m)), outputs_info=x0,
                         non_sequences=m, n_steps=n)
    f = theano.function([x0, m, n], a, updates=upd)
    close(f(1.0, 45.0, 100), 2.0 ** np.arange(1, 7))
    assert k.get_value() == 6
    close(f(1.0, 45.0, 3), 2.0 ** np.arange(1, 4))  # n_steps is the most it runs
    assert k.get_value() == 9

    # second derivative: p <- p^2 / 2 + 1, stop after the step that starts above m
    q, _ = theano.scan(lambda p, m: (p * p * 0.5 + 1, until(p > m)), outputs_info=x0,
                       non_sequences=m, n_steps=10)
    d2 = theano.function([x0, m], T.grad(T.grad(q.sum(), x0), x0))(1.2, 5.0)

    def total(x):
        p, s = x, 0.0
        while True:
            out = p * p * 0.5 + 1
            s, stop, p = s + out, p > 5.0, out
            if stop:
                return s

    h = 1e-4
    close(d2, (total(1.2 + h) - 2 * total(1.2) + total(1.2 - h)) / h ** 2, tol=1e-5)

    # R-operator with a sequence computed before the loop
    xs, v = T.dvector("xs"), T.dvector("v")
    acc, _ = theano.scan(lambda e, s: (s + e * e, until(s + e * e > 3)), sequences=xs * 2,
                         outputs_info=T.constant(0.0, dtype="float64"))
    jv = theano.function([xs, v], T.Rop(acc, xs, v))(np.full(5, 0.5), np.arange(5.0))
    ref = jax.jvp(lambda x: jnp.cumsum((2 * x[:4]) ** 2), (jnp.full(5, 0.5),),
                  (jnp.arange(5.0),))[1]
    close(jv, ref)
