"""The first part of Theano's "Derivatives in Theano" tutorial, asserted exactly."""

import numpy
import pytest

import thx as theano
import thx.tensor as T
from thx import pp


@pytest.fixture
def short_constants():
    old = theano.config.print_constants
    theano.config.print_constants = "short"
    yield
    theano.config.print_constants = old


def test_pp_of_gradient_theano_1_0_form():
    x = T.dscalar('x')
    y = x ** 2
    gy = T.grad(y, x)
    assert pp(gy) == ('((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * '
                      '(x ** (TensorConstant{2} - TensorConstant{1})))')


def test_pp_of_gradient_short_form(short_constants):
    x = T.dscalar('x')
    gy = T.grad(x ** 2, x)
    assert pp(gy) == '((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))'


def test_compiled_gradient_values():
    x = T.dscalar('x')
    f = theano.function([x], T.grad(x ** 2, x))
    out = f(4)
    assert isinstance(out, numpy.ndarray) and out.dtype == numpy.float64 and out.shape == ()
    assert repr(out) == 'array(8.)'
    assert numpy.allclose(f(94.2), 188.4)


def test_logistic_gradient():
    x = T.dmatrix('x')
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = theano.function([x], gs)
    out = dlogistic([[0, 1], [-1, -2]])
    sig = 1 / (1 + numpy.exp(-numpy.array([[0., 1.], [-1., -2.]])))
    numpy.testing.assert_allclose(out, sig * (1 - sig))
    numpy.testing.assert_allclose(out, [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_grad_list_in_list_out_in_order():
    a, b = T.dscalar('a'), T.dvector('b')
    cost = T.sum(a * b ** 3)
    ga, gb = T.grad(cost, [a, b])
    f = theano.function([a, b], [ga, gb])
    va, vb = f(2.0, [1.0, 2.0])
    assert numpy.allclose(va, 1 + 8) and numpy.allclose(vb, [6.0, 24.0])
    (only_b,) = T.grad(cost, [b])
    assert theano.function([a, b], only_b)(2.0, [1.0, 2.0]).tolist() == [6.0, 24.0]
