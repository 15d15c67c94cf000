"""``T.repeat`` (Theano's ``extra_ops.repeat``) against ``numpy.repeat``, every form of ``repeats``.

A scalar count (a Python int or a symbolic integer scalar) is a broadcast and a reshape; a vector
of counts reads ``x`` at ``RepeatIndex`` positions: folded into the graph when the counts are
constant, computed on the host between jitted segments when they are symbolic
(thx/tensor/data_sized.py).  Values are compared with ``np.repeat``, gradients with
``jax.grad`` of ``jnp.repeat`` on the same data.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T

R = np.random.RandomState(7)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_constant_scalar_repeats_match_numpy(axis):
    x = T.dmatrix("x")
    X = R.randn(3, 4)
    got = thx.function([x], T.repeat(x, 3, axis=axis))(X)
    np.testing.assert_array_equal(got, np.repeat(X, 3, axis=axis))


def test_symbolic_scalar_repeats_give_a_new_length_per_call():
    x, r = T.dtensor3("x"), T.iscalar("r")
    f = thx.function([x, r], T.repeat(x, r, axis=1))
    X = R.randn(2, 3, 2)
    for k in (1, 2, 5, 0):
        np.testing.assert_array_equal(f(X, k), np.repeat(X, k, axis=1))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_vector_repeats_constant_and_symbolic_match_numpy(axis):
    x, v = T.dmatrix("x"), T.lvector("v")
    X = R.randn(3, 4)
    n = X.size if axis is None else X.shape[axis]
    counts = R.randint(0, 4, size=n)
    const = thx.function([x], T.repeat(x, counts, axis=axis))(X)
    np.testing.assert_array_equal(const, np.repeat(X, counts, axis=axis))
    f = thx.function([x, v], T.repeat(x, v, axis=axis))
    for c in (counts, R.randint(0, 4, size=n)):  # a new output length on each call
        np.testing.assert_array_equal(f(X, c), np.repeat(X, c, axis=axis))


def test_one_entry_vector_repeats_every_element():
    x, v = T.dvector("x"), T.TensorType("int32", (True,))("v")
    X = R.randn(4)
    np.testing.assert_array_equal(thx.function([x, v], T.repeat(x, v))(X, np.array([3], "int32")),
                                  np.repeat(X, [3]))
    np.testing.assert_array_equal(thx.function([x], x.repeat([2]))(X), np.repeat(X, [2]))


@pytest.mark.parametrize("form", ["int", "scalar", "const_vector", "vector"])
def test_gradient_matches_jax_grad_of_jnp_repeat(form):
    x, r, v = T.dmatrix("x"), T.iscalar("r"), T.ivector("v")
    X = R.randn(3, 2)
    counts = np.array([2, 0, 3], "int32")
    reps = {"int": 2, "scalar": r, "const_vector": counts, "vector": v}[form]
    numeric = 2 if form in ("int", "scalar") else counts
    W = R.randn(*np.repeat(X, numeric, axis=0).shape)
    cost = T.sum(T.sin(T.repeat(x, reps, axis=0)) * W)
    inputs = [x] + ([r] if form == "scalar" else []) + ([v] if form == "vector" else [])
    g = thx.function(inputs, T.grad(cost, x))
    args = [X] + ([2] if form == "scalar" else []) + ([counts] if form == "vector" else [])
    with jax.enable_x64(True):
        want = jax.grad(lambda a: jnp.sum(jnp.sin(jnp.repeat(a, numeric, axis=0,
                                                             total_repeat_length=W.shape[0])) * W))(X)
    np.testing.assert_allclose(g(*args), np.asarray(want), rtol=1e-12)


def test_repeats_is_disconnected_from_the_cost():
    x, v = T.dvector("x"), T.ivector("v")
    with pytest.raises(thx.gradient.DisconnectedInputError):
        T.grad(T.sum(T.repeat(x, v)), v)


def test_constant_vector_repeats_work_in_a_scan_step():
    X = T.dmatrix("X")
    counts = np.array([1, 3, 0, 2])
    out, _ = thx.scan(lambda row: T.repeat(row, counts), sequences=X)
    A = R.randn(5, 4)
    np.testing.assert_array_equal(thx.function([X], out)(A), np.stack([np.repeat(a, counts) for a in A]))


def test_symbolic_vector_repeats_in_a_scan_step_raise_a_clear_error():
    X, v = T.dmatrix("X"), T.lvector("v")
    out, _ = thx.scan(lambda row, c: T.repeat(row, c), sequences=X, non_sequences=v)
    f = thx.function([X, v], out)
    # the step's error, wrapped with the node that raised it when the function runs
    with pytest.raises(Exception, match="impossible inside a traced context") as info:
        f(R.randn(2, 3), np.array([1, 2, 1]))
    first = str(info.value).splitlines()[0]
    assert "NotImplementedError: repeat with symbolic repeats" in first
    assert "Use it at the top level of the function" in first and "RepeatIndex" in str(info.value)


def test_bad_repeats_raise_theano_and_numpy_errors():
    x, v = T.dvector("x"), T.lvector("v")
    with pytest.raises(TypeError, match="repeats.dtype must be an integer"):
        T.repeat(x, 1.5)
    with pytest.raises(TypeError, match="repeats.dtype must be an integer"):
        T.repeat(x, T.dvector())
    with pytest.raises(ValueError, match="The dimension of repeats should not exceed 1"):
        T.repeat(x, T.lmatrix())
    with pytest.raises(ValueError, match="negative"):
        T.repeat(x, -1)
    with pytest.raises(ValueError, match="negative"):
        T.repeat(x, [1, -1])
    with pytest.raises(ValueError, match="out of bounds"):
        T.repeat(x, 2, axis=1)
    with pytest.raises(ValueError, match="repeats has 2 entries for an axis of length 3"):
        thx.function([x], T.repeat(x, [1, 2]))(np.ones(3))
    f = thx.function([x, v], T.repeat(x, v))
    with pytest.raises(ValueError, match="repeats has 2 entries for an axis of length 3"):
        f(np.ones(3), np.array([1, 2]))
    with pytest.raises(ValueError, match="may not contain negative values"):
        f(np.ones(2), np.array([1, -2]))
    np.testing.assert_array_equal(f(np.arange(2.0), np.array([0, 2])), [1.0, 1.0])  # still works


def test_constant_vector_repeats_have_a_static_length():
    x = T.dvector("x")
    y = T.repeat(x, [1, 2, 3])
    f = thx.function([x], y.shape)
    np.testing.assert_array_equal(f(np.ones(3)), [6])
    assert not any(getattr(n.op, "host_barrier", False) for n in f.maker.fgraph.apply_nodes)
