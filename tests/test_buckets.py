"""Shape buckets (issue 11 item 6): a varying input axis padded to a bucket compiles once per
bucket, and values, gradients and Rop equal the unpadded function's (NumPy oracle, or the same
function compiled with ``shape_buckets='off'``)."""

import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.buckets import bucket_size
from thx.config import config


@pytest.fixture
def buckets_off():
    old = config.shape_buckets
    config.shape_buckets = "off"
    yield
    config.shape_buckets = old


def compiles(f):
    """How many times ``f`` traced (one XLA compilation each), with and without buckets."""
    return f.jax_fn._cache_size() + (f._bucket[1]._cache_size() if f._bucket is not None else 0)


def plan(f):
    """``f``'s bucket plan, found now (a function looks for it at its second input shape)."""
    from thx.compile.buckets import compile_plan
    f._bucket = compile_plan(f.maker.fgraph, f._n_in, f.maker.n_outputs, None)
    f._watch = "on" if f._bucket is not None else None
    return f._bucket and f._bucket[0]


def both(inputs, outputs, **kw):
    """The function with buckets (default flags) and without."""
    f = thx.function(inputs, outputs, **kw)
    old = config.shape_buckets
    config.shape_buckets = "off"
    try:
        g = thx.function(inputs, outputs, **kw)
    finally:
        config.shape_buckets = old
    return f, g


