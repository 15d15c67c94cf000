"""The tutorial's scan-based Jacobian of ``x ** 2``: thx vs ``jax.jacrev``.

For each n, compiles the tutorial's graph::

    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x),
                             sequences=T.arange(y.shape[0]), non_sequences=[y, x])

and times one call of the thx function against one call of
``jax.jit(jax.jacrev(lambda x: x ** 2))`` on the same NumPy input, both
returning NumPy arrays (best of interleaved repeats), then prints a ratio
column.  The
map-like scan lowers to ``jax.vmap`` (set ``--lowering scan`` to time the
sequential ``lax.scan`` form instead).

Run: ``python bench/bench_jacobian.py [--sizes 100 1000] [--lowering auto|scan]``
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import thx as theano
import thx.tensor as T


def best_times(fns: dict, repeats: int, number: int) -> dict:
    """Best per-call time (s) of each function; calls are interleaved so load affects all alike."""
    for fn in fns.values():
        fn()  # compile / warm up
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[k] = min(best[k], (time.perf_counter() - t0) / number)
    return best


def thx_jacobian_fn():
    x = T.dvector("x")
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    return theano.function([x], J, updates=updates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--lowering", choices=["auto", "scan"], default="auto")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    theano.config.scan_map_lowering = args.lowering
    f = thx_jacobian_fn()
    with jax.enable_x64(True):
        jac = jax.jit(jax.jacrev(lambda x: x ** 2))
    print(f"scan lowering: {args.lowering}   (per-call time, best of {args.repeats})")
    print(f"{'n':>6} {'thx (ms)':>10} {'jax.jacrev (ms)':>16} {'ratio':>7}")
    for n in args.sizes:
        x = np.random.RandomState(0).randn(n)
        with jax.enable_x64(True):
            np.testing.assert_allclose(f(x), np.asarray(jac(x)))

        def run_jax():
            with jax.enable_x64(True):
                return np.asarray(jac(x))  # same NumPy input, NumPy output, as thx

        number = max(1, int(2e6 // (n * n)))
        t = best_times({"thx": lambda: f(x), "jax": run_jax}, args.repeats, number)
        print(f"{n:>6} {t['thx'] * 1e3:>10.3f} {t['jax'] * 1e3:>16.3f} {t['thx'] / t['jax']:>7.2f}")


if __name__ == "__main__":
    main()
