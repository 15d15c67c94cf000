"""thx.scan forward semantics, each result checked against a Python loop in NumPy."""

from collections import OrderedDict

import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.gradient import DisconnectedInputError
from thx.graph.evaluate import evaluate
from thx.graph.fg import MissingInputError
from thx.scan.op import Scan

RNG = np.random.RandomState(1234)


def scan_nodes(fn):
    return [n for n in fn.maker.fgraph.toposort() if isinstance(n.op, Scan)]


# ------------------------------------------------------------------ Theano's loop tutorial

def test_power_with_symbolic_n_steps():
    k, A = T.iscalar("k"), T.vector("A")
    result, updates = theano.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    assert isinstance(updates, OrderedDict) and not updates
    power = theano.function([A, k], result[-1], updates=updates)
    a = np.arange(10.0)
    np.testing.assert_array_equal(power(a, 2), a ** 2)
    np.testing.assert_array_equal(power(a, 4), a ** 4)  # a second static value of k


def test_polynomial_with_two_sequences_of_different_lengths():
    coefficients, x = T.vector("coefficients"), T.scalar("x")
    components, _ = theano.scan(lambda c, p, v: c * (v ** p), outputs_info=None,
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    f = theano.function([coefficients, x], components.sum())
    assert f(np.asarray([1, 0, 2], dtype=theano.config.floatX), 3) == 19.0


def test_until_power_of_two():
    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.), non_sequences=max_value,
                            n_steps=1024)
    f = theano.function([max_value], values)
    np.testing.assert_array_equal(f(45), [2., 4., 8., 16., 32., 64.])
    np.testing.assert_array_equal(f(1000), 2.0 ** np.arange(1, 11))  # another length, same fn
    np.testing.assert_array_equal(f(-1), [2.])  # true at the first step: that step is kept


# ------------------------------------------------------------------ taps, directions, lengths

def test_sequence_taps_follow_theano_offsets():
    s = T.dvector("s")
    out, _ = theano.scan(lambda a, b, c: a + 2 * b + 3 * c,
                         sequences=dict(input=s, taps=[-2, 0, 1]))
    neg, _ = theano.scan(lambda a, b: a - b, sequences=dict(input=s, taps=[-3, -1]))
    f = theano.function([s], [out, neg])
    v = RNG.randn(9)
    got, got_neg = f(v)
    np.testing.assert_allclose(got, [v[t] + 2 * v[t + 2] + 3 * v[t + 3] for t in range(6)])
    # all taps negative: Theano 1.0 cuts as if tap 0 were used, s[0:-3] and s[2:-1]
    np.testing.assert_allclose(got_neg, [v[t] - v[t + 2] for t in range(6)])


def test_output_taps_fibonacci_and_gapped_taps():
    n = T.iscalar("n")
    fib, _ = theano.scan(lambda a, b: a + b, n_steps=n,
                         outputs_info=[dict(initial=T.constant(np.array([0., 1.])), taps=[-2, -1])])
    x0 = T.dvector("x0")
    gap, _ = theano.scan(lambda a, b: a * 0.5 + b, n_steps=5,
                         outputs_info=[dict(initial=x0, taps=[-3, -1])])
    f = theano.function([n, x0], [fib, gap])
    init = np.array([1., 2., 3.])
    got_fib, got_gap = f(8, init)
    np.testing.assert_array_equal(got_fib, [1, 2, 3, 5, 8, 13, 21, 34])
    hist = list(init)
    for _ in range(5):
        hist.append(hist[-3] * 0.5 + hist[-1])
    np.testing.assert_allclose(got_gap, hist[3:])


def test_go_backwards_with_recurrence_and_nit_output():
    v, h0 = T.dvector("v"), T.dscalar("h0")
    (acc, dbl), _ = theano.scan(lambda x, h: [h * 0.9 + x, 2 * x], sequences=v,
                                outputs_info=[h0, None], go_backwards=True)
    f = theano.function([v, h0], [acc, dbl])
    x = RNG.randn(6)
    got_acc, got_dbl = f(x, 0.5)
    ref, h = [], 0.5
    for e in x[::-1]:
        h = h * 0.9 + e
        ref.append(h)
    np.testing.assert_allclose(got_acc, ref)
    np.testing.assert_allclose(got_dbl, 2 * x[::-1])


