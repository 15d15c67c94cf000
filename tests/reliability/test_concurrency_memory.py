"""Concurrency and memory: compiled functions shared by threads; compile loops stay bounded.

* One compiled function called from several threads at once (its first call,
  which traces and compiles, included) gives every thread its own correct
  results: the x64 scope thx opens around a call is per thread, so a float64
  call is never computed in float32 because another thread just left it.
* Compiling and dropping 1000 functions of one graph, and hundreds of
  distinct graphs (which go through the compile cache's eviction), does not
  grow the resident memory without bound.  RSS is read from /proc/self/statm.
"""

from __future__ import annotations

import gc
import threading

import numpy as np

import thx
import thx.tensor as T
from thx.compile import cache
from tests.reliability.threads import rss_mb, run_threads


def test_one_function_called_from_many_threads():
    W = T.dmatrix("W")
    x = T.dvector("x")
    y = T.tanh(T.dot(W, x))
    cost = T.sum(y ** 2)
    f = thx.function([W, x], [y, T.grad(cost, W), T.grad(cost, x)])  # not called yet
    barrier = threading.Barrier(6)

    def work(k):
        rng = np.random.RandomState(k)
        Wv, xv = rng.normal(size=(3, 4)), rng.normal(size=4)
        barrier.wait()  # all threads call (and the first ones compile) together
        for _ in range(25):
            yv, gW, gx = f(Wv, xv)
            want = np.tanh(Wv @ xv)
            d = 2 * want * (1 - want ** 2)
            assert yv.dtype == np.float64
            np.testing.assert_allclose(yv, want, rtol=1e-13)  # float64 all the way
            np.testing.assert_allclose(gW, np.outer(d, xv), rtol=1e-12)
            np.testing.assert_allclose(gx, Wv.T @ d, rtol=1e-12)

    run_threads(work, 6)


def test_threads_with_float32_and_float64_functions_interleaved():
    a = T.dvector("a")
    b = T.fvector("b")
    f64 = thx.function([a], a * (1 + 1e-12))
    f32 = thx.function([b], b * 2)

    def work(k):
        for i in range(40):
            if (i + k) % 2:
                out = f64(np.array([1.0, 2.0]))
                assert out.dtype == np.float64 and out[0] != 1.0  # 1e-12 survives: not float32
            else:
                out = f32(np.array([1.5], dtype="float32"))
                assert out.dtype == np.float32 and out[0] == 3.0

    run_threads(work, 4)


def test_compiling_and_dropping_1000_functions_of_one_graph():
    w = thx.shared(np.ones(3), name="w")
    xv = np.arange(3.0)

    def build_and_call():
        x = T.dvector("x")  # a fresh graph each time, the same structure
        y = T.tanh(T.dot(x, w)) + T.sum(x ** 2)
        f = thx.function([x], [y, T.grad(y, x)])
        return f(xv)

    want = build_and_call()
    t = np.tanh(xv @ np.ones(3))  # the first call is right (NumPy), the 1000 later ones equal it
    np.testing.assert_allclose(want[0], t + np.sum(xv ** 2), rtol=1e-13)
    np.testing.assert_allclose(want[1], (1 - t ** 2) * np.ones(3) + 2 * xv, rtol=1e-13)
    for _ in range(100):  # warm up
        build_and_call()
    gc.collect()
    before = rss_mb()
    for _ in range(1000):
        got = build_and_call()
    gc.collect()
    growth = rss_mb() - before
    print(f"\nRSS growth over 1000 compiles of one graph: {growth:.1f} MB")
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert growth < 40, f"RSS grew by {growth:.1f} MB"


def test_distinct_graphs_past_the_compile_cache_stay_bounded():
    with thx.config.change_flags(compile_cache_size=24):  # go through eviction quickly
        w = thx.shared(np.ones(3), name="w")
        xv = np.arange(3.0)

        def build_and_call(i):
            x = T.dvector("x")
            c = 1.0 + i / 1000.0  # a new constant: a new graph, a new XLA executable
            y = T.tanh(T.dot(x, w) * c) + T.sum(x ** 2)
            f = thx.function([x], [y, T.grad(y, x)])
            yv, gv = f(xv)
            np.testing.assert_allclose(yv, np.tanh(3.0 * c) + 5.0, rtol=1e-13)
            return gv

        for i in range(60):  # fill the cache, then keep evicting
            build_and_call(i)
        gc.collect()
        before = rss_mb()
        for i in range(60, 260):
            build_and_call(i)
        gc.collect()
        growth = rss_mb() - before
        print(f"\nRSS growth over 200 distinct compiles past the cache: {growth:.1f} MB")
        assert len(cache._CACHE) <= 24
        assert growth < 80, f"RSS grew by {growth:.1f} MB"
