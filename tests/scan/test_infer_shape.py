"""Scan.infer_shape: the shape of a scan output without running the loop (NumPy loop as oracle)."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.rewriting.shape import _LazyShape
from thx.scan.op import Scan

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 3))
H0 = RNG.standard_normal(3)


def _numpy_outputs():
    """The four outputs below, computed by plain NumPy loops."""
    hs, h = [], H0
    for xt in X:
        h = np.tanh(xt @ W + h)
        hs.append(h)
    ys = [np.full((3, 2), (xt @ W).sum() + 1.0) for xt in X]
    fib = [H0, H0]
    for _ in range(5):
        fib.append(fib[-1] + fib[-2])
    twice, sums, h = [], [], H0
    for _ in range(5):
        twice.append(h * 2)
        sums.append(h.sum())
        h = h * 2
    return [np.array(hs), np.array(ys), np.array(fib[2:]), np.array(twice), np.array(sums)]


def _thx_outputs():
    x, w, h0 = T.dmatrix("x"), T.dmatrix("W"), T.dvector("h0")
    hs, _ = thx.scan(lambda xt, h, w: T.tanh(T.dot(xt, w) + h), sequences=x, outputs_info=h0,
                     non_sequences=w)
    ys, _ = thx.scan(lambda xt, w: T.dot(xt, w).sum() + T.ones((3, 2)), sequences=x, non_sequences=w)
    fib, _ = thx.scan(lambda a, b: a + b, outputs_info=[{"initial": T.stack([h0, h0]), "taps": [-2, -1]}],
                      n_steps=5)
    (twice, sums), _ = thx.scan(lambda h: [h * 2, h.sum()], outputs_info=[h0, None], n_steps=5)
    return [x, w, h0], [hs, ys, fib, twice, sums]


@pytest.mark.parametrize("k", range(5))
def test_shape_of_scan_output_without_the_loop(k):
    ins, outs = _thx_outputs()
    f = thx.function(ins, outs[k].shape, on_unused_input="ignore")
    assert not any(isinstance(n.op, Scan) for n in f.maker.fgraph.apply_nodes)
    assert tuple(f(X, W, H0)) == _numpy_outputs()[k].shape


def test_infer_shape_gives_the_full_traces_and_nit_outputs():
    h0 = T.dvector("h0")
    (twice, sums), _ = thx.scan(lambda h: [h * 2, h.sum()], outputs_info=[h0, None], n_steps=5)
    node = sums.owner
    assert isinstance(node.op, Scan)
    trace, nit = node.op.infer_shape(None, node, [_LazyShape(i) for i in node.inputs])
    shape_fn = thx.function([h0], [T.stack(list(trace)), T.stack(list(nit))])
    trace_shape, nit_shape = shape_fn(H0)
    assert tuple(trace_shape) == (6, 3)  # the initial row, then 5 steps
    assert tuple(nit_shape) == (5,)


def test_infer_shape_refuses_a_loop_with_a_stop_condition():
    from thx.scan.frontend import until
    x = T.dscalar("x")
    out, _ = thx.scan(lambda v: (v * 2, until(v > 10)), outputs_info=x, n_steps=20)
    node = out.owner
    while not isinstance(node.op, Scan):
        node = node.inputs[0].owner
    with pytest.raises(NotImplementedError, match="run time"):
        node.op.infer_shape(None, node, [_LazyShape(i) for i in node.inputs])
    assert f_shape(x, out)(1.0) == (5,)


def f_shape(x, out):
    f = thx.function([x], out.shape)
    return lambda v: tuple(f(v))


def test_infer_shape_refuses_a_shape_computed_inside_the_loop():
    x = T.dvector("x")
    # each step's row length depends on a value computed in the loop: no outer formula
    out, _ = thx.scan(lambda v: T.zeros((T.cast(v.sum(), "int64"),)) + v.sum(), outputs_info=None,
                      non_sequences=x, n_steps=3)
    node = out.owner
    while not isinstance(node.op, Scan):
        node = node.inputs[0].owner
    with pytest.raises(NotImplementedError):
        node.op.infer_shape(None, node, [_LazyShape(i) for i in node.inputs])