def test_n_steps_shorter_than_sequence_and_too_long():
    v, k = T.dvector("v"), T.iscalar("k")
    out, _ = theano.scan(lambda x: x * 3, sequences=v, n_steps=k)
    f = theano.function([v, k], out)
    x = RNG.randn(5)
    np.testing.assert_allclose(f(x, 3), 3 * x[:3])
    np.testing.assert_allclose(f(x, 0), np.zeros(0))
    with pytest.raises(ValueError, match="fewer than the 7 steps"):
        f(x, 7)


def test_until_with_sequence_stops_early_or_runs_out():
    v = T.dvector("v")
    (total, seen), _ = theano.scan(
        lambda x, s: ([s + x, x], theano.scan_module.until(s + x > 3)),
        sequences=v, outputs_info=[T.constant(0.0, dtype="float64"), None])
    f = theano.function([v], [total, seen.sum()])
    x = np.array([1., 1., 1.5, 5., 7.])
    got_total, got_seen = f(x)
    np.testing.assert_allclose(got_total, [1., 2., 3.5])
    assert got_seen == 3.5
    got_total, _ = f(np.array([0.1, 0.2]))  # never true: all steps run
    np.testing.assert_allclose(got_total, [0.1, 0.3])


# ------------------------------------------------------------------ updates and shared variables

def test_shared_variable_updates_and_implicit_shared_input():
    counter = theano.shared(np.float64(0.0), name="counter")
    scale = theano.shared(np.float64(2.0), name="scale")  # used, not updated, not listed
    v = T.dvector("v")
    out, updates = theano.scan(lambda x: (x * counter * scale, OrderedDict([(counter, counter + 1)])),
                               sequences=v)
    assert list(updates) == [counter]
    f = theano.function([v], out, updates=updates)
    x = np.array([1., 2., 3.])
    np.testing.assert_allclose(f(x), x * np.arange(3) * 2)
    assert counter.get_value() == 3.0
    np.testing.assert_allclose(f(x), x * np.arange(3, 6) * 2)
    assert counter.get_value() == 6.0


def test_strict_requires_shared_variables_in_non_sequences():
    w = theano.shared(np.ones(2), name="w")
    v = T.dmatrix("v")
    with pytest.raises(MissingInputError, match="shared variable w"):  # Theano's type
        theano.scan(lambda x: x * w, sequences=v, strict=True)
    out, _ = theano.scan(lambda x, w: x * w, sequences=v, non_sequences=w, strict=True)
    np.testing.assert_allclose(theano.function([v], out)(np.full((2, 2), 3.)), np.full((2, 2), 3.))


# ------------------------------------------------------------------ how fn is called, what comes back

def test_fn_receives_outer_non_sequences_and_free_variables_are_implicit():
    x, y, v = T.dvector("x"), T.dscalar("y"), T.dvector("v")
    seen = []

    def step(e, x):
        seen.append(x)
        return e * x.sum() + y  # y: not listed, becomes an implicit non-sequence

    out, _ = theano.scan(step, sequences=v, non_sequences=x)
    assert seen == [x]
    f = theano.function([v, x, y], out)
    np.testing.assert_allclose(f([1., 2.], [3., 4.], 0.5), [7.5, 14.5])


def test_output_structure_and_return_list():
    v = T.dvector("v")
    one, _ = theano.scan(lambda x: x + 1, sequences=v)
    two, _ = theano.scan(lambda x: [x + 1, x * 2], sequences=v)
    lst, _ = theano.scan(lambda x: x + 1, sequences=v, return_list=True)
    c = theano.shared(0.0)
    none, upd = theano.scan(lambda x: {c: c + x}, sequences=v)
    assert isinstance(one, T.TensorVariable) and isinstance(two, list) and len(two) == 2
    assert isinstance(lst, list) and len(lst) == 1 and none is None and list(upd) == [c]
    f = theano.function([v], two + lst)
    a, b, d = f([1., 2.])
    np.testing.assert_allclose(a, [2., 3.]), np.testing.assert_allclose(b, [2., 4.])
    np.testing.assert_allclose(d, [2., 3.])