def assert_all_close(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert np.shape(u) == np.shape(v)
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- an Elman RNN against NumPy

def _rnn_graph(seed=0):
    rng = np.random.RandomState(seed)
    Wv, Uv = rng.randn(3, 4) * 0.5, rng.randn(4, 4) * 0.5
    W, U = thx.shared(Wv, "W"), thx.shared(Uv, "U")
    x = T.dtensor3("x")  # (time, batch, features)
    h0 = T.alloc(np.float64(0), x.shape[1], 4)
    hs, _ = thx.scan(lambda x_t, h: T.tanh(T.dot(x_t, W) + T.dot(h, U)), sequences=[x],
                     outputs_info=[h0])
    cost = (hs ** 2).sum() + 3 * hs[-1].sum()
    return x, W, U, Wv, Uv, hs, cost


def _rnn_numpy(xv, Wv, Uv):
    """Forward and BPTT by hand: (hs, cost, dW, dU, dx)."""
    n, b, _ = xv.shape
    hs = np.zeros((n + 1, b, 4))
    for t in range(n):
        hs[t + 1] = np.tanh(xv[t] @ Wv + hs[t] @ Uv)
    cost = (hs[1:] ** 2).sum() + 3 * hs[-1].sum()
    gh = 2 * hs[1:]
    gh[-1] += 3
    dW, dU, dx = np.zeros_like(Wv), np.zeros_like(Uv), np.zeros_like(xv)
    carry = np.zeros((b, 4))
    for t in range(n - 1, -1, -1):
        g = (gh[t] + carry) * (1 - hs[t + 1] ** 2)
        dW += xv[t].T @ g
        dU += hs[t].T @ g
        dx[t] = g @ Wv.T
        carry = g @ Uv.T
    return hs[1:], cost, dW, dU, dx


def test_rnn_matches_numpy_on_random_lengths():
    x, W, U, Wv, Uv, hs, cost = _rnn_graph()
    f = thx.function([x], [hs, cost] + T.grad(cost, [W, U, x]))
    assert plan(f) is not None and plan(f).classes == [[(0, 0)]]
    rng = np.random.RandomState(1)
    for n in rng.randint(1, 20, size=8):
        xv = rng.randn(n, 2, 3)
        assert_all_close(f(xv), _rnn_numpy(xv, Wv, Uv))
    assert compiles(f) <= len({bucket_size(n) for n in range(1, 20)})


def test_rop_and_values_equal_unpadded():
    x, W, U, Wv, Uv, hs, cost = _rnn_graph(2)
    V = T.dmatrix("V")
    jv = T.Rop(hs, W, V)
    f, g = both([x, V], [jv, T.grad(cost, x), hs[-1]])
    assert plan(f) is not None
    rng = np.random.RandomState(3)
    for n in (1, 3, 5, 6, 9):
        args = (rng.randn(n, 2, 3), rng.randn(3, 4))
        assert_all_close(f(*args), g(*args))


def test_lstm_with_mask_50_lengths_compiles_at_most_8_times():
    rng = np.random.RandomState(0)
    d, nh = 3, 4
    W = thx.shared(rng.randn(d, 4 * nh) * 0.3, "W")
    U = thx.shared(rng.randn(nh, 4 * nh) * 0.3, "U")
    b = thx.shared(np.zeros(4 * nh), "b")
    x = T.dtensor3("x")
    mask = T.dmatrix("mask")

    def step(m, x_t, h, c):
        z = T.dot(x_t, W) + T.dot(h, U) + b
        i, f_, o = (T.nnet.sigmoid(z[:, k * nh:(k + 1) * nh]) for k in range(3))
        c_new = f_ * c + i * T.tanh(z[:, 3 * nh:])
        c_new = m[:, None] * c_new + (1 - m)[:, None] * c
        h_new = m[:, None] * (o * T.tanh(c_new)) + (1 - m)[:, None] * h
        return h_new, c_new

    zeros = T.alloc(np.float64(0), x.shape[1], nh)
    (hs, _), _ = thx.scan(step, sequences=[mask, x], outputs_info=[zeros, zeros])
    proj = (hs * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
    cost = (proj ** 2).mean()
    params = [W, U, b]
    grads = T.grad(cost, params)
    f, g = both([x, mask], [cost] + grads)
    lengths = rng.permutation(np.arange(1, 51))
    for n in lengths:
        xv = rng.randn(n, 3, d)
        mv = (rng.rand(n, 3) < 0.9).astype("float64")
        mv[0] = 1
        got = f(xv, mv)
        if n % 7 == 0:  # a sample against the unpadded function
            assert_all_close(got, g(xv, mv))
    # the first length compiles exactly (a fixed-length scan never pads); from the second
    # on, 7 buckets cover 1..50
    assert f._bucket is not None and f._bucket[0].classes == [[(0, 0), (1, 0)]]
    assert compiles(f) <= 8 and f.jax_fn._cache_size() == 1


def test_buckets_start_at_the_second_shape():
    x = T.dvector("x")
    f = thx.function([x], (x ** 2).sum())
    f(np.ones(3))
    f(np.ones(3))
    assert f._bucket is None and compiles(f) == 1
    assert f(np.ones(5)) == 5 and f._bucket is not None
    assert f(np.ones(7)) == 7 and f(np.ones(3)) == 3
    assert compiles(f) == 3  # length 3 alone, then the bucket of 8 and the bucket of 4


def test_bucketed_calls_return_fresh_writable_arrays():
    # Theano's contract holds on the padded path too: results are the caller's to write into
    # (they were read-only views of JAX's result)
    x = T.dvector("x")
    f = thx.function([x], [T.outer(x, x) + 1.0, x[::-1] * 2.0])
    for n in (3, 5, 7, 5):
        v = np.arange(n, dtype="float64")
        outer, rev = f(v)
        assert f._bucket is not None or n == 3
        for got, want in ((outer, np.outer(v, v) + 1.0), (rev, v[::-1] * 2.0)):
            assert got.flags.writeable and got.flags.owndata
            np.testing.assert_allclose(got, want, rtol=1e-12)
            got[...] = -1.0
    np.testing.assert_allclose(f(np.arange(5.0))[1], np.arange(5.0)[::-1] * 2.0)


def test_training_updates_and_reverse_scan():
    rng = np.random.RandomState(5)
    W = thx.shared(rng.randn(2, 2) * 0.5, "W")
    x = T.dmatrix("x")
    hs, _ = thx.scan(lambda x_t, h: T.tanh(x_t + T.dot(h, W)), sequences=[x],
                     outputs_info=[T.zeros((2,), dtype="float64")], go_backwards=True)
    cost = hs.sum() + hs[-1].sum()
    gW = T.grad(cost, W)
    f, g = both([x], [cost, hs, gW])
    assert plan(f) is not None
    for n in (1, 2, 3, 5, 7):
        xv = rng.randn(n, 2)
        assert_all_close(f(xv), g(xv))
    # an update that does not depend on the padded axis is fine
    W2 = thx.shared(W.get_value(), "W2")
    h2, _ = thx.scan(lambda x_t, h: T.tanh(x_t + T.dot(h, W2)), sequences=[x],
                     outputs_info=[T.zeros((2,), dtype="float64")])
    c2 = h2.sum()
    step = thx.function([x], c2, updates=[(W2, W2 - 0.1 * T.grad(c2, W2))])
    assert plan(step) is not None
    Wn = W2.get_value()
    for n in (3, 4):
        xv = rng.randn(n, 2)
        hh = np.zeros(2)
        ghs, hist = [], []
        for t in range(n):
            hist.append(hh)
            hh = np.tanh(xv[t] + hh @ Wn)
            ghs.append(hh)
        carry = np.zeros(2)
        gW = np.zeros((2, 2))
        for t in range(n - 1, -1, -1):
            gz = (1 + carry) * (1 - ghs[t] ** 2)
            gW += np.outer(hist[t], gz)
            carry = gz @ Wn.T
        np.testing.assert_allclose(step(xv), sum(h.sum() for h in ghs))
        Wn = Wn - 0.1 * gW
        np.testing.assert_allclose(W2.get_value(), Wn, rtol=1e-12)


def test_shapes_means_and_negative_indices_give_true_values():
    x = T.dmatrix("x")
    out = [x.shape[0], x.mean(axis=0), x[-1], x[-2:], x[1:] - x[:-1], 2 * x, x.sum()]
    f, g = both([x], out)
    assert plan(f) is not None
    rng = np.random.RandomState(0)
    for n in (2, 3, 5, 6):
        xv = rng.randn(n, 3)
        assert_all_close(f(xv), g(xv))
    assert compiles(f) <= 3


def test_a_tail_longer_than_the_input_gives_numpys_shorter_result():
    x = T.dvector("x")
    f, _ = both([x], x[-3:] * 2)
    assert plan(f) is not None
    for n in (5, 6, 2, 1, 3, 7):  # the padded graph for 5..7, the exact shapes for 1 and 2
        xv = np.arange(n, dtype="float64")
        np.testing.assert_array_equal(f(xv), xv[-3:] * 2)


def test_unsafe_uses_compile_per_shape():
    x = T.dmatrix("x")
    for expr in (x.max(axis=0), x[::2], T.concatenate([x, x]), x.argmax(axis=0)):
        f, g = both([x], expr)
        p = plan(f)
        assert p is None or all(a != 0 for m in p.classes for _, a in m)
        for n in (2, 3):
            xv = np.random.RandomState(n).randn(n, 2)
            np.testing.assert_allclose(f(xv), g(xv))


def test_flag_off_and_bucket_lists(buckets_off):
    x = T.dvector("x")
    f = thx.function([x], 2 * x)
    assert plan(f) is None
    config.shape_buckets = [4, 10]
    assert bucket_size(5) == 10 and bucket_size(11) == 11
    f = thx.function([x], (2 * x).sum())
    assert plan(f) is not None
    for n in (1, 3, 4, 6, 9, 10):
        assert f(np.ones(n)) == 2 * n
    assert compiles(f) == 2


def test_mismatched_lengths_raise_the_unpadded_error():
    x, y = T.dvectors("x", "y")
    f = thx.function([x, y], x + y)
    assert plan(f) is not None and plan(f).classes == [[(0, 0), (1, 0)]]
    with pytest.raises(ValueError, match=r"input shapes: x: \(3,\), y: \(4,\)"):
        f(np.ones(3), np.ones(4))
    assert f._bucket is not None and list(f(np.ones(3), np.ones(3))) == [2, 2, 2]


def test_an_axis_without_bucket_is_named_once_in_a_warning():
    x = T.dmatrix("x")
    f = thx.function([x], x.max(axis=0), name="mx")
    f(np.ones((3, 2)))
    with pytest.warns(UserWarning, match=r"'mx' compiles once per length of input x axis 0 \(3 -> 4\): "
                                         r"Max\{axis=\[0\]\}"):
        f(np.ones((4, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(f(np.arange(10.).reshape(5, 2)), [8, 9])


def test_embedding_lookup_and_nll_by_arange_index():
    rng = np.random.RandomState(7)
    E = thx.shared(rng.randn(10, 3), "E")
    V = thx.shared(rng.randn(3, 4), "V")
    words, y = T.imatrix("words"), T.ivector("y")  # (time, window), (time,)
    x = E[words].reshape((words.shape[0], 6))
    p = T.nnet.softmax(T.dot(x[:, :3] + x[:, 3:], V))
    nll = -T.mean(T.log(p)[T.arange(x.shape[0]), y])
    f, g = both([words, y], [nll, T.argmax(p, axis=1)] + T.grad(nll, [E, V]))
    assert plan(f) is not None and plan(f).classes == [[(0, 0), (1, 0)]]
    for n in (1, 3, 4, 6):
        args = (rng.randint(0, 10, size=(n, 2)).astype("int32"), rng.randint(0, 4, size=n).astype("int32"))
        assert_all_close(f(*args), g(*args))


def test_a_failing_bucketed_graph_falls_back_to_exact_shapes():
    x = T.dvector("x")
    f = thx.function([x], (x ** 2).sum())
    p = plan(f)

    def broken(*args):
        raise RuntimeError("a gap in the bucket rules")

    f._bucket = (p, broken, ())
    with pytest.warns(UserWarning, match="shape buckets failed.*a gap in the bucket rules"):
        assert f(np.ones(3)) == 3
    assert f._bucket is None and f(np.ones(5)) == 5


def test_a_large_padded_result_is_cut_without_a_copy():
    """The cut of a large padded result is a view of XLA's buffer (no copy of the padded
    result), writable, right, and independent of later calls."""
    from thx.compile.outputs import _Owned
    x = T.dmatrix("x")
    y = T.tanh(x) * 2.0
    f = thx.function([x], [y, y.sum(axis=1)])
    f(np.random.RandomState(0).rand(100, 300))
    a = np.random.RandomState(1).rand(150, 300)
    r, s = f(a)
    assert f._bucket is not None
    assert isinstance(r.base, np.ndarray) and isinstance(r.base.base, _Owned) and r.flags.writeable
    np.testing.assert_allclose(r, np.tanh(a) * 2.0, rtol=1e-12)
    np.testing.assert_allclose(s, (np.tanh(a) * 2.0).sum(axis=1), rtol=1e-12)
    r[...] = 0.0
    np.testing.assert_allclose(f(a)[0], np.tanh(a) * 2.0, rtol=1e-12)
