"""Shared variables on the device (issue 11): uploaded once, donated when updated, NumPy out.

Also: function outputs are writable NumPy arrays (Theano's contract).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import thx
import thx.tensor as T


def _internal(s):
    return s.get_value(return_internal_type=True)


def test_a_shared_tensor_lives_on_the_device_and_get_value_copies():
    thx.function([], thx.shared(0.0) + 1)  # loads the lowering layer (installs the upload)
    v = np.arange(6.0).reshape(2, 3)
    s = thx.shared(v)
    assert isinstance(_internal(s), jax.Array) and _internal(s).dtype == np.float64
    v[0, 0] = 100.0  # shared() copied
    got = s.get_value()
    assert type(got) is np.ndarray and got.flags.writeable and got[0, 0] == 0.0
    got[0, 1] = -1.0  # a copy: the stored value is unchanged
    np.testing.assert_array_equal(s.get_value(), np.arange(6.0).reshape(2, 3))
    view = s.get_value(borrow=True)
    assert not view.flags.writeable
    s.set_value(np.ones((2, 3)))
    assert isinstance(_internal(s), jax.Array)
    np.testing.assert_array_equal(s.get_value(), np.ones((2, 3)))


def test_int_and_float32_values_keep_their_dtype_on_the_device():
    for v in (np.int64(2 ** 40), np.arange(3, dtype="int8"), np.ones(2, "float32"), 3):
        s = thx.shared(v)
        thx.function([], s * 1)
        assert s.get_value().dtype == np.asarray(v).dtype
        np.testing.assert_array_equal(s.get_value(), np.asarray(v))


def test_a_numpy_valued_shared_variable_is_uploaded_when_a_function_uses_it():
    s = thx.shared(np.arange(3.0))
    s._value = np.arange(3.0)  # as if created before the lowering layer loaded
    f = thx.function([], s * 2)
    assert isinstance(_internal(s), jax.Array)
    np.testing.assert_array_equal(f(), [0.0, 2.0, 4.0])


def test_calls_do_not_upload_the_value_again():
    s = thx.shared(np.arange(4.0))
    f = thx.function([], s.sum())
    before = _internal(s)
    f(), f()
    assert _internal(s) is before


def test_updates_reuse_the_donated_buffer():
    s = thx.shared(np.zeros(1000))
    inc = thx.function([], [], updates=[(s, s + 1)])
    inc()
    ptr = _internal(s).unsafe_buffer_pointer()
    for _ in range(3):
        inc()
        assert _internal(s).unsafe_buffer_pointer() == ptr  # in place
    np.testing.assert_array_equal(s.get_value(), np.full(1000, 4.0))


def test_a_value_someone_else_holds_is_not_donated():
    s = thx.shared(np.zeros(3))
    inc = thx.function([], [], updates=[(s, s + 1)])
    held = _internal(s)  # an internal value handed out
    view = s.get_value(borrow=True)  # and a NumPy view of it
    c = s.clone()  # Theano's clone: the same container, no copy of the value
    inc()
    assert not held.is_deleted()
    np.testing.assert_array_equal(np.asarray(held), np.zeros(3))
    np.testing.assert_array_equal(view, np.zeros(3))
    np.testing.assert_array_equal(c.get_value(), np.ones(3))  # sees the update, as in Theano
    np.testing.assert_array_equal(s.get_value(), np.ones(3))
    inc()
    np.testing.assert_array_equal(c.get_value(), np.full(3, 2.0))


def test_a_clone_shares_the_value_and_a_graph_holds_no_copy_of_it():
    # Theano's SharedVariable.clone shares the container.  A function's graph clones its inputs:
    # it must not copy a shared dataset (it did: 150 MB copied and uploaded per function)
    data = np.arange(12.0).reshape(4, 3)
    s = thx.shared(data)
    i = thx.tensor.lscalar("i")
    f = thx.function([i], s[i].sum())
    clones = [v for v in f.maker.fgraph.inputs if getattr(v, "container", None) is s.container]
    assert clones and all(_internal(v) is _internal(s) for v in clones)
    s.set_value(data * 2)
    assert float(f(1)) == float((data[1] * 2).sum())
    assert all(np.array_equal(v.get_value(), data * 2) for v in clones)
    c = s.clone()
    g = thx.function([], [], updates=[(c, c + 1)])  # an update through the clone
    g()
    np.testing.assert_array_equal(s.get_value(), data * 2 + 1)
    h = thx.function([], s + c, updates=[(s, s * 0)])  # both in one graph, one updated
    np.testing.assert_array_equal(h(), 2 * (data * 2 + 1))
    np.testing.assert_array_equal(c.get_value(), np.zeros_like(data))


def test_an_updated_variable_that_is_also_an_output():
    s = thx.shared(np.arange(3.0))
    f = thx.function([], [s, s * 10], updates=[(s, s + 1)])
    a, b = f()
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])
    a, b = f()
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(b, [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(s.get_value(), [2.0, 3.0, 4.0])


def test_two_functions_updating_one_variable_in_turn():
    s = thx.shared(np.zeros(2))
    inc = thx.function([], [], updates=[(s, s + 1)])
    dbl = thx.function([], s.sum(), updates=[(s, s * 2)])
    read = thx.function([], s * 1)
    inc(), dbl(), inc()
    np.testing.assert_array_equal(read(), [3.0, 3.0])
    assert float(dbl()) == 6.0
    np.testing.assert_array_equal(s.get_value(), [6.0, 6.0])


def test_outputs_are_writable_numpy_arrays():
    x = T.dvector("x")
    f = thx.function([x], x * 2)
    out = f(np.ones(3))
    assert type(out) is np.ndarray and out.flags.writeable
    out += 1
    np.testing.assert_array_equal(out, [3.0, 3.0, 3.0])
    g = thx.function([x], [x.sum(), x + 1])
    a, b = g(np.ones(2))
    a += 1
    b[0] = 7
    assert a == 3.0 and b[0] == 7
    h = thx.function([x], x * 2, return_device_arrays=True)
    assert isinstance(h(np.ones(2)), jax.Array)


def test_pickled_shared_variable_comes_back_on_the_device():
    import pickle
    s = thx.shared(np.arange(3.0), name="s")
    thx.function([], s * 1)
    t = pickle.loads(pickle.dumps(s))
    assert isinstance(_internal(t), jax.Array)
    np.testing.assert_array_equal(t.get_value(), np.arange(3.0))
    with t._lock:  # a lock of its own
        pass


@pytest.mark.parametrize("value", [np.zeros((2, 2)), 0.5])
def test_zero_keeps_the_value_on_the_device(value):
    s = thx.shared(value)
    thx.function([], s * 1)
    s.zero()
    assert isinstance(_internal(s), jax.Array)
    np.testing.assert_array_equal(s.get_value(), np.zeros_like(value))


def test_shared_and_set_value_copy_before_returning():
    # JAX uploads a NumPy array in the background: writing the array right after shared() or
    # set_value() reached the shared value (seen with 150 MB); both must hold the value given
    X = np.random.RandomState(0).rand(2000, 784)
    keep = X.copy()
    thx.function([], thx.shared(np.zeros(2)) * 2)  # the device upload is installed from here on
    s = thx.shared(X)
    X[:] = -1.0
    np.testing.assert_array_equal(s.get_value(), keep)
    X[:] = keep
    s.set_value(X)
    X[:] = -2.0
    np.testing.assert_array_equal(s.get_value(), keep)
