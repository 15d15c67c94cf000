"""Scan merge: independent scans over the same steps run as one loop.  Counts the Scan nodes
before/after and checks values and gradients against NumPy and hand-written JAX."""

import jax
import jax.numpy as jnp
import numpy as np

import thx
import thx.tensor as T
from thx.compile.mode import Mode
from tests.oracle import assert_close
from tests.rewriting.scan_helpers import scans, x64  # noqa: F401  (x64: an autouse fixture)

NO_MERGE = Mode(optimizer="fast_run").excluding("local_scan_merge")


def two_rnns():
    X, W1, W2, h0 = T.dmatrix("X"), T.dmatrix("W1"), T.dmatrix("W2"), T.dvector("h0")
    H1, _ = thx.scan(lambda x, h, W: T.tanh(T.dot(W, h) + x), sequences=X, outputs_info=h0, non_sequences=W1)
    H2, _ = thx.scan(lambda x, h, W: T.nnet.sigmoid(T.dot(W, h) - x), sequences=X, outputs_info=h0,
                     non_sequences=W2)
    return [X, W1, W2, h0], H1, H2


def jax_two(X, W1, W2, h0):
    def step(c, x):
        a, b = c
        a, b = jnp.tanh(W1 @ a + x), jax.nn.sigmoid(W2 @ b - x)
        return (a, b), (a, b)
    return jax.lax.scan(step, (h0, h0), X)[1]


def values(seed=0, n=6):
    r = np.random.RandomState(seed)
    return [r.randn(n, 3), r.randn(3, 3) * 0.5, r.randn(3, 3) * 0.5, r.randn(3)]


def test_two_forward_scans_become_one():
    ins, H1, H2 = two_rnns()
    f = thx.function(ins, [H1, H2])
    g = thx.function(ins, [H1, H2], mode=NO_MERGE)
    assert len(scans(g)) == 2 and len(scans(f)) == 1
    (op,) = scans(f)
    assert op.n_rec == 2 and op.n_seqs == 1  # X is read once
    vals = values()
    for got, e in zip(f(*vals), jax_two(*vals)):
        assert_close(got, np.asarray(e), rtol=1e-12, atol=1e-12)


def test_gradients_of_merged_scans_equal_jax():
    ins, H1, H2 = two_rnns()
    cost = T.sum(H1 ** 2) + T.sum(H2[-1] * H1[-1])
    f = thx.function(ins, T.grad(cost, ins))
    g = thx.function(ins, T.grad(cost, ins), mode=NO_MERGE)
    assert len(scans(f)) < len(scans(g))

    def jcost(*a):
        A, B = jax_two(*a)
        return jnp.sum(A ** 2) + jnp.sum(B[-1] * A[-1])
    vals = values(seed=1)
    for got, e in zip(f(*vals), jax.grad(jcost, argnums=(0, 1, 2, 3))(*vals)):
        assert_close(got, np.asarray(e), rtol=1e-10, atol=1e-12)


def test_a_scan_reading_the_other_is_not_merged():
    X, h0 = T.dvector("X"), T.dscalar("h0")
    A, _ = thx.scan(lambda x, h: h + x, sequences=X, outputs_info=h0)
    B, _ = thx.scan(lambda a, h: h * 0.5 + a, sequences=A, outputs_info=h0, n_steps=X.shape[0])
    f = thx.function([X, h0], [A, B])
    assert len(scans(f)) == 2
    xv = np.random.RandomState(2).randn(5)
    a = np.cumsum(xv) + 0.25
    b, bs = 0.25, []
    for t in range(5):
        b = b * 0.5 + a[t]
        bs.append(b)
    got = f(xv, 0.25)
    assert_close(got[0], a)
    assert_close(got[1], np.array(bs))


