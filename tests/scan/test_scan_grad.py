"""Gradients and R/L operators through scan, checked against ``jax.grad`` / ``jax.jvp`` /
``jax.vjp`` of the equivalent ``lax.scan`` (or unrolled loop) and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.graph.basic import toposort
from thx.scan.op import Scan

RNG = np.random.RandomState(42)


from tests.scan.conftest import close  # noqa: E402,F401


# ------------------------------------------------------------------ an RNN: sit-sot + sequence + weights

def rnn_thx(xs, h0, W):
    hs, _ = theano.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0,
                        non_sequences=W)
    return hs


def rnn_jax(xs, h0, W):
    def step(h, x):
        h = jnp.tanh(h @ W + x)
        return h, h
    return jax.lax.scan(step, h0, xs)[1]


X, H0, W0 = RNG.randn(5, 3), RNG.randn(3), RNG.randn(3, 3) * 0.5
P = RNG.uniform(0.5, 1.5, size=(5, 3))


def test_rnn_gradients_hvp_rop_lop_against_jax():
    xs, h0, W, V = T.dmatrix("xs"), T.dvector("h0"), T.dmatrix("W"), T.dmatrix("V")
    hs = rnn_thx(xs, h0, W)
    cost = (T.constant(P) * hs).sum() + hs[-1].sum()
    grads = T.grad(cost, [xs, h0, W])
    hvp = T.grad((grads[2] * V).sum(), W)  # second order: grad of the backward scan
    rop = T.Rop(hs, W, V)
    lop = T.Lop(hs, [h0, W], T.constant(P))
    f = theano.function([xs, h0, W, V], grads + [hvp, rop] + lop)
    Vv = RNG.randn(3, 3)
    g_xs, g_h0, g_W, got_hvp, got_rop, l_h0, l_W = f(X, H0, W0, Vv)

    def jcost(xs, h0, W):
        hs = rnn_jax(xs, h0, W)
        return (P * hs).sum() + hs[-1].sum()

    ref = jax.grad(jcost, argnums=(0, 1, 2))(X, H0, W0)
    close(g_xs, ref[0]), close(g_h0, ref[1]), close(g_W, ref[2])
    close(got_hvp, jax.jvp(lambda w: jax.grad(jcost, argnums=2)(X, H0, w), (W0,), (Vv,))[1])
    close(got_rop, jax.jvp(lambda w: rnn_jax(X, H0, w), (W0,), (Vv,))[1])
    _, vjp = jax.vjp(lambda h, w: rnn_jax(X, h, w), H0, W0)
    ref_l = vjp(P)
    close(l_h0, ref_l[0]), close(l_W, ref_l[1])


def test_truncated_gradient_covers_only_the_last_steps():
    xs, h0, W = T.dmatrix("xs"), T.dvector("h0"), T.dmatrix("W")
    hs, _ = theano.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0,
                        non_sequences=W, truncate_gradient=2)
    grads = T.grad((T.constant(P) * hs).sum(), [xs, h0, W])
    got = theano.function([xs, h0, W], grads)(X, H0, W0)

    def jcost(xs, h0, W):  # the first 3 steps run without gradient, the last 2 with
        sg = jax.lax.stop_gradient
        h, outs = sg(h0), []
        for t in range(5):
            if t == 3:
                h = sg(h)
            args = (h, xs[t], W) if t >= 3 else (h, sg(xs[t]), sg(W))
            h = jnp.tanh(args[0] @ args[2] + args[1])
            outs.append(h if t >= 3 else sg(h))
        return (P * jnp.stack(outs)).sum()

    ref = jax.grad(jcost, argnums=(0, 1, 2))(X, H0, W0)
    for a, b in zip(got, ref):
        close(a, b)
    assert not got[0][:3].any() and not got[1].any()


# ------------------------------------------------------------------ taps, direction, stop condition

def test_mit_sot_taps_and_sequence_taps_gradients():
    s, init, w = T.dvector("s"), T.dvector("init"), T.dscalar("w")
    out, _ = theano.scan(lambda a, b, p2, p1, w: T.sin(p2 * w) + p1 * a - b,
                         sequences=dict(input=s, taps=[-1, 0]),
                         outputs_info=[dict(initial=init, taps=[-2, -1])], non_sequences=w)
    proj = RNG.uniform(0.5, 1.5, size=6)
    cost = (T.constant(proj) * out).sum()
    f = theano.function([s, init, w], [out] + T.grad(cost, [s, init, w]))
    sv, iv, wv = RNG.randn(7), RNG.randn(2), 0.7
    got = f(sv, iv, wv)

    def jout(s, init, w):
        hist = [init[0], init[1]]
        for t in range(6):
            hist.append(jnp.sin(hist[-2] * w) + hist[-1] * s[t] - s[t + 1])
        return jnp.stack(hist[2:])

    close(got[0], jout(sv, iv, wv))
    ref = jax.grad(lambda *a: (proj * jout(*a)).sum(), argnums=(0, 1, 2))(sv, iv, wv)
    for a, b in zip(got[1:], ref):
        close(a, b)
    # finite differences on the initial state, independently of JAX
    fc = theano.function([s, init, w], cost)
    eps = 1e-6
    fd = [(fc(sv, iv + eps * e, wv) - fc(sv, iv - eps * e, wv)) / (2 * eps) for e in np.eye(2)]
    close(got[2], fd, tol=1e-6)


def test_go_backwards_gradient():
    v, h0 = T.dvector("v"), T.dscalar("h0")
    hs, _ = theano.scan(lambda x, h: T.tanh(h * x + x), sequences=v, outputs_info=h0,
                        go_backwards=True)
    proj = RNG.uniform(0.5, 1.5, size=4)
    grads = T.grad((T.constant(proj) * hs).sum(), [v, h0])
    got = theano.function([v, h0], grads)(RNG.randn(4) * 0 + np.array([0.3, -0.2, 0.5, 0.1]), 0.4)

    def jcost(v, h0):
        def step(h, x):
            h = jnp.tanh(h * x + x)
            return h, h
        return (proj * jax.lax.scan(step, h0, v[::-1])[1]).sum()

    ref = jax.grad(jcost, argnums=(0, 1))(jnp.array([0.3, -0.2, 0.5, 0.1]), 0.4)
    close(got[0], ref[0]), close(got[1], ref[1])


def test_gradient_through_until_uses_the_steps_that_ran():
    a, h0, m = T.dscalar("a"), T.dscalar("h0"), T.dscalar("m")
    hs, _ = theano.scan(lambda h, a, m: (h * a + 0.5, theano.scan_module.until(h * a > m)),
                        outputs_info=h0, non_sequences=[a, m], n_steps=50)
    cost = (hs ** 2).sum()
    da = T.dscalar("da")
    f = theano.function([a, h0, m, da], [hs] + T.grad(cost, [a, h0]) + [T.Rop(hs, a, da)])
    vals, ga, gh, rop = f(1.5, 1.0, 10.0, 0.3)
    n = len(vals)
    assert 1 < n < 50

    def jcost(a, h0):
        h, outs = h0, []
        for _ in range(n):
            h = h * a + 0.5
            outs.append(h)
        return (jnp.stack(outs) ** 2).sum()

    ref = jax.grad(jcost, argnums=(0, 1))(1.5, 1.0)
    close(ga, ref[0]), close(gh, ref[1])

    def jhs(a):
        h, outs = 1.0, []
        for _ in range(n):
            h = h * a + 0.5
            outs.append(h)
        return jnp.stack(outs)

    close(rop, jax.jvp(jhs, (1.5,), (0.3,))[1])


# ------------------------------------------------------------------ map-like scans stay maps

def test_map_gradient_and_rop_are_maps_too():
    X_, w = T.dmatrix("X"), T.dvector("w")
    ys, _ = theano.map(lambda x, w: T.sin(x * w).sum() * x, X_, non_sequences=w)
    proj = RNG.uniform(0.5, 1.5, size=(4, 3))
    g = T.grad((T.constant(proj) * ys).sum(), [X_, w])
    dw = T.dvector("dw")
    r = T.Rop(ys, w, dw)
    f = theano.function([X_, w, dw], g + [r])
    xv, wv, dwv = RNG.randn(4, 3), RNG.randn(3), RNG.randn(3)
    got = f(xv, wv, dwv)

    def jys(X, w):
        return jax.vmap(lambda x: jnp.sin(x * w).sum() * x)(X)

    ref = jax.grad(lambda X, w: (proj * jys(X, w)).sum(), argnums=(0, 1))(xv, wv)
    close(got[0], ref[0]), close(got[1], ref[1])
    close(got[2], jax.jvp(lambda w: jys(xv, w), (wv,), (dwv,))[1])
    scans = [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert scans and all(op.is_map() for op in scans)


def test_hessian_of_scan_jacobian_against_jax():
    x = T.dvector("x")
    y = T.exp(x) * x.sum()
    J, _ = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                       non_sequences=[y, x])
    M = RNG.randn(3, 3)
    g = T.grad((J * T.constant(M)).sum(), x)  # a third derivative, through two scans
    f = theano.function([x], [J, g])
    xv = RNG.randn(3)
    got_J, got_g = f(xv)

    def jy(x):
        return jnp.exp(x) * x.sum()

    close(got_J, jax.jacrev(jy)(xv))
    close(got_g, jax.grad(lambda x: (jax.jacrev(jy)(x) * M).sum())(xv))


def test_shared_update_state_does_not_break_gradients():
    c = theano.shared(np.float64(1.0), name="c")
    v, w = T.dvector("v"), T.dscalar("w")
    out, upd = theano.scan(lambda x, w: (x * w * c, {c: c * 2}), sequences=v, non_sequences=w)
    g = T.grad(out.sum(), w)
    f = theano.function([v, w], [out, g], updates=upd)
    got_out, got_g = f(np.array([1., 2., 3.]), 0.5)
    close(got_out, [0.5, 2.0, 6.0]), close(got_g, 1 * 1 + 2 * 2 + 3 * 4)
    assert c.get_value() == 8.0


# ------------------------------------------------------------------ graph size of higher derivatives

def _sizes(var):
    outer = len(toposort([var]))
    n_scans = sum(isinstance(n.op, Scan) for n in toposort([var]))
    return outer, n_scans


@pytest.mark.parametrize("order", [3])
def test_higher_derivatives_do_not_unroll(order):
    x, h0 = T.dscalar("x"), T.dscalar("h0")
    sizes = {}
    for n_steps in (4, 40):
        hs, _ = theano.scan(lambda h, x: T.tanh(h * x), outputs_info=h0, non_sequences=x,
                            n_steps=n_steps)
        d = hs.sum()
        for _ in range(order):
            d = T.grad(d, x)
        sizes[n_steps] = _sizes(d)
        if n_steps == 4:
            got = theano.function([x, h0], d)(0.7, 0.3)

            def F(x):
                h, s = 0.3, 0.0
                for _ in range(4):
                    h = jnp.tanh(h * x)
                    s = s + h
                return s
            ref = F
            for _ in range(order):
                ref = jax.grad(ref)
            close(got, ref(0.7), tol=1e-8)
    # the derivative graph does not depend on the number of steps (nothing is unrolled), and
    # each order adds one backward scan per scan already there
    assert sizes[4] == sizes[40]
    assert sizes[4][1] == 2 ** order
    h = T.dscalar("h")
    for _ in range(4):
        h = T.tanh(h * x)
    d_unrolled = h
    for _ in range(order):
        d_unrolled = T.grad(d_unrolled, x)
    assert sizes[4][0] < len(toposort([d_unrolled]))


def test_truncated_gradient_reaches_initial_rows_within_the_window():
    init, w = T.dvector("init"), T.dscalar("w")
    out, _ = theano.scan(lambda p2, p1, w: T.sin(p2 * w) + p1 * p2, n_steps=3, truncate_gradient=2,
                         outputs_info=[dict(initial=init, taps=[-2, -1])], non_sequences=w)
    got = theano.function([init, w], T.grad(out.sum(), [init, w]))(np.array([0.4, -0.7]), 0.9)

    def jcost(init, w):  # the step before the 2-step window is not differentiated
        sg = jax.lax.stop_gradient
        s0 = sg(jnp.sin(init[0] * w) + init[1] * init[0])
        s1 = jnp.sin(init[1] * w) + s0 * init[1]
        s2 = jnp.sin(s0 * w) + s1 * s0
        return s0 + s1 + s2

    ref = jax.grad(jcost, argnums=(0, 1))(jnp.array([0.4, -0.7]), 0.9)
    close(got[0], ref[0]), close(got[1], ref[1])
    assert got[0][0] == 0 and got[0][1] != 0
