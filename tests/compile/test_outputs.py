"""Outputs are fresh writable NumPy arrays; large ones are XLA's buffer itself when nothing else
sees it (thx/compile/outputs.py).  Writing into a returned array never changes another output,
an input, a shared value or a later call's result.  Oracle: NumPy."""

import gc

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile import outputs
from thx.printing import Print

N = 200  # outer products of N-vectors: 320 KB, above the zero-copy threshold
assert N * N * 8 >= outputs.ZERO_COPY_BYTES


def _zero_copy(a) -> bool:
    return isinstance(a.base, outputs._Owned)


def _aligned(n, seed=0):
    """A float64 vector whose memory starts on a 64-byte boundary (JAX may then use it in place)."""
    buf = np.empty(n * 8 + 64, np.uint8)
    off = (-buf.ctypes.data) % 64
    v = buf[off:off + n * 8].view(np.float64)
    v[:] = np.random.RandomState(seed).randn(n)
    return v


def _scribble(*arrays):
    for a in arrays:
        assert a.flags.writeable
        a[...] = -12345.0


def test_a_large_result_is_the_xla_buffer_writable_and_independent_of_later_calls():
    x = T.dvector("x")
    f = thx.function([x], T.outer(x, x) + 1.0)
    v = np.random.RandomState(0).randn(N)
    want = np.outer(v, v) + 1.0
    a = f(v)
    b = f(v)  # the fast path
    assert _zero_copy(a) and _zero_copy(b)
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-14)
    _scribble(a)
    np.testing.assert_allclose(b, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(f(v), want, rtol=1e-12, atol=1e-14)
    del f, b
    gc.collect()
    assert (a == -12345.0).all()  # the array keeps its buffer alive


def test_small_results_are_plain_copies():
    x = T.dvector("x")
    f = thx.function([x], [x * 2, (x ** 2).sum()])
    v = np.arange(3.0)
    a, s = f(v)
    assert a.base is None and s.base is None and a.flags.writeable and s.flags.writeable
    np.testing.assert_array_equal(a, v * 2)


@pytest.mark.parametrize("aligned", [False, True])
def test_an_input_returned_unchanged_is_not_the_users_array(aligned):
    x = T.dvector("x")
    v = _aligned(N * N) if aligned else np.random.RandomState(1).randn(N * N)
    keep = v.copy()
    for f in (thx.function([x], x), thx.function([x], Print("p", global_fn=lambda op, val: None)(x)),
              thx.function([x], [x, x.reshape((N, N))])):
        for _ in range(2):  # the full path, then the fast path
            outs = f(v)
            outs = outs if isinstance(outs, list) else [outs]
            for o in outs:
                assert not np.shares_memory(o, v)
            _scribble(*outs)
            np.testing.assert_array_equal(v, keep)


def test_two_outputs_of_one_value_are_two_arrays():
    x = T.dvector("x")
    y = T.outer(x, x)
    f = thx.function([x], [y, y, y * 1.0, thx.Out(y, borrow=True)])
    v = np.random.RandomState(2).randn(N)
    for _ in range(2):
        outs = f(v)
        _scribble(outs[0])
        for o in outs[1:]:
            np.testing.assert_allclose(o, np.outer(v, v), rtol=1e-12, atol=1e-14)
        _scribble(*outs)


def test_a_constant_result_is_fresh_at_every_call():
    x = T.dscalar("x")
    c = np.random.RandomState(3).randn(N, N)
    f = thx.function([x], [T.constant(c), x * 2])
    for _ in range(3):
        out, _ = f(1.0)
        np.testing.assert_array_equal(out, c)
        _scribble(out)


def test_shared_values_and_updates_are_untouched_by_writes_into_outputs():
    v0 = np.random.RandomState(4).randn(N, N)
    s = thx.shared(v0.copy(), name="s")
    x = T.dscalar("x")
    functions = [
        thx.function([], s),  # the shared value itself
        thx.function([x], s * x),
        thx.function([x], s + x, updates=[(s, s + x)]),  # the output is the update's value
        thx.function([x], [s, s * x], updates=[(s, s * x)]),  # the old value, donated buffer
        thx.function([x], thx.Out(s + x, borrow=True), updates=[(s, s + x)]),
    ]
    for f in functions:
        for _ in range(2):
            before = s.get_value()
            outs = f(1.0) if f.maker.inputs else f()
            after = s.get_value()
            _scribble(*(outs if isinstance(outs, list) else [outs]))
            np.testing.assert_array_equal(s.get_value(), after)
            assert not np.array_equal(after, np.full_like(after, -12345.0))
            assert before.shape == after.shape


def test_device_arrays_are_returned_as_they_are():
    import jax
    x = T.dvector("x")
    f = thx.function([x], T.outer(x, x), return_device_arrays=True)
    assert isinstance(f(np.ones(N)), jax.Array)


# ---------------------------------------------------------------- the safety conditions, one by one

def _device(v):
    import jax
    with jax.enable_x64(True):
        return jax.device_put(v)


def test_to_numpy_views_a_fresh_array_without_copying():
    out = outputs.to_numpy((_device(np.ones((N, N))),), 0, ())
    assert _zero_copy(out) and out.flags.writeable and (out == 1.0).all()


def test_to_numpy_copies_an_array_referenced_elsewhere():
    a = _device(np.ones((N, N)))
    out = outputs.to_numpy((a,), 0, ())
    assert not _zero_copy(out)
    _scribble(out)
    assert (np.asarray(a) == 1.0).all()


def test_to_numpy_copies_an_array_sharing_an_arguments_memory():
    v = _aligned(N * N)
    outs = (_device(v),)  # on the CPU JAX uses an aligned NumPy array in place
    out = outputs.to_numpy(outs, 0, (v,))
    assert not _zero_copy(out) or not np.shares_memory(out, v)
    _scribble(out)
    assert (v != -12345.0).all()


class _Alias:
    """A device array as to_numpy sees one: its buffer at ``pointer`` (``nbytes`` long)."""

    def __init__(self, pointer, nbytes, deleted=False):
        self.pointer, self.nbytes, self.deleted = pointer, nbytes, deleted

    def unsafe_buffer_pointer(self):
        return self.pointer

    def is_deleted(self):
        return self.deleted


@pytest.mark.parametrize("where", ["output", "argument"])
def test_to_numpy_copies_an_array_overlapping_another_buffer(where):
    def convert(offset, nbytes, deleted=False):
        fresh = _device(np.ones((N, N)))
        other = _Alias(fresh.unsafe_buffer_pointer() + offset, nbytes, deleted)
        outs, args = ((fresh, other), ()) if where == "output" else ((fresh,), (other,))
        del fresh
        return outputs.to_numpy(outs, 0, args)

    size = N * N * 8
    for offset, nbytes in ((0, size), (8, 16), (-8, 16), (size - 8, 8)):
        out = convert(offset, nbytes)
        assert not _zero_copy(out) and (out == 1.0).all()
    for offset, nbytes in ((size, 8), (-8, 8)):  # next to it, not over it
        assert _zero_copy(convert(offset, nbytes))
    assert _zero_copy(convert(0, size, deleted=True))  # a donated argument: its buffer moved on


def test_to_numpy_ignores_a_donated_argument():
    fresh = (_device(np.ones((N, N))),)
    gone = _device(np.ones(3))
    gone.delete()
    assert _zero_copy(outputs.to_numpy(fresh, 0, (gone, 2.0, np.float64(1.0))))


def test_to_numpy_keeps_a_dtype_numpys_interface_cannot_describe():
    import jax.numpy as jnp
    outs = (jnp.full((N, N), 1.5, dtype=jnp.bfloat16),)
    out = outputs.to_numpy(outs, 0, ())
    assert out.dtype == jnp.bfloat16 and out.flags.writeable and (out.astype(np.float64) == 1.5).all()


def test_large_results_are_complete_on_every_call():
    """Later calls view the buffer without NumPy's read-only view first; they must still wait
    for XLA to finish writing it (a view taken too early held unwritten rows)."""
    x = T.dvector("x")
    J, _ = thx.scan(lambda i, y, x: thx.grad(y[i], x), sequences=T.arange(x.shape[0]),
                    non_sequences=[T.tanh(x) * x ** 2, x])
    f = thx.function([x], J)
    v = np.random.RandomState(1).randn(1000)
    want = np.diag(np.tanh(v) * 2 * v + (1 - np.tanh(v) ** 2) * v ** 2)
    for _ in range(20):
        np.testing.assert_allclose(f(v), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("form", ["identity", "reshape", "second_output"])
def test_an_output_that_is_an_argument_is_never_handed_out_in_place(form):
    """A trace returning an input as it came makes JAX return the argument's own buffer (on the
    CPU an aligned NumPy argument is used in place): the function records it
    (trace_counter.outputs_alias_inputs) and compares arguments with outputs on every call."""
    x = T.dvector("x")
    outs = {"identity": [x], "reshape": [x.reshape((x.shape[0],))],
            "second_output": [x * 2.0, x]}[form]
    f = thx.function([x], outs)
    v = _aligned(N * N)
    want = v.copy()
    for _ in range(3):
        got = f(v)
        _scribble(*got)
        np.testing.assert_array_equal(v, want)
    assert f.jax_fn.trace_counter.outputs_alias_inputs()


def test_a_computed_output_skips_the_argument_comparison():
    x = T.dvector("x")
    f = thx.function([x], T.outer(x, x) + 1.0)
    assert not f.jax_fn.trace_counter.outputs_alias_inputs()  # before the first trace: nothing seen
    v = _aligned(N)
    a, b = f(v), f(v)
    assert _zero_copy(a) and _zero_copy(b)
    assert not f.jax_fn.trace_counter.outputs_alias_inputs()
    _scribble(a)
    np.testing.assert_allclose(b, np.outer(v, v) + 1.0)


def test_threads_calling_at_two_shapes_get_their_own_results():
    """The converter remembers each output's last shape and buffer class: threads calling one
    function at two shapes at once must never view a buffer with the other call's shape."""
    import threading
    x = T.dvector("x")
    with thx.config.change_flags(shape_buckets="off"):  # one exact compile per shape
        f = thx.function([x], T.outer(x, x) + 1.0)
        vs = [np.random.RandomState(s).randn(n) for s, n in ((0, N), (1, N + 60))]
        f(vs[0]), f(vs[1])
        assert f._bucket is None
        bad = []

        def work(v):
            want = np.outer(v, v) + 1.0
            for _ in range(150):
                got = f(v)
                if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-12):
                    bad.append(got.shape)

        threads = [threading.Thread(target=work, args=(v,)) for v in vs * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert bad == []


def test_a_large_output_is_not_copied_after_its_shape_changes():
    """A function called at a second shape (a Jacobian at n = 100, then 1,000) hands out XLA's
    buffer at the new shape too: the steady-state path kept a reference to the output while
    falling back, so every call of the new shape was copied."""
    x = T.dvector("x")
    f = thx.function([x], thx.gradient.jacobian(x ** 2, x))
    f(np.random.rand(100))
    for n in (300, 300, 300):
        v = np.random.rand(n)
        r = f(v)
        assert _zero_copy(r) and r.flags.writeable
        np.testing.assert_array_equal(r, np.diag(2 * v))
