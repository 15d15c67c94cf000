"""thx.function: inputs, defaults, outputs, shared variables, updates, givens, errors."""

import pickle

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx import In, Out, function, shared
from thx.compile import UnusedInputError
from thx.graph.fg import MissingInputError


def test_multiple_outputs_and_single_output_forms():
    a, b = T.dmatrices('a', 'b')
    diff = a - b
    f = function([a, b], [diff, abs(diff), diff ** 2])
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(d, [[1, 0], [-1, -2]])
    np.testing.assert_array_equal(ad, [[1, 0], [1, 2]])
    np.testing.assert_array_equal(d2, [[1, 0], [1, 4]])
    g = function([a], Out(a * 2))
    np.testing.assert_array_equal(g([[1.0]]), [[2.0]])


def test_in_default_values_and_keyword_names():
    x, y, w = T.dscalars('x', 'y', 'w')
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name='w_by_name')], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0
    with pytest.raises(TypeError, match="Unknown input"):
        f(33, nope=1)
    with pytest.raises(TypeError, match="Missing required input: x"):
        f()
    with pytest.raises(TypeError, match="Too many parameters"):
        f(1, 2, 3, 4)


def test_shared_state_with_updates_as_list_and_dict():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0
    assert state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor = function([inc], state, updates={state: state - inc})
    decrementor(2)
    assert state.get_value() == 0


def test_givens_replace_a_shared_variable():
    state = shared(0)
    inc = T.iscalar('inc')
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0


def test_copy_with_swap_and_delete_updates():
    state = shared(0)
    inc = T.iscalar('inc')
    acc = function([inc], state, updates=[(state, state + inc)])
    acc(10)
    new_state = shared(0)
    new_acc = acc.copy(swap={state: new_state})
    assert new_acc(100) == [0]  # Theano 1.0's tutorial: ``[array(0)]``, a list
    assert new_state.get_value() == 100 and state.get_value() == 10
    null_acc = acc.copy(delete_updates=True)
    assert null_acc(9000) == [10]  # ``[array(10)]``
    assert state.get_value() == 10


def test_bad_arguments_raise_clear_type_errors_and_function_keeps_working():
    x = T.dvector('x')
    f = function([x], x * 2, name='double')
    with pytest.raises(TypeError, match=r"(?i)index 0 \(0-based\).*'x'.*wrong number of dimensions: expected 1, got 2"):
        f([[1.0]])
    with pytest.raises(TypeError, match="numeric"):
        f(["a", "b"])
    i = T.ivector('i')
    g = function([i], i + 1)
    with pytest.raises(TypeError, match="cannot store accurately"):
        g([1.5])
    with pytest.raises(TypeError, match="loss of precision"):
        g(np.array([1, 2], dtype="int64"))
    np.testing.assert_array_equal(g(np.array([1, 2], dtype="int32")), [2, 3])
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    h = function([i], i + 1, allow_input_downcast=True)
    np.testing.assert_array_equal(h([1.5]), [2])


def test_unused_and_missing_inputs():
    x, y = T.dscalars('x', 'y')
    with pytest.raises(UnusedInputError, match="index 1"):
        function([x, y], x * 2)
    f = function([x, y], x * 2, on_unused_input='ignore')
    assert f(1.0, 5.0) == 2.0
    with pytest.raises(MissingInputError, match="y"):
        function([x], x * y)
    with pytest.raises(TypeError, match="list"):
        function(x, x)
    with pytest.raises(ValueError, match="twice"):
        function([x, x], x)


def test_runtime_shape_error_is_clear_and_shared_state_untouched():
    a = T.dmatrix('a')
    w = shared(np.ones(2))
    f = function([a], T.dot(a, a), updates=[(w, w + 1)])
    with pytest.raises(ValueError, match="input shapes"):
        f(np.ones((3, 4)))
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(f(np.ones((2, 2))), [[2.0, 2.0], [2.0, 2.0]])
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0])


def test_shared_variable_api():
    s = shared(np.array([1.0, 2.0]), name='s')
    v = s.get_value()
    v[0] = 99
    assert s.get_value()[0] == 1.0
    s.set_value([3.0, 4.0])
    np.testing.assert_array_equal(s.get_value(), [3.0, 4.0])
    with pytest.raises(TypeError):
        s.set_value([[1.0]])
    assert s.type == T.dvector
    assert shared(1.5).dtype == 'float64' and shared(3).dtype == 'int64'


def test_eval_and_device_arrays():
    x = T.dscalar('x')
    assert (x * 3).eval({x: 2.0}) == 6.0
    f = function([x], x + 1, return_device_arrays=True)
    import jax
    assert isinstance(f(1.0), jax.Array)
    assert "stablehlo" in f.lower_text(1.0) or "func" in f.lower_text(1.0)


def test_static_integer_input_sets_a_shape():
    n = T.iscalar('n')
    x = T.dvector('x')
    f = function([n, x], T.zeros((n,)) + x[0])
    np.testing.assert_array_equal(f(3, [2.0]), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(f(2, [1.0]), [1.0, 1.0])


def test_modes_are_accepted():
    x = T.dscalar('x')
    for mode in ('FAST_RUN', 'FAST_COMPILE', thx.Mode(optimizer=None), thx.Mode(linker='py')):
        assert function([x], x * 2, mode=mode)(2.0) == 4.0
    with pytest.raises(ValueError, match="unknown mode"):
        function([x], x, mode='FASTEST')


def test_type_repr_and_str():
    assert repr(T.dscalar('x').type) == 'TensorType(float64, scalar)'
    assert str(T.fmatrix().type) == 'TensorType(float32, matrix)'
    assert str(T.drow().type) == 'TensorType(float64, row)'
    assert str(T.dcol().type) == 'TensorType(float64, col)'
    assert str(T.dtensor3().type) == 'TensorType(float64, 3D)'
    assert str(T.TensorType('int8', (False, True, False))) == 'TensorType(int8, (False, True, False))'


def test_jitted_callable_composes_with_jax_transformations():
    import jax
    x = T.dscalar('x')
    f = function([x], T.sin(x) * x)
    xs = np.linspace(-1.0, 1.0, 5)
    with jax.enable_x64(True):
        batched = jax.vmap(lambda v: f.jax_fn(v)[0])(xs)
        slope = jax.grad(lambda v: f.jax_fn(v)[0])(0.5)
    np.testing.assert_allclose(np.asarray(batched), np.sin(xs) * xs)
    np.testing.assert_allclose(float(slope), np.cos(0.5) * 0.5 + np.sin(0.5))