def test_maps_merge_with_maps_but_not_with_a_recurrence():
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    m1 = thx.map(lambda x: T.exp(x), sequences=X)[0]
    m2 = thx.map(lambda x: T.sin(x) * 2, sequences=X)[0]
    H, _ = thx.scan(lambda x, h: h * 0.9 + x, sequences=X, outputs_info=h0)
    f = thx.function([X, h0], [m1, m2, H])
    ops = scans(f)
    assert len(ops) == 2
    assert sorted(op.is_map() for op in ops) == [False, True]
    assert [op.n_nit for op in ops if op.is_map()] == [2]
    Xv, hv = np.random.RandomState(3).randn(4, 2), np.random.RandomState(4).randn(2)
    h, hs = hv, []
    for x in Xv:
        h = h * 0.9 + x
        hs.append(h)
    got = f(Xv, hv)
    assert_close(got[0], np.exp(Xv))
    assert_close(got[1], np.sin(Xv) * 2)
    assert_close(got[2], np.array(hs))


def test_different_step_counts_are_not_merged():
    X, Y, h0 = T.dvector("X"), T.dvector("Y"), T.dscalar("h0")
    A, _ = thx.scan(lambda x, h: h + x, sequences=X, outputs_info=h0)
    B, _ = thx.scan(lambda y, h: h * y, sequences=Y, outputs_info=h0)
    f = thx.function([X, Y, h0], [A, B])
    assert len(scans(f)) == 2
    xv, yv = np.arange(1.0, 4.0), np.arange(1.0, 6.0)
    got = f(xv, yv, 1.0)
    assert_close(got[0], np.cumsum(xv) + 1.0)
    assert_close(got[1], np.cumprod(yv))


def test_a_stack_of_dependent_scans_stays_a_stack():
    X, h0 = T.dvector("X"), T.dscalar("h0")
    layer, layers = X, 20
    for _ in range(layers):
        layer, _ = thx.scan(lambda x, h: h * 0.5 + x, sequences=layer, outputs_info=h0)
    f = thx.function([X, h0], layer)
    assert len(scans(f)) == layers
    xv = np.random.RandomState(5).randn(6)
    want = xv
    for _ in range(layers):
        h, rows = 0.125, []
        for v in want:
            h = h * 0.5 + v
            rows.append(h)
        want = np.array(rows)
    assert_close(f(xv, 0.125), want)


def _steps_vars(f):
    return [n.inputs[0] for n in f.maker.fgraph.toposort() if type(n.op).__name__ == "Scan"]


def test_equal_step_counts_written_differently_merge():
    # minimum(X.shape[0], X.shape[0]) (two sequences) and X.shape[0]: one loop
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    A, _ = thx.scan(lambda x, h: h * 0.5 + x, sequences=X, outputs_info=h0)
    B, _ = thx.scan(lambda x, y, h: T.tanh(h + x * y), sequences=[X, 2 * X], outputs_info=h0)
    f = thx.function([X, h0], [A, B])
    g = thx.function([X, h0], [A, B], mode=NO_MERGE)
    a, b = _steps_vars(g)
    assert a is not b  # different graphs for the same number
    assert len(scans(g)) == 2 and len(scans(f)) == 1
    Xv, hv = np.random.RandomState(6).randn(5, 3), np.random.RandomState(7).randn(3)
    ha, hb, want_a, want_b = hv, hv, [], []
    for x in Xv:
        ha, hb = ha * 0.5 + x, np.tanh(hb + 2 * x * x)
        want_a.append(ha)
        want_b.append(hb)
    got = f(Xv, hv)
    assert_close(got[0], np.array(want_a))
    assert_close(got[1], np.array(want_b))


