"""thx.grad's API: options, errors, deep graphs."""

import sys
import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.gradient import DisconnectedInputError, NullTypeGradError


def test_non_scalar_cost_is_a_type_error():
    x = T.dvector('x')
    with pytest.raises(TypeError, match="cost must be a scalar"):
        T.grad(x ** 2, x)


def test_disconnected_input_raises_warns_or_ignores():
    x, y = T.dscalar('x'), T.dscalar('y')
    cost = x ** 2
    with pytest.raises(DisconnectedInputError, match="y"):
        T.grad(cost, y)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = T.grad(cost, y, disconnected_inputs='warn')
        assert any("not part of the computational graph" in str(m.message) for m in w)
    assert thx.function([y], g, on_unused_input='ignore')(3.0) == 0.0
    assert T.grad(cost, y, disconnected_inputs='ignore', return_disconnected='None') is None
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(cost, x, disconnected_inputs='bogus')


def test_consider_constant_blocks_the_gradient():
    x = T.dscalar('x')
    y = x ** 2
    cost = y * x
    g = T.grad(cost, x, consider_constant=[y])
    # d(y * x)/dx with y held constant = y = x**2
    assert thx.function([x], g)(3.0) == 9.0
    g2 = T.grad(thx.gradient.consider_constant(y) * x, x)
    assert thx.function([x], g2)(3.0) == 9.0


def test_known_grads_and_lop_agree_with_jax():
    import jax
    x = T.dvector('x')
    y = T.tanh(x) * 2
    v = T.dvector('v')
    g = T.grad(None, x, known_grads={y: v})
    xv, vv = np.array([0.3, -0.4]), np.array([1.5, 2.0])
    with jax.enable_x64(True):
        _, vjp = jax.vjp(lambda a: jax.numpy.tanh(a) * 2, xv)
        expected = np.asarray(vjp(vv)[0])
    np.testing.assert_allclose(thx.function([x, v], g)(xv, vv), expected)


def test_null_gradient_raises():
    x = T.dscalar('x')
    with pytest.raises(NullTypeGradError):
        T.grad(thx.gradient.undefined_grad(x) * 2, x)


def test_integer_wrt_gets_zero_gradient():
    i = T.iscalar('i')
    x = T.dscalar('x')
    g = T.grad(x * i, i)
    assert float(thx.function([x, i], g, on_unused_input='ignore')(2.0, 3)) == 0.0


def test_deep_chain_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10000
    x = T.dscalar('x')
    chain = x
    for _ in range(5000):
        chain = T.sin(chain)
    assert thx.pp(chain).count("sin") == 5000  # printing walks the graph too
    shared = x
    for _ in range(60):
        shared = T.sin(shared) * 0.5 + shared * 0.5  # pp's one-line form doubles at each level
    with pytest.raises(ValueError, match="debugprint"):
        thx.pp(shared)
    y = x
    for _ in range(5000):
        y = y + 0.001 * T.sin(y)
    g = T.grad(y, x)
    assert thx.debugprint(g, file='str').count("sin") >= 5000
    # XLA takes long to compile a 20,000-op program, so evaluate with the ops' NumPy reference;
    # the compiled path is exercised on a 500-deep chain below.
    from tests.oracle import numpy_eval
    (val,) = numpy_eval([g], {x: np.asarray(0.3)})
    # forward-mode reference computed by the chain rule in NumPy
    v, d = 0.3, 1.0
    for _ in range(5000):
        d = d * (1 + 0.001 * np.cos(v))
        v = v + 0.001 * np.sin(v)
    np.testing.assert_allclose(val, d, rtol=1e-10)
    z = x
    for _ in range(500):
        z = z + 0.001 * T.sin(z)
    d500, v = 1.0, 0.3
    for _ in range(500):
        d500 = d500 * (1 + 0.001 * np.cos(v))
        v = v + 0.001 * np.sin(v)
    np.testing.assert_allclose(thx.function([x], T.grad(z, x))(0.3), d500, rtol=1e-10)


def test_grad_of_shared_variable():
    w = thx.shared(np.array([1.0, 2.0]), name='w')
    x = T.dvector('x')
    g = T.grad(T.sum((w * x) ** 2), w)
    np.testing.assert_allclose(thx.function([x], g)([3.0, 1.0]), 2 * np.array([3.0, 2.0]) * np.array([3.0, 1.0]))


def test_gradient_sums_in_theano_order():
    x = T.dscalar('x')
    cost = x * 3 + T.exp(x)
    thx.config.print_constants = 'short'
    try:
        s = thx.pp(T.grad(cost, x))
    finally:
        thx.config.print_constants = 'theano'
    # the terms are summed in the order the walk from the cost meets x's clients (mul, then exp)
    assert s == "((fill(((x * 3) + exp(x)), 1.0) * 3) + (fill(((x * 3) + exp(x)), 1.0) * exp(x)))"


def test_verify_grad_passes_and_detects_errors():
    rng = np.random.RandomState(0)
    thx.gradient.verify_grad(lambda a, b: T.dot(a, b) ** 2, [rng.rand(2, 3), rng.rand(3)], rng=rng)
    with pytest.raises(TypeError, match="floating point"):
        thx.gradient.verify_grad(lambda a: a * 2, [np.array([1, 2])])
