"""The call paths agree: a bucketed call with updates is as atomic as an unpadded one (locks,
no store on failure), static shared integers work with updates, and every trace counts in
``f.n_compiles`` / ``thx.compile.stats()`` (padded and segmented functions too).  Oracle: NumPy."""

import threading

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.config import config
from thx.ifelse import ifelse
from thx.scan import until


def _traces():
    return thx.compile.stats()["traces"]


def _counting_function(buckets: str):
    x = T.dvector("x")
    count = thx.shared(np.int64(0), name="count")
    total = thx.shared(0.0, name="total")
    old = config.shape_buckets
    config.shape_buckets = buckets
    try:
        f = thx.function([x], (x ** 2).sum(), updates=[(count, count + 1), (total, total + x.sum())])
    finally:
        config.shape_buckets = old
    return f, count, total


def test_bucketed_updates_from_four_threads_count_exactly():
    f, count, total = _counting_function("pow2")
    g, count_g, total_g = _counting_function("off")
    rng = np.random.RandomState(0)
    data = [rng.randn(n) for n in (3, 5, 6, 7, 2, 9)]
    for v in data[:2]:  # the second length switches f to its buckets
        np.testing.assert_allclose(f(v), (v ** 2).sum())
    assert f._bucket is not None and f.bucketed_axes == [[("x", 0)]]
    calls_per_thread = 40
    errors = []

    def work(k):
        try:
            for j in range(calls_per_thread):
                v = data[(k + j) % len(data)]
                np.testing.assert_allclose(f(v), (v ** 2).sum(), rtol=1e-12)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    n_calls = 2 + 4 * calls_per_thread
    assert int(count.get_value()) == n_calls
    expected = sum(data[0]) + sum(data[1]) + sum(sum(data[(k + j) % len(data)]) for k in range(4)
                                                 for j in range(calls_per_thread))
    np.testing.assert_allclose(total.get_value(), expected, rtol=1e-10)
    # the unpadded function gives the same values and states
    for v in data:
        np.testing.assert_allclose(f(v), g(v), rtol=1e-12)
    assert int(count.get_value()) - n_calls == int(count_g.get_value()) == len(data)
    np.testing.assert_allclose(total.get_value() - expected, total_g.get_value(), rtol=1e-10)


def test_bucketed_call_holds_the_shared_variables_locks():
    f, count, _ = _counting_function("pow2")
    f(np.ones(3)), f(np.ones(5))
    assert f._bucket is not None
    seen = []
    real = f._bucket[1]

    def spy(*args):
        seen.append(count._lock.locked())
        return real(*args)

    f._bucket = (f._bucket[0], spy, f._bucket[2])
    f(np.ones(6))
    assert seen == [True] and int(count.get_value()) == 3


def test_failed_bucketed_call_changes_nothing():
    x, y, i = T.dvector("x"), T.dvector("y"), T.lscalar("i")
    count = thx.shared(np.int64(0), name="count")
    total = thx.shared(0.0, name="total")
    f = thx.function([x, y, i], x.sum() + y[i], updates=[(count, count + 1), (total, total + x.sum())])
    yv = np.array([1.0, 2.0, 3.0])
    assert f(np.ones(3), yv, 1) == 5.0 and f(np.ones(5), yv, 2) == 8.0
    assert f._bucket is not None
    with pytest.raises(IndexError):
        f(np.ones(4), yv, 10)
    assert int(count.get_value()) == 2 and total.get_value() == 8.0
    assert f(np.ones(4), yv, 0) == 5.0  # the donated buffers still hold the old values
    assert int(count.get_value()) == 3 and total.get_value() == 12.0


def test_static_shared_integer_with_updates():
    """``v[:s]`` with a shared integer ``s`` in a function with updates (static argument on the
    updating path): the value follows ``s`` as NumPy's slice does."""
    base = np.arange(10.0)
    data = thx.shared(base, name="data")
    s = thx.shared(np.int64(4), name="s")
    acc = thx.shared(0.0, name="acc")
    x = T.dscalar("x")
    f = thx.function([x], data[:s].sum() * x, updates=[(acc, acc + data[:s].sum())])
    expected_acc = 0.0
    for stop, xv in [(4, 2.0), (4, 3.0), (6, 1.0), (0, 5.0), (10, -1.0)]:
        s.set_value(stop)
        assert f(xv) == base[:stop].sum() * xv
        expected_acc += base[:stop].sum()
        assert acc.get_value() == expected_acc
    assert f.n_compiles == 4  # one per distinct stop


def test_static_shared_integer_with_updates_and_buckets():
    s = thx.shared(np.int64(2), name="s")
    acc = thx.shared(0.0, name="acc")
    x, w = T.dvector("x"), T.dvector("w")
    f = thx.function([x, w], x.sum() + w[:s].sum(), updates=[(acc, acc + w[:s].sum())])
    wv = np.arange(1.0, 6.0)
    got = [f(np.ones(n), wv) for n in (3, 5, 6)]
    assert f._bucket is not None
    assert got == [3.0 + 3.0, 5.0 + 3.0, 6.0 + 3.0]
    s.set_value(4)
    assert f(np.ones(7), wv) == 7.0 + wv[:4].sum()
    assert acc.get_value() == 3 * 3.0 + wv[:4].sum()


def test_n_compiles_counts_the_padded_function():
    x = T.dvector("x")
    f = thx.function([x], (x * 2.0).sum())
    before = _traces()
    for n in (3, 5, 6, 7, 9):  # exact shape 3, then buckets 8, 8, 8, 16
        assert f(np.arange(float(n))) == 2 * np.arange(float(n)).sum()
    assert f._bucket is not None
    assert f.n_compiles == 3 == _traces() - before


def test_n_compiles_counts_until_scan_segments():
    n = T.lscalar("n")
    out, _ = thx.scan(lambda p: (p * 2, until(p * 2 > n)),
                      outputs_info=T.constant(np.int64(1)), n_steps=50)
    f = thx.function([n], out.sum())
    before = _traces()
    for lim in (10, 100):
        steps = []
        p = 1
        while True:
            p *= 2
            steps.append(p)
            if p > lim:
                break
        assert f(lim) == sum(steps)
    assert f.n_compiles > 0 and f.n_compiles == _traces() - before
    again = f.n_compiles
    f(10)
    assert f.n_compiles == again  # nothing new to trace


def test_n_compiles_counts_host_ifelse_segments():
    c, x = T.lscalar("c"), T.dvector("x")
    f = thx.function([c, x], ifelse(c, x[:2], x).sum() * 2.0)
    xv = np.arange(5.0)
    before = _traces()
    assert f(1, xv) == 2 * xv[:2].sum() and f(0, xv) == 2 * xv.sum()
    assert f.n_compiles > 1 and f.n_compiles == _traces() - before