def test_map_reduce_foldl_foldr():
    v, w = T.dvector("v"), T.dvector("w")
    m, _ = theano.map(lambda a, b: a * b, [v, w])
    r, _ = theano.reduce(lambda a, acc: acc * 2 + a, v, T.constant(0.0, dtype="float64"))
    fl, _ = theano.foldl(lambda a, acc: acc - a, v, T.constant(10.0, dtype="float64"))
    fr, _ = theano.foldr(lambda a, acc: acc * 10 + a, v, T.constant(0.0, dtype="float64"))
    f = theano.function([v, w], [m, r, fl, fr])
    x, y = np.array([1., 2., 3.]), np.array([4., 5., 6.])
    got = f(x, y)
    acc = 0.0
    for a in x:
        acc = acc * 2 + a
    np.testing.assert_allclose(got[0], x * y)
    assert got[1] == acc and got[2] == 10 - 6 and got[3] == 321.0


def test_nested_scan():
    M = T.dmatrix("M")

    def row_cumsum(row):
        c, _ = theano.scan(lambda e, s: s + e, sequences=row, outputs_info=T.zeros_like(row[0]))
        return c

    out, _ = theano.scan(row_cumsum, sequences=M)
    m = RNG.randn(3, 4)
    np.testing.assert_allclose(theano.function([M], out)(m), np.cumsum(m, axis=1))


def test_broadcastable_state_must_match_the_step_result():
    v = T.dvector("v")
    h0 = T.zeros((1,))  # broadcastable (True,)
    step = lambda x, h: h + x[0:1]  # noqa: E731  (a (False,) result)
    with pytest.raises(TypeError, match="Inconsistency in the inner graph of scan"):
        theano.scan(step, sequences=T.stack([v, v]), outputs_info=h0)  # as Theano
    out, _ = theano.scan(step, sequences=T.stack([v, v]), outputs_info=T.unbroadcast(h0, 0))
    np.testing.assert_allclose(theano.function([v], out)([2., 5.]), [[2.], [4.]])
    # a result more broadcastable than its state is fine
    out, _ = theano.scan(lambda h: T.zeros((1,)) + h.sum(), outputs_info=T.unbroadcast(h0, 0),
                         n_steps=2)
    np.testing.assert_allclose(theano.function([], out)(), [[0.], [0.]])


# ------------------------------------------------------------------ lowering forms agree

def test_map_lowering_vmap_and_scan_agree_and_numpy_perform():
    x = T.dvector("x")
    y = T.exp(x) * x
    J, _ = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                       non_sequences=[y, x])
    val = RNG.randn(4)
    f_vmap = theano.function([x], J)
    with theano.config.change_flags(scan_map_lowering="scan"):
        f_scan = theano.function([x], J)
    expected = np.diag(np.exp(val) * (1 + val))
    np.testing.assert_allclose(f_vmap(val), expected)
    np.testing.assert_allclose(f_scan(val), expected)
    assert [n.op.is_map() for n in scan_nodes(f_vmap)] == [True]
    # the Scan op's NumPy reference (used for constant folding) agrees too
    (performed,) = evaluate([J], {x: val})
    np.testing.assert_allclose(performed, expected)


def test_per_step_index_increments_under_vmap():
    idx, M = T.lvector("idx"), T.dmatrix("M")
    out, _ = theano.map(lambda i, M: T.set_subtensor(M[i], M[i] * 2) + T.inc_subtensor(M[i], 1.0),
                        [idx], non_sequences=M)
    m, ii = RNG.randn(3, 2), np.array([0, -1, 2, 1])
    ref = []
    for i in ii:
        a, b = m.copy(), m.copy()
        a[i] *= 2
        b[i] += 1
        ref.append(a + b)
    np.testing.assert_allclose(theano.function([idx, M], out)(ii, m), ref)
    with theano.config.change_flags(scan_map_lowering="scan"):
        np.testing.assert_allclose(theano.function([idx, M], out)(ii, m), ref)


