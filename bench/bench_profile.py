"""Profiling and debugging modes measured: profile's per-node split against the call time, their costs.

Run ``python -m bench.bench_profile`` (``--quick`` for small sizes, ``--table=N`` for one table,
``--repeat=N`` to measure the agreement N times).  For the MLP gradient and the RNN (scan) workloads
of ``bench/workloads.py`` it prints

* **agreement**: the sum of the times ``profile=True`` gives to nodes, over
  the measured call time: XLA's nodes alone on the traced calls; all nodes
  (with the pseudo-nodes of the work outside the graph: ``InputChecks``,
  ``DevicePut``, ``DeepCopyOp``, ``FirstCall``) on the traced calls and on
  all calls; and per call over the median call time of the same function
  compiled without profiling;
* **named scopes**: the call time of the graph's ``jax.jit`` with the
  per-node ``jax.named_scope`` and without (they change only metadata);
* **modes**: the call time of FAST_RUN, ``profile=True``, NanGuardMode and
  DebugMode, as a ratio to FAST_RUN.

Figures are noisy on a loaded machine: the load average is printed with them.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

import thx  # noqa: E402
import thx.tensor as T  # noqa: E402
from bench.workloads import WORKLOADS  # noqa: E402
from thx.compile import cache  # noqa: E402
from thx.compile.debugmode import DebugMode  # noqa: E402
from thx.compile.nanguardmode import NanGuardMode  # noqa: E402
from thx.compile.profiling import ProfileStats  # noqa: E402
from thx.lowering import program  # noqa: E402


def _median_call(f, args, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _build(w, size, **kw):
    got = w.graph(thx, T, size)
    ins, outs, updates = got[:3]
    return thx.function(ins, outs, updates=updates, **kw)


def agreement(w, size, calls):
    prof = ProfileStats(atexit_print=False, sample_calls=calls, sample_every=10 ** 9)
    args = w.data(size, np.random.RandomState(0))
    cache.clear()  # every repeat compiles: the compile split is measured each time
    f = _build(w, size, profile=prof)
    plain = _build(w, size)
    f(*args)
    jax.block_until_ready(plain(*args))
    times = []
    for _ in range(calls):  # the plain function's calls interleaved with the profiled ones: same load
        f(*args)
        t0 = time.perf_counter()
        jax.block_until_ready(plain(*args))
        times.append(time.perf_counter() - t0)
    per_call = float(np.median(times))
    nodes = sum(prof.node_time().values()) / prof.fct_callcount
    classes = sorted(prof.class_time().items(), key=lambda kv: -kv[1])[:4]
    return {"traced": prof.thunk_fraction(), "untraced": nodes / per_call, "call": per_call,
            "all_calls": sum(prof.node_time().values()) / prof.fct_call_time,
            "with_outside": prof.accounted_fraction(),
            "top": ", ".join(f"{k} {100 * v / sum(prof.class_time().values()):.0f}%" for k, v in classes),
            "split": (prof.optimizer_time, prof.linker_time, prof.xla_compile_time)}


def scope_cost(w, size, calls):
    f = _build(w, size)
    args = [f._check(k, a) for k, a in enumerate(w.data(size, np.random.RandomState(0)))]
    fns = {}
    with jax.enable_x64(True):
        fns["scoped"] = jax.jit(program.build_closure(f.maker.fgraph))
        keep = program.scoped
        program.scoped = lambda fn, node: fn
        try:
            fns["plain"] = jax.jit(program.build_closure(f.maker.fgraph))
        finally:
            program.scoped = keep
        out = {k: [] for k in fns}
        for g in fns.values():
            jax.block_until_ready(g(*args))
        for _ in range(5):  # interleaved batches
            for k, g in fns.items():
                out[k].append(_median_call(g, args, max(calls // 5, 3)))
    return {k: float(np.median(v)) for k, v in out.items()}


def mode_costs(w, size, calls):
    """Median call time per mode; FAST_RUN, profile and NanGuardMode calls interleaved (same load)."""
    args = w.data(size, np.random.RandomState(0))
    fns = {name: _build(w, size, **kw) for name, kw in (
        ("FAST_RUN", {}), ("profile", {"profile": ProfileStats(atexit_print=False)}),
        ("NanGuardMode", {"mode": NanGuardMode()}), ("DebugMode", {"mode": DebugMode()}))}
    fns["DebugMode"](*args)
    res = {"DebugMode": _median_call(fns["DebugMode"], args, 3)}
    fast = {k: f for k, f in fns.items() if k != "DebugMode"}
    for f in fast.values():
        for _ in range(7):  # past profile's traced sample calls
            f(*args)
    times = {k: [] for k in fast}
    for _ in range(calls):
        for k, f in fast.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f(*args))
            times[k].append(time.perf_counter() - t0)
    res.update({k: float(np.median(v)) for k, v in times.items()})
    return res


def _agreement_row(w, size, calls):
    a = agreement(w, size, calls)
    return (f"| {w.name} {w.label(size)} | {a['call'] * 1e3:.2f} ms | {a['traced']:.2f} | "
            f"{a['with_outside']:.2f} | {a['all_calls']:.2f} | {a['untraced']:.2f} | {a['top']} | "
            f"{' / '.join(f'{t:.3f}s' for t in a['split'])} |")


def _scope_row(w, size, calls):
    s = scope_cost(w, size, calls)
    return f"| {w.name} | {s['scoped'] * 1e3:.3f} ms | {s['plain'] * 1e3:.3f} ms | {s['scoped'] / s['plain']:.3f} |"


def _mode_row(w, size, calls):
    m = mode_costs(w, size, calls)
    ratios = " | ".join(f"{m[k] / m['FAST_RUN']:.2f}x" for k in ("profile", "NanGuardMode", "DebugMode"))
    return f"| {w.name} | {m['FAST_RUN'] * 1e3:.2f} ms | {ratios} |"


TABLES = [
    ("| workload | call | XLA nodes / traced call | all nodes / traced call | all nodes / all calls "
     "| all nodes / plain call | top classes | compile: rewrite / lower / XLA |", _agreement_row),
    ("| workload | jit with named scopes | without | ratio |", _scope_row),
    ("| workload | FAST_RUN | profile=True | NanGuardMode | DebugMode |", _mode_row),
]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    calls = 10 if quick else 30
    print(f"load average: {os.getloadavg()}")
    chosen = [w for w in WORKLOADS if w.name in ("mlp_grad", "rnn_scan", "rnn_scan_grad")]
    only = [int(a.split("=")[1]) for a in argv if a.startswith("--table=")]  # --table=0: agreement only
    repeat = ([int(a.split("=")[1]) for a in argv if a.startswith("--repeat=")] or [1])[0]
    for k, (header, row) in enumerate(TABLES):
        if only and k not in only:
            continue
        print("\n" + header)
        print("|---" * header.count(" | ") + "|---|")
        for w in chosen:
            for _ in range(repeat if k == 0 else 1):
                print(row(w, (w.quick_sizes if quick else w.sizes)[0], calls), flush=True)
    print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
