"""The call fast path (thx/compile/fastcall.py) gives the same results and errors as the full path."""

import threading

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.fastcall import SLOW
from thx.printing import Print


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


def test_other_arguments_are_checked_by_the_same_rules_and_errors():
    x = T.dscalar("x")
    f = thx.function([x], x * 2)
    slow = thx.function([x], x * 2)
    slow._fast = None  # the full path only
    for arg in (3, np.float32(1.5), np.int8(2), np.array(2.5)):
        fast = f._fast((arg,))
        assert fast is not SLOW and float(fast) == float(slow(arg)) == 2.0 * float(arg)
    for bad in (np.ones(3), "a", np.float64(1.0) + 1j):
        with pytest.raises(TypeError) as fast_error:
            f._fast((bad,))
        with pytest.raises(TypeError) as full_error:
            slow(bad)
        assert str(fast_error.value) == str(full_error.value) and "index 0" in str(fast_error.value)
    assert f._fast((1.0, 2.0)) is SLOW  # another number of arguments: the full path says why
    with pytest.raises(TypeError, match="Too many parameters"):
        f(1.0, 2.0)
    assert float(f(x=2.0)) == 4.0  # keywords: the full path


def _printing_function(n_in, fails_at):
    """A function whose Print op records each run and fails (inside the jitted call) at a value."""
    seen = []

    def record(op, value):
        seen.append(float(np.sum(value)))
        if seen[-1] == fails_at:
            raise RuntimeError("the user's print function failed")

    if n_in == 1:
        x = T.dscalar("x")
        return thx.function([x], Print("p", global_fn=record)(x) * 2), seen
    v, w = T.dvector("v"), T.dvector("w")
    return thx.function([v, w], Print("p", global_fn=record)(v + w) * 2), seen


@pytest.mark.parametrize("n_in", [1, 2])
def test_a_failing_call_runs_the_jitted_function_once_and_raises_thxs_error(n_in):
    f, seen = _printing_function(n_in, fails_at=7.0)
    args = (3.0,) if n_in == 1 else (np.ones(3), np.zeros(3))
    bad = (7.0,) if n_in == 1 else (np.ones(3), np.array([1.0, 2.0, 1.0]))
    f(*args)
    f(*args)  # the second call takes the fast path (the shape watch saw the first)
    assert len(seen) == 2
    with pytest.raises(ValueError, match="Error while running thx function") as error:
        f(*bad)
    assert len(seen) == 3  # the Print ran once for the failing call
    assert "the user's print function failed" in str(error.value.__cause__)


def test_a_failing_call_builds_the_full_paths_error():
    x = T.dscalar("x")
    f = thx.function([x], x * 2, name="twice")
    calls = []

    def broken(*args):
        calls.append(args)
        raise FloatingPointError("broken on purpose")

    f.jax_fn = broken
    with pytest.raises(ValueError) as fast_error:
        f(1.5)
    assert len(calls) == 1
    f._fast = None
    with pytest.raises(ValueError) as full_error:
        f(1.5)
    assert len(calls) == 2 and str(fast_error.value) == str(full_error.value)
    assert "'twice'" in str(fast_error.value) and "FloatingPointError: broken on purpose" in str(fast_error.value)


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


def _x64_on():
    import jax.numpy as jnp
    return jnp.asarray(1.0).dtype == np.float64


def _in_a_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


@pytest.mark.parametrize("private", [True, False])
def test_the_x64_switch_scopes_like_jaxs_context_manager(private):
    import jax
    from thx.lowering import linker
    swap, restore, is_private = linker._x64_switch(jax.enable_x64 if private else object())
    assert is_private == private
    elsewhere = _in_a_thread(_x64_on)  # the process-wide setting
    for outer in (False, True):
        with jax.enable_x64(outer):
            prev = swap(True)
            try:
                inside, other_thread = _x64_on(), _in_a_thread(_x64_on)
            finally:
                restore(prev)
            assert inside and _x64_on() == outer
            assert other_thread == elsewhere  # thread-local: another thread does not see it


def test_the_fast_x64_switch_is_in_use():
    """Fails when JAX changed its config internals (jax._src.config.State.swap_local/set_local,
    no thread-local hook on enable_x64): thx then takes the public context manager, correct
    but 0.4 µs slower per call.  See thx/lowering/linker.py's _x64_switch."""
    from thx.lowering import linker
    assert linker.X64_PRIVATE
