"""thx.graph.evaluate: the one NumPy ``perform`` interpreter, against plain NumPy."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.graph.evaluate import evaluate


def test_evaluates_a_graph_like_numpy():
    x, y = T.dvector("x"), T.dmatrix("y")
    out = T.dot(y, T.exp(x)) - x.sum()
    xv, yv = np.array([0.1, -0.4]), np.arange(6.0).reshape(3, 2)
    (got,) = evaluate([out], {x: xv, y: yv})
    np.testing.assert_allclose(got, yv @ np.exp(xv) - xv.sum(), rtol=1e-15)


def test_several_outputs_shared_subgraphs_and_outputs_that_are_inputs_or_constants():
    x = T.dscalar("x")
    e = T.exp(x)
    c = T.constant(np.array([1.0, 2.0]))
    got = evaluate([e * 2, e + 1, x, c], {x: np.float64(0.5)})
    np.testing.assert_allclose(got[:2], [2 * np.exp(0.5), np.exp(0.5) + 1])
    assert got[2] == 0.5 and np.array_equal(got[3], [1.0, 2.0])


def test_givens_may_cut_the_graph_above_its_inputs():
    x = T.dvector("x")
    h = T.tanh(x)
    out = h * 3
    (got,) = evaluate([out], {h: np.array([1.0, 2.0])})  # x is never needed
    np.testing.assert_array_equal(got, [3.0, 6.0])


def test_a_missing_input_is_named():
    x, y = T.dscalars("x", "y")
    with pytest.raises(ValueError, match=r"no value given for variable y"):
        evaluate([x + y], {x: 1.0})


def test_deep_graphs_do_not_recurse():
    x = T.dscalar("x")
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 1
    (got,) = evaluate([y], {x: np.float64(0.0)})
    want = 0.0
    for _ in range(5000):
        want = want * 1.0001 + 1
    assert got == pytest.approx(want, rel=1e-12)


def test_scan_perform_uses_it_for_the_inner_graph():
    # Scan.perform runs its inner graph through evaluate: compare with a plain NumPy loop
    x = T.dvector("x")
    w = T.dscalar("w")
    acc, _ = thx.scan(lambda v, s, w_: T.tanh(s * w_ + v), sequences=x,
                      outputs_info=T.constant(np.float64(0.0)), non_sequences=w)
    xv = np.array([0.3, -1.0, 2.0, 0.5])
    (got,) = evaluate([acc], {x: xv, w: np.float64(0.8)})
    s, want = 0.0, []
    for v in xv:
        s = np.tanh(s * 0.8 + v)
        want.append(s)
    np.testing.assert_allclose(got, want, rtol=1e-14)