def test_recurrent_scan_numpy_perform_and_lowering_match_a_numpy_loop():
    v, h0 = T.dvector("v"), T.dscalar("h0")
    out, _ = theano.scan(lambda x, a, b: a * 0.5 + b * x, sequences=v, n_steps=4,
                         outputs_info=[dict(initial=T.stack([h0, h0 + 1]), taps=[-2, -1])])
    vv, h = RNG.randn(5), 0.3
    hist = [h, h + 1]
    for t in range(4):  # taps -2 and -1: the two previous values
        hist.append(hist[t] * 0.5 + hist[t + 1] * vv[t])
    want = np.array(hist[2:])
    np.testing.assert_allclose(theano.function([v, h0], out)(vv, h), want, rtol=1e-14)
    # Scan.perform, the NumPy reference used by constant folding, run through graph/evaluate
    (performed,) = evaluate([out], {v: vv, h0: np.float64(h)})
    np.testing.assert_allclose(performed, want, rtol=1e-14)


# ------------------------------------------------------------------ errors

def test_tutorial_pitfall_is_disconnected():
    x = T.dvector("x")
    y = x ** 2
    with pytest.raises(DisconnectedInputError):
        theano.scan(lambda y_i, x: T.grad(y_i, x), sequences=y, non_sequences=x)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(fn=lambda x: [x, x * 2], sequences="v", outputs_info=[None]), ValueError,
     "Please provide None as outputs_info"),
    (dict(fn=lambda x, h: h + x, sequences="v", outputs_info="f32"), TypeError,
     r"float64.*float32|float32.*float64"),
    (dict(fn=lambda: T.constant(1.0), outputs_info=None), ValueError, "No information about the number of steps"),
    (dict(fn=lambda x, h: h + x, sequences="v", outputs_info=[dict(initial="v", taps=[1])]),
     ValueError, "future taps"),
    (dict(fn=lambda x: 3, sequences="v"), ValueError, "may only be made of"),
    (dict(fn=lambda x: x, sequences="v", n_steps=2.5), ValueError, "n_steps must be an int"),
    (dict(fn=lambda x: x, sequences="v", n_steps=-2), IndexError, "negative number of steps"),
])
def test_clear_errors(kwargs, exc, match):
    v = T.dvector("v")
    f32 = T.fscalar("f32")
    subst = {"v": v, "f32": f32}
    kw = {}
    for k, a in kwargs.items():
        if isinstance(a, str):
            a = subst[a]
        elif isinstance(a, list):
            a = [dict((kk, subst.get(vv, vv) if isinstance(vv, str) else vv) for kk, vv in e.items())
                 if isinstance(e, dict) else e for e in a]
        kw[k] = a
    with pytest.raises(exc, match=match):
        theano.scan(**kw)


def test_until_inside_another_scan_is_reported():
    M = T.dmatrix("M")

    def inner(row):
        out, _ = theano.scan(lambda e: (e, theano.scan_module.until(e > 0)), sequences=row)
        return out.sum()

    out, _ = theano.scan(inner, sequences=M)
    f = theano.function([M], out)
    with pytest.raises(ValueError, match="stop condition"):
        f(np.ones((2, 2)))


def test_random_stream_in_step_draws_per_step_and_advances():
    X, W = T.dmatrix("X"), T.dmatrix("W")
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)  # built outside the step, as in Theano's tutorial
    out, updates = theano.scan(lambda v: T.dot(v, W) * d, sequences=X)
    u, upd_u = theano.scan(lambda v: v + trng.uniform(size=(2,)), sequences=X)  # built inside
    assert len(updates) == 1 and len(upd_u) == 1  # the generator state is a loop update
    f = theano.function([X, W], [out, u], updates=list(updates.items()) + list(upd_u.items()))
    x = np.ones((12, 2))
    noise, uni = f(x, np.ones((2, 2)))
    # each step drew its own numbers (Theano's semantics): rows differ, values are 0/2 and in [1, 2)
    assert set(np.unique(noise)) <= {0.0, 2.0} and len({tuple(r) for r in noise}) > 1
    assert ((uni >= 1) & (uni < 2)).all() and len({tuple(r) for r in uni}) == 12
    noise2, uni2 = f(x, np.ones((2, 2)))
    assert not np.array_equal(uni, uni2)  # the state advanced between calls
