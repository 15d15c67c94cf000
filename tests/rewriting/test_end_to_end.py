"""The optimizer seen through ``thx.function``: the tutorial's graph, stable numerics, shapes."""

from __future__ import annotations

import numpy as np

import thx
import thx.tensor as T
from thx.compile.mode import Mode
from thx.tensor.elemwise import Elemwise


def test_tutorial_gradient_is_one_node():
    import thx as theano
    import thx.tensor as T
    from thx import pp
    x = T.dscalar('x')
    f = theano.function([x], T.grad(x ** 2, x))
    assert pp(f.maker.fgraph.outputs[0]) == '(TensorConstant{2.0} * x)'
    with theano.config.change_flags(print_constants='short'):
        assert pp(f.maker.fgraph.outputs[0]) == '(2.0 * x)'
    assert len(f.maker.fgraph.toposort()) == 1
    assert f.maker.env is f.maker.fgraph
    assert f(4) == 8.0
    const = f.maker.fgraph.outputs[0].owner.inputs[0]
    assert const.dtype == "float64" and const.data == 2.0


def test_stabilization_end_to_end():
    z, m = T.dvector("z"), T.dmatrix("m")
    lab = T.lvector("lab")
    outs = [
        T.log(1 + z),                                   # log1p
        T.exp(z) - 1,                                   # expm1
        T.log(T.nnet.sigmoid(z)),                       # -softplus(-z)
        T.log(1 - T.nnet.sigmoid(z)),                   # -softplus(z)
        T.log(T.sum(T.exp(m), axis=1)),                 # max-shifted log-sum-exp
        T.log(T.nnet.softmax(m)),                       # logsoftmax
        T.nnet.softmax(m),
        T.nnet.categorical_crossentropy(T.nnet.softmax(m), lab),
        T.nnet.binary_crossentropy(T.nnet.sigmoid(z), 1.0),
    ]
    f = thx.function([z, m, lab], outs)
    zv = np.array([1e-20, 1e-10, -1000.0, 1000.0])
    mv = np.array([[1000.0, 1001.0, 1002.0], [-np.inf, -np.inf, -np.inf]])
    log1p, expm1, logsig, log1msig, lse, lsm, sm, cce, bce = f(zv, mv[:1], [2])
    np.testing.assert_allclose(log1p[:2], np.log1p(zv[:2]), rtol=1e-14)
    np.testing.assert_allclose(expm1[:2], np.expm1(zv[:2]), rtol=1e-14)
    np.testing.assert_allclose(logsig[2], -1000.0)
    np.testing.assert_allclose(log1msig[3], -1000.0)
    np.testing.assert_allclose(lse, [1002.0 + np.log(np.exp(-2) + np.exp(-1) + 1)])
    ref = np.array([-2, -1, 0]) - np.log(np.exp(-2) + np.exp(-1) + 1)
    np.testing.assert_allclose(lsm, [ref])
    np.testing.assert_allclose(sm, [np.exp(ref)])
    np.testing.assert_allclose(cce, [-ref[2]])
    np.testing.assert_allclose(bce[2], 1000.0)
    # a row of -inf keeps its log-sum-exp (-inf), it does not become nan
    assert f(zv, mv[1:], [0])[4][0] == -np.inf
    # the unoptimized graph loses all of these
    g = thx.function([z], [T.log(1 + z), T.log(T.nnet.sigmoid(z))], mode=Mode(optimizer=None))
    lo, ls = g(zv)
    assert lo[0] == 0.0 and ls[2] == -np.inf


def test_shape_of_an_expression_does_not_compute_it():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = thx.function([x, y], (x + y).shape)
    assert not [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]
    assert f(np.ones((2, 3)), np.ones((2, 3))).tolist() == [2, 3]
    g = thx.function([x], (T.exp(x) ** 2).shape[1])
    assert [type(n.op).__name__ for n in g.maker.fgraph.toposort()] == ["Shape", "Subtensor"]
    assert g(np.ones((4, 5))) == 5


def test_logistic_regression_gradient_is_stable_and_correct():
    x, y = T.dmatrix("x"), T.dvector("y")
    w = T.dvector("w")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w)))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    gw = T.grad(xent.mean(), w)
    f = thx.function([x, y, w], [xent, gw])
    xv = np.array([[1.0, 2.0], [-3.0, 0.5]])
    yv, wv = np.array([1.0, 0.0]), np.array([0.3, -0.2])
    zv = xv @ wv
    p = 1 / (1 + np.exp(-zv))
    got_x, got_g = f(xv, yv, wv)
    np.testing.assert_allclose(got_x, -yv * np.log(p) - (1 - yv) * np.log(1 - p))
    np.testing.assert_allclose(got_g, xv.T @ (p - yv) / 2)
    big = f(np.array([[800.0, 0.0]]), np.array([0.0]), np.array([1.0, 1.0]))
    assert np.isfinite(big[0]).all() and big[0][0] == 800.0
    # a confident prediction (1 - p_1 rounds to 0 in float64): 1 - sigmoid(z) -> sigmoid(-z)
    conf = f(np.array([[50.0, 0.0]]), np.array([0.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(conf[0], [50.0])
    np.testing.assert_allclose(conf[1], [50.0, 0.0])
