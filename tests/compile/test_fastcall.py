"""The call fast path (thx/compile/fastcall.py) gives the same results and errors as the full path."""

import threading

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.fastcall import SLOW


def _both(f, *args):
    """The fast path's answer and the full path's (the fast path switched off)."""
    fast = f._fast(args)
    saved, f._fast = f._fast, None
    try:
        full = f(*args)
    finally:
        f._fast = saved
    return fast, full


def test_tutorial_gradient_takes_the_fast_path_and_returns_a_fresh_writable_array():
    x = T.dscalar("x")
    f = thx.function([x], T.grad(x ** 2, x))
    assert f._fast is not None
    a, b = f(4.0), f(4.0)
    assert isinstance(a, np.ndarray) and a.shape == () and a.dtype == np.float64 and float(a) == 8.0
    assert a.flags.writeable and a is not b
    a[...] = 0.0
    assert float(f(4.0)) == 8.0


@pytest.mark.parametrize("arg", [np.float64(3.0), np.array(3.0), 3.0])
def test_scalar_arguments_agree_with_the_full_path(arg):
    x = T.dscalar("x")
    f = thx.function([x], [T.exp(x), x * 2])
    f(arg)  # the first call (the full path) turns the shape-bucket watch off
    fast, full = _both(f, arg)
    assert fast is not SLOW
    assert [float(v) for v in fast] == [float(v) for v in full] == [np.exp(3.0), 6.0]


def test_anything_else_goes_the_full_way_with_theanos_errors():
    x = T.dscalar("x")
    f = thx.function([x], x * 2)
    assert f._fast((3,)) is SLOW and float(f(3)) == 6.0  # an int: the full path casts it
    assert f._fast((np.float32(1.5),)) is SLOW and float(f(np.float32(1.5))) == 3.0
    assert f._fast((1.0, 2.0)) is SLOW
    with pytest.raises(TypeError, match="index 0"):
        f(np.ones(3))
    with pytest.raises(TypeError, match="Too many parameters"):
        f(1.0, 2.0)
    assert float(f(x=2.0)) == 4.0  # keywords: the full path


def test_vectors_take_it_at_the_first_calls_shapes_only():
    v, w = T.dvector("v"), T.dvector("w")
    f = thx.function([v, w], T.dot(v, w) * v)
    a, b = np.arange(3.0), np.ones(3)
    assert f._fast((a, b)) is SLOW  # before the first call: the full path notes the shapes
    assert np.array_equal(f(a, b), a * 3.0)
    fast, full = _both(f, a, b)
    assert fast is not SLOW and np.array_equal(fast, full)
    assert f._fast((np.arange(4.0), np.ones(4))) is SLOW  # other shapes: the buckets decide
    assert np.array_equal(f(np.arange(4.0), np.ones(4)), np.arange(4.0) * 6.0)
    with pytest.raises(TypeError, match="index 1"):
        f(a, np.ones((3, 1)))


def test_run_time_index_check_raises_through_the_fast_path():
    v, i = T.dvector("v"), T.lscalar("i")
    f = thx.function([i], T.constant(np.arange(4.0))[i])
    assert float(f(np.int64(2))) == 2.0
    with pytest.raises(IndexError):
        f(np.int64(7))


def test_functions_with_updates_or_shared_values_have_no_fast_path():
    s = thx.shared(1.0)
    x = T.dscalar("x")
    assert thx.function([x], x * s)._fast is None
    assert thx.function([x], x, updates=[(s, s + x)])._fast is None
    assert thx.function([x], x, return_device_arrays=True)._fast is None


def test_fast_path_from_threads():
    x = T.dscalar("x")
    f = thx.function([x], T.sin(x) * x)
    out = {}

    def work(k):
        out[k] = [float(f(float(j))) for j in range(50)]

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    want = [np.sin(j) * j for j in range(50)]
    assert all(np.allclose(out[k], want, rtol=1e-15) for k in range(4))