def test_a_scan_over_x_shifted_merges_with_one_reading_taps():
    # X[1:] has max(n - 1, 0) rows; taps [0, 1] of X give min(len(X[:-1]), len(X[1:])) steps
    X, h0 = T.dvector("X"), T.dscalar("h0")
    A, _ = thx.scan(lambda x, h: h * 0.5 + x, sequences=X[1:], outputs_info=h0)
    B, _ = thx.scan(lambda x0, x1, h: h + x1 * x0, sequences=dict(input=X, taps=[0, 1]), outputs_info=h0)
    cost = T.sum(A ** 2) + T.sum(A * B)
    f = thx.function([X, h0], [A, B] + T.grad(cost, [X, h0]))
    g = thx.function([X, h0], [A, B] + T.grad(cost, [X, h0]), mode=NO_MERGE)
    assert len([op for op in scans(f) if not op.reverse]) == 1
    assert len([op for op in scans(g) if not op.reverse]) == 2

    def jref(X, h0):
        def step(c, x):
            a, b = c
            a, b = a * 0.5 + x[1], b + x[1] * x[0]
            return (a, b), (a, b)
        return jax.lax.scan(step, (h0, h0), (X[:-1], X[1:]))[1]

    def jcost(X, h0):
        A, B = jref(X, h0)
        return jnp.sum(A ** 2) + jnp.sum(A * B)
    Xv = np.random.RandomState(8).randn(6)
    want = list(jref(Xv, 0.3)) + list(jax.grad(jcost, argnums=(0, 1))(Xv, 0.3))
    for got, e in zip(f(Xv, 0.3), want):
        assert_close(got, np.asarray(e), rtol=1e-12, atol=1e-12)


def test_step_counts_equal_only_below_2_31_are_not_merged():
    # n_steps = int32(X.shape[0]) wraps for 2**31 rows: not proven equal to X.shape[0]
    X, h0 = T.dvector("X"), T.dscalar("h0")
    A, _ = thx.scan(lambda x, h: h + x, sequences=X, outputs_info=h0)
    B, _ = thx.scan(lambda h: h * 2, outputs_info=h0, n_steps=T.cast(X.shape[0], "int32"))
    f = thx.function([X, h0], [A, B])
    assert len(scans(f)) == 2
    got = f(np.arange(1.0, 4.0), 1.0)
    assert_close(got[0], np.cumsum(np.arange(1.0, 4.0)) + 1.0)
    assert_close(got[1], np.array([2.0, 4.0, 8.0]))


def test_steps_form_proves_equal_lengths_and_refuses_unequal_ones():
    from thx.rewriting.steps_form import same_steps
    X, Y = T.dmatrix("X"), T.dmatrix("Y")
    n, m = X.shape[0], Y.shape[0]
    assert same_steps(T.minimum(n, m), T.minimum(m, n))
    assert same_steps(X[1:].shape[0], X[:-1].shape[0])
    assert same_steps(X[-3:].shape[0], T.minimum(n, 3))
    assert same_steps(T.maximum(n - 1, 0) + 1, T.maximum(n, 1))
    assert not same_steps(X[1:].shape[0], n - 1)  # 0 rows: max(-1, 0) = 0, not -1
    assert not same_steps(n, m)
    assert not same_steps(X[2:].shape[0], X[1:].shape[0])
    # checked against NumPy's slicing on every length up to 6
    forms = {"X[1:]": X[1:].shape[0], "X[:-1]": X[:-1].shape[0], "X[-3:]": X[-3:].shape[0],
             "X[2:5]": X[2:5].shape[0], "X[-4:-1]": X[-4:-1].shape[0]}
    f = thx.function([X], list(forms.values()))
    for rows in range(7):
        with thx.config.change_flags(shape_buckets="off"):  # one compile per length, silently
            got = f(np.zeros((rows, 2)))
        ref = np.arange(rows)
        want = [len(ref[1:]), len(ref[:-1]), len(ref[-3:]), len(ref[2:5]), len(ref[-4:-1])]
        assert [int(g) for g in got] == want
        for (k1, v1), w1 in zip(forms.items(), want):
            for (k2, v2), w2 in zip(forms.items(), want):
                if same_steps(v1, v2):
                    assert w1 == w2, (k1, k2, rows)
