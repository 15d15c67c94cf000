"""Scan rewrites (prune, save-memory): an RNN's last state and its weight gradients, with and
without them, against hand-written JAX (``lax.scan`` + ``jax.grad``).

For each workload prints the best per-call time and XLA's temporary + output
memory (``compiled.memory_analysis()``) of

* thx with every scan rewrite (the default ``FAST_RUN``),
* thx with them excluded (``Mode(optimizer='fast_run').excluding('scan')``),
* hand-written JAX.

Workloads: ``h[-1]`` of ``h_t = tanh(W h_{t-1} + U x_t)``, and the gradients
w.r.t. ``W, U`` of ``mean(h ** 2)`` (``T.grad`` also builds the unrequested
``dX`` and stacks the weight-gradient accumulators per step: prune and save-memory
remove both).

Run: ``python bench/bench_scan_rewrites.py [--steps 2000] [--hidden 256] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import thx
import thx.tensor as T
from thx.compile.mode import Mode


def best_time(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def megabytes(jitted, args) -> float:
    with jax.enable_x64(True):
        ma = jitted.lower(*args).compile().memory_analysis()
    return (ma.temp_size_in_bytes + ma.output_size_in_bytes) / 1e6


def thx_workloads():
    W, U, X, h0 = T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("X"), T.dvector("h0")
    H, _ = thx.scan(lambda x_t, h, W, U: T.tanh(T.dot(W, h) + T.dot(U, x_t)), sequences=X,
                    outputs_info=h0, non_sequences=[W, U])
    return [W, U, X, h0], {"h[-1]": H[-1], "grad W, U of mean(h**2)": T.grad(T.mean(H ** 2), [W, U])}


def jax_workloads():
    def states(W, U, X, h0):
        def step(h, x):
            h = jnp.tanh(W @ h + U @ x)
            return h, h
        return jax.lax.scan(step, h0, X)[1]

    def grads(W, U, X, h0):
        return jax.grad(lambda W, U: jnp.mean(states(W, U, X, h0) ** 2), argnums=(0, 1))(W, U)
    return {"h[-1]": jax.jit(lambda *a: states(*a)[-1]), "grad W, U of mean(h**2)": jax.jit(grads)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    r = np.random.RandomState(0)
    n, d = args.steps, args.hidden
    vals = [r.randn(d, d) * 0.05, r.randn(d, d) * 0.05, r.randn(n, d), r.randn(d)]
    ins, outs = thx_workloads()
    ref = jax_workloads()
    print(f"{'workload':26s} {'variant':16s} {'time (ms)':>10s} {'temp+out (MB)':>14s}")
    for name, out in outs.items():
        for variant, mode in (("scan rewrites", Mode(optimizer="fast_run")),
                              ("none", Mode(optimizer="fast_run").excluding("scan"))):
            f = thx.function(ins, out, mode=mode)
            checked = [f._check(k, a) for k, a in enumerate(vals)]
            t = best_time(lambda: f(*vals), args.repeats)
            print(f"{name:26s} {variant:16s} {t * 1e3:10.1f} {megabytes(f.jax_fn, checked):14.2f}")
        with jax.enable_x64(True):
            jv = [jnp.asarray(v) for v in vals]
            t = best_time(lambda: jax.block_until_ready(ref[name](*jv)), args.repeats)
            print(f"{name:26s} {'JAX':16s} {t * 1e3:10.1f} {megabytes(ref[name], jv):14.2f}")


if __name__ == "__main__":
    main()
