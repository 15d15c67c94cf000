"""thx versus hand-written JAX (and PyTensor when installed): compile and call times.

Run ``python -m bench`` (or ``python bench/run.py``).  For each workload of
``bench/workloads.py`` it measures

* **compile**: thx = build the graph, differentiate, ``thx.function``
  (rewrite + lower) and the first call (XLA compiles there); hand-written
  JAX = ``jax.jit`` of the transformed function + the first call (trace +
  XLA compile + run).  Best of up to 5 fresh compiles, thx's compile cache
  cleared before each.
* **2nd compile**: thx building and compiling the same graph again in the
  process, first call included (a compile-cache hit: no rewriting, lowering
  nor XLA compilation).
* **PyTensor** (when installed, ``pip install -e '.[bench]'``): the same
  Theano-style graph code compiled by ``pytensor.function`` in its default
  mode and in ``mode="JAX"``, timed with the others.
* **call**: steady-state time of one call with NumPy arguments, result on
  the host (``np.asarray`` of every output, for thx and JAX alike); the
  median of interleaved batches, so background load hits both sides alike.
* **ratio**: thx / JAX measured in the same run.

Both sides run in float64 under the same scoped ``jax.enable_x64(True)``.
A graph-side section times grad, rewriting and lowering of elementwise
chains per node.  An epoch section times a whole training epoch of an LSTM
over sentences of many distinct lengths, compiles included (thx's shape
buckets against hand-written JAX that pads to the same buckets).  ``--quick`` runs small sizes and checks that every result
agrees with JAX (CI does this); ``--write-docs`` regenerates the measured
part of ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.workloads import (CHAIN_QUICK_SIZES, CHAIN_SIZES, WORKLOADS, Workload,  # noqa: E402
                             chain_cost, chain_data, chain_jax)

__all__ = ["Row", "ScalingRow", "run", "main", "format_report"]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# Targets (issue 6): ratios thx / hand-written JAX measured in one run.
CALL_TARGET = 1.2
COMPILE_TARGET = 1.5
SCALING_TARGET = 2.0


@dataclass
class Row:
    """The measurements of one workload at one size."""

    name: str
    size: str
    what: str
    agree: bool = False
    max_rel_err: float = float("nan")
    thx_compile: float = float("nan")
    thx_compile2: float = float("nan")
    cache_hit: bool = False
    jax_compile: float = float("nan")
    thx_call: float = float("nan")
    jax_call: float = float("nan")
    pytensor: dict = field(default_factory=dict)  # mode -> (compile, call, agree, ratio) or a note
    error: str | None = None

    @property
    def call_ratio(self) -> float:
        return self.thx_call / self.jax_call

    @property
    def compile_ratio(self) -> float:
        return self.thx_compile / self.jax_compile


@dataclass
class ScalingRow:
    """Graph-side cost of one elementwise chain (seconds per phase)."""

    nodes: int
    nodes_after: int
    build: float
    grad: float
    optimize: float  # thx.function: copy the graph, rewrite it, build the closure
    lower: float  # trace the closure to StableHLO
    jax_trace: float

    @property
    def total(self) -> float:
        return self.grad + self.optimize + self.lower

    def per_node(self, t: float) -> float:
        return t / self.nodes


# ---------------------------------------------------------------- helpers

def _x64():
    import jax
    return jax.enable_x64(True)


def _host(out: Any) -> list[np.ndarray]:
    """Every output as a NumPy array, in order (tuples and lists flattened one level)."""
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


def _clear_thx_cache() -> None:
    try:
        from thx.compile.cache import clear
    except ImportError:  # pragma: no cover - a thx without the compile cache
        return
    clear()


def _cache_hits() -> int:
    try:
        from thx.compile.cache import info
    except ImportError:  # pragma: no cover
        return -1
    return info()["hits"]


def compile_thx(wl: Workload, size: Any, args: Sequence[Any], mode: Any = None):
    """Build, differentiate and compile ``wl`` under thx and call it once; ``(seconds, fn, result)``."""
    import thx
    import thx.tensor as T
    with thx.config.change_flags(**(wl.thx_flags or {})):
        t0 = time.perf_counter()
        ins, outs, updates, *givens = wl.graph(thx, T, size)
        if len(outs) == 1:  # one output is given unwrapped, as users write it (the tutorial's f(4.0))
            outs = outs[0]
        f = thx.function(ins, outs, updates=updates, givens=givens[0] if givens else None, mode=mode)
        res = _host(f(*args))
        return time.perf_counter() - t0, f, res


def compile_jax(wl: Workload, size: Any, args: Sequence[Any],
                setup: Callable[[], Sequence[Any]] | None = None):
    """``jax.jit`` of the hand-written function and its first call; ``(seconds, call, result)``.
    ``setup``: makes the arguments (uploads a dataset), timed with the compile."""
    import jax
    with _x64():
        t0 = time.perf_counter()
        if setup is not None:
            args = setup()
        jitted = jax.jit(wl.jax_fn(size))
        res = _host(jitted(*args))
        dt = time.perf_counter() - t0

    def call():
        with _x64():
            return _host(jitted(*args))

    return dt, call, res


def compile_pytensor(wl: Workload, size: Any, args: Sequence[Any], mode: str | None):
    import pytensor
    import pytensor.tensor as pt
    t0 = time.perf_counter()
    ins, outs, updates = wl.graph(pytensor, pt, size)
    f = pytensor.function(ins, outs, updates=updates, mode=mode)
    res = _host(f(*args))
    return time.perf_counter() - t0, f, res


def compare(got: list[np.ndarray], want: list[np.ndarray], rtol: float) -> tuple[bool, float]:
    """Do two lists of outputs agree (``allclose`` with ``rtol``)? Also the largest relative error."""
    if len(got) != len(want):
        return False, float("inf")
    worst = 0.0
    ok = True
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype="float64"), np.asarray(w, dtype="float64")
        if g.shape != w.shape:
            return False, float("inf")
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        err = float(np.max(np.abs(g - w))) / scale if w.size else 0.0
        worst = max(worst, err)
        ok = ok and bool(np.allclose(g, w, rtol=rtol, atol=rtol * scale))
    return ok, worst


def time_calls(fns: dict[str, Callable[[], Any]], repeats: int, batch_seconds: float) -> dict[str, float]:
    """Median seconds per call of each function, over ``repeats`` interleaved batches."""
    number = {}
    for k, fn in fns.items():
        fn()
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        number[k] = max(1, min(100_000, int(batch_seconds / max(dt, 1e-7))))
    samples: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:  # rotate: no one always goes first
            fn = fns[k]
            n = number[k]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[k].append((time.perf_counter() - t0) / n)
    return {k: statistics.median(v) for k, v in samples.items()}


def _warm_up() -> None:
    """Compile and run one tiny function on each side: imports and first-use costs of JAX and thx
    stay out of the first workload's compile time."""
    import jax
    import thx
    import thx.tensor as T
    x = T.dvector("x")
    thx.function([x], thx.grad(T.sum(T.tanh(x) * 2.0), x))(np.ones(3))
    _clear_thx_cache()
    with _x64():
        np.asarray(jax.jit(jax.grad(lambda v: (jax.numpy.tanh(v) * 2.0).sum()))(np.ones(3)))


def _best_compile(compile_once: Callable[[], tuple], tries: int, before: Callable[[], None] = lambda: None):
    """The fastest of up to ``tries`` fresh compiles (fewer when they are slow: a compile over
    0.5 s is tried at most 3 times, one over 5 s once), with its results."""
    best = None
    for k in range(tries):
        before()
        gc.collect()
        r = compile_once()
        if best is None or r[0] < best[0]:
            best = r
        if r[0] > 5.0 or (r[0] > 0.5 and k >= 2):
            break
    return best


# ---------------------------------------------------------------- the runs

def run_workload(wl: Workload, size: Any, quick: bool, repeats: int, batch_seconds: float,
                 log: Callable[[str], None], pytensor: bool = False) -> Row:
    row = Row(wl.name, wl.label(size), wl.what)
    args = wl.data(size, np.random.RandomState(0))
    tries = 1 if quick else 5
    try:
        row.thx_compile, f, got = _best_compile(lambda: compile_thx(wl, size, args), tries,
                                                before=_clear_thx_cache)
        # A training step's data: thx's compile includes shared() uploading the dataset, so JAX's
        # includes its device_put of the same arrays (both sides' programs do it once)
        setup = (lambda: wl.jax_data(size, np.random.RandomState(0))) if wl.jax_data else None
        row.jax_compile, jcall, want = _best_compile(lambda: compile_jax(wl, size, args, setup), tries)
        if wl.jax_data:  # a training step: JAX returns the cost, then the new parameters
            want = want[:len(got)]
        row.agree, row.max_rel_err = compare(got, want, wl.rtol)
        hits = _cache_hits()
        t2, f2, got2 = compile_thx(wl, size, args)  # same graph again: a compile-cache hit
        row.thx_compile2 = t2
        row.cache_hit = _cache_hits() == hits + 1
        row.agree = row.agree and compare(got2, want, wl.rtol)[0]
        t = time_calls({"thx": lambda: _host(f(*args)), "jax": jcall}, repeats, batch_seconds)
        row.thx_call, row.jax_call = t["thx"], t["jax"]
        if pytensor:  # timed apart: its BLAS/numba threads would slow whatever runs next
            fns = compile_pytensor_modes(wl, size, args, want, row, log)
            if fns:
                t = time_calls({"jax": jcall, **fns}, max(3, repeats // 3), batch_seconds)
                for mode, v in row.pytensor.items():
                    if not isinstance(v, str):  # (compile, call, agrees, call / JAX's in that phase)
                        row.pytensor[mode] = (v[0], t[mode], v[1], t[mode] / t["jax"])
    except Exception as e:  # keep going: report the failure in the table
        row.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        log(traceback.format_exc())
    log(_row_line(row))
    return row


def pytensor_version() -> str | None:
    """PyTensor's version and default linker, or None when it is not installed."""
    try:
        import pytensor
        from pytensor.compile.mode import get_default_mode
    except ImportError:
        return None
    linker = getattr(get_default_mode(), "linker", None)
    linker = str(getattr(linker, "__name__", None) or type(linker).__name__).replace("Linker", "").lower()
    return f"{pytensor.__version__} (default mode: {linker} linker)"


def compile_pytensor_modes(wl: Workload, size: Any, args: Sequence[Any], want: list[np.ndarray],
                           row: Row, log: Callable[[str], None]) -> dict[str, Callable[[], Any]]:
    """Compile ``wl`` under PyTensor's default and JAX modes; record compile times (or errors)
    in ``row.pytensor`` and return the call functions to time next to thx's and JAX's."""
    fns: dict[str, Callable[[], Any]] = {}
    if not wl.pytensor:
        return fns
    if wl.pytensor_sizes is not None and size not in wl.pytensor_sizes:
        row.pytensor = {m: "skipped (compiles for minutes)" for m in ("default", "JAX")}
        return fns
    for mode in ("default", "JAX"):
        try:
            with warnings.catch_warnings():  # PyTensor's deprecation and JAX-mode notes
                warnings.simplefilter("ignore")
                dt, f, got = compile_pytensor(wl, size, args, None if mode == "default" else mode)
            ok, _ = compare(got, want, max(wl.rtol, 1e-6))
            row.pytensor[mode] = (dt, ok)
            fns[mode] = (lambda f=f: _host(f(*args)))
        except Exception as e:
            row.pytensor[mode] = f"{type(e).__name__}: {str(e).splitlines()[0][:60] if str(e) else ''}"
        log(f"  pytensor {mode:>7} {row.name} {row.size}: {row.pytensor[mode]}")
    return fns


def run_scaling(sizes: Sequence[int], log: Callable[[str], None]) -> list[ScalingRow]:
    """Graph-side cost per node: build, grad, ``thx.function`` (copy + rewrite + link), and the
    first call's tracing to StableHLO (``jax_fn.lower``); XLA's compilation is left out."""
    import jax
    import thx
    import thx.tensor as T
    rows = []
    _clear_thx_cache()
    for k, n in enumerate([30] + list(sizes)):  # the first, small one warms up imports and caches
        args = chain_data(n, np.random.RandomState(0))
        gc.collect()
        t0 = time.perf_counter()
        ins, cost = chain_cost(T, n)
        t1 = time.perf_counter()
        grads = thx.grad(cost, ins)
        t2 = time.perf_counter()
        f = thx.function(ins, grads)
        t3 = time.perf_counter()
        with _x64():
            f.jax_fn.lower(*args)
        t4 = time.perf_counter()
        gc.collect()
        with _x64():
            t5 = time.perf_counter()
            jax.jit(chain_jax(n)).lower(*args)
            t6 = time.perf_counter()
        r = ScalingRow(3 * max(1, n // 3), len(f.maker.fgraph.apply_nodes), t1 - t0, t2 - t1, t3 - t2,
                       t4 - t3, t6 - t5)
        _clear_thx_cache()
        if k == 0:
            continue
        rows.append(r)
        log(f"  chain {r.nodes:>5} nodes: grad {1e6 * r.per_node(r.grad):.0f} us/node, function "
            f"{1e6 * r.per_node(r.optimize):.0f}, lower {1e6 * r.per_node(r.lower):.0f}; "
            f"jax trace+lower {1e6 * r.per_node(r.jax_trace):.0f} us/node")
    return rows


EPOCH_TARGET = 1.5


@dataclass
class EpochRow:
    """One training epoch, compiles included: thx and hand-written JAX."""
    name: str
    size: str
    thx_total: float
    jax_total: float
    thx_compiles: int
    agree: bool

    @property
    def ratio(self) -> float:
        return self.thx_total / self.jax_total


def run_epochs(quick: bool, log: Callable[[str], None]) -> list[EpochRow]:
    """(b) of issue 11: an LSTM trained by SGD, one sentence per step, over an epoch of sentences
    of many distinct lengths; each side's total time includes building and all its compiles."""
    import thx
    import thx.tensor as T
    from bench.workloads import (LSTM_EPOCH_FULL, LSTM_EPOCH_QUICK, lstm_epoch_data, lstm_epoch_jax,
                                 lstm_epoch_label, lstm_epoch_thx)
    size = LSTM_EPOCH_QUICK if quick else LSTM_EPOCH_FULL
    params, sents, targets = lstm_epoch_data(size, np.random.RandomState(0))
    _clear_thx_cache()
    gc.collect()
    with _x64():
        t0 = time.perf_counter()
        want = lstm_epoch_jax(params, sents, targets)
        t1 = time.perf_counter()
    t2 = time.perf_counter()
    got, step = lstm_epoch_thx(thx, T, params, sents, targets)
    t3 = time.perf_counter()
    compiles = _compiles(step)
    agree = bool(np.allclose(got, want, rtol=1e-6, atol=1e-9))
    row = EpochRow("lstm_epoch", lstm_epoch_label(size), t3 - t2, t1 - t0, compiles, agree)
    log(f"  lstm_epoch {row.size}: thx {fmt_time(row.thx_total)} ({compiles} compiles), JAX "
        f"{fmt_time(row.jax_total)}, ratio {row.ratio:.2f}{'' if agree else ' (results differ)'}")
    return [row]


def _compiles(f) -> int:
    """How many times thx function ``f`` compiled (without and with shape buckets)."""
    n = f.jax_fn._cache_size()
    return n + (f._bucket[1]._cache_size() if f._bucket is not None else 0)


def run(quick: bool = False, only: Sequence[str] | None = None, repeats: int | None = None,
        pytensor: bool = True, scaling: bool = True, log: Callable[[str], None] = print,
        epoch: bool = True) -> dict:
    """Run the benchmark; returns ``{'rows', 'scaling', 'meta'}``.

    Parameters
    ----------
    quick : bool
        Small sizes, one compile each, few repeats (CI).
    only : list of str, optional
        Run the workloads whose name contains one of these strings.
    repeats : int, optional
        Number of timed batches per function (default 15, quick 3).
    pytensor : bool
        Also run PyTensor (default and JAX modes) when it is installed.
    scaling : bool
        Also run the graph-side scaling section.
    """
    repeats = repeats or (3 if quick else 15)
    batch_seconds = 0.002 if quick else 0.05
    meta = machine_info()
    meta["quick"] = quick
    _warm_up()
    selected = [(wl, size) for wl in WORKLOADS
                if not only or any(o in wl.name for o in only)
                for size in (wl.quick_sizes if quick else wl.sizes)]
    meta["pytensor"] = pytensor_version() if pytensor else None
    rows = [run_workload(wl, size, quick, repeats, batch_seconds, log, pytensor=bool(meta["pytensor"]))
            for wl, size in selected]
    scale = []
    if scaling and (not only or any(o in "chain_scaling" for o in only)):
        scale = run_scaling(CHAIN_QUICK_SIZES if quick else CHAIN_SIZES, log)
    epochs = []
    if epoch and (not only or any(o in "lstm_epoch" for o in only)):
        epochs = run_epochs(quick, log)
    meta["load_after"] = _loadavg()
    return {"rows": rows, "scaling": scale, "epochs": epochs, "meta": meta}


# ---------------------------------------------------------------- reporting

def machine_info() -> dict:
    import jax
    import jaxlib
    import thx
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.date.today().isoformat(), "python": platform.python_version(),
            "numpy": np.__version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "thx": thx.__version__, "cpu": cpu, "cores": os.cpu_count(),
            "os": platform.platform(terse=True), "load_before": _loadavg()}


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def fmt_time(s: float) -> str:
    if s != s:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _ratio(r: float, target: float) -> str:
    if r != r:
        return "-"
    return f"**{r:.2f}**" if r > target else f"{r:.2f}"


def _row_line(r: Row) -> str:
    if r.error:
        return f"  {r.name} {r.size}: ERROR {r.error}"
    return (f"  {r.name} {r.size}: compile thx {fmt_time(r.thx_compile)} jax {fmt_time(r.jax_compile)} "
            f"(x{r.compile_ratio:.2f}), 2nd {fmt_time(r.thx_compile2)}; call thx {fmt_time(r.thx_call)} "
            f"jax {fmt_time(r.jax_call)} (x{r.call_ratio:.2f}); agree={r.agree}")


def format_report(result: dict) -> str:
    """The results as Markdown (the part of docs/performance.md between the bench markers)."""
    meta, rows, scale = result["meta"], result["rows"], result["scaling"]
    pt = meta.get("pytensor")
    out = [f"Measured {meta['date']} by `python -m bench{' --quick' if meta.get('quick') else ''}` on "
           f"{meta['cpu']} ({meta['cores']} cores, {meta['os']}; load average before/after "
           f"{meta['load_before']} / {meta.get('load_after', '?')}); Python {meta['python']}, "
           f"NumPy {meta['numpy']}, JAX {meta['jax']} (jaxlib {meta['jaxlib']}), thx {meta['thx']}"
           + (f", PyTensor {pt}" if pt else ", PyTensor not installed") + ".", ""]
    head = ["workload", "size", "thx compile", "JAX compile", "ratio", "thx 2nd compile",
            "thx call", "JAX call", "ratio"]
    if pt:
        head += ["PyTensor default mode: call", "PyTensor JAX mode: call"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.error:
            cells = [r.name, r.size, f"error: {r.error}"] + [""] * (len(head) - 3)
        else:
            cells = [r.name + ("" if r.agree else " (**results differ**)"), r.size,
                     fmt_time(r.thx_compile), fmt_time(r.jax_compile),
                     _ratio(r.compile_ratio, COMPILE_TARGET),
                     fmt_time(r.thx_compile2) + ("" if r.cache_hit else " (miss)"),
                     fmt_time(r.thx_call), fmt_time(r.jax_call), _ratio(r.call_ratio, CALL_TARGET)]
            if pt:
                for mode in ("default", "JAX"):
                    v = r.pytensor.get(mode)
                    if v is None:
                        cells.append("-")
                    elif isinstance(v, str):
                        cells.append(v.replace("|", "/"))
                    elif len(v) < 4:  # compiled, not timed
                        cells.append(f"compile {fmt_time(v[0])}")
                    else:
                        cells.append(f"{fmt_time(v[1])} = {v[3]:.2f}x JAX (compile {fmt_time(v[0])})"
                                     + ("" if v[2] else ", **results differ**"))
        out.append("| " + " | ".join(cells) + " |")
    seen = []
    for r in rows:
        if r.name not in seen:
            seen.append(r.name)
    whats = {r.name: r.what for r in rows}
    out += [""] + [f"* `{name}`: {whats[name]}" for name in seen]
    out += ["", f"Ratios are thx / hand-written JAX; **bold** = above the target ({CALL_TARGET}x per "
                f"call, {COMPILE_TARGET}x compile). Call = median of interleaved batches, NumPy in, "
                f"NumPy out. Compile = best of up to 5 fresh compiles (thx's compile cache cleared), "
                f"first call included."
                + (" PyTensor's calls are timed after thx's and JAX's, interleaved with JAX's again "
                   "(its BLAS and numba threads slow down whatever runs right after them); its ratio "
                   "is to JAX's time in that phase." if pt else "")]
    out += index_check_cost(rows)
    if scale:
        out += ["", "Graph side: elementwise chain `v <- tanh(v * a + x)`, gradient wrt `x` and `a` "
                    "(time per node of the chain before differentiation; XLA compilation excluded):", "",
                "| nodes | after grad + rewrite | build | grad | thx.function (copy, rewrite, link) | "
                "first call: trace to StableHLO | thx total | JAX: trace + lower of jax.grad |",
                "|---|---|---|---|---|---|---|---|"]
        for s in scale:
            us = lambda t: f"{1e6 * s.per_node(t):.0f} µs"  # noqa: E731
            out.append(f"| {s.nodes} | {s.nodes_after} | {us(s.build)} | {us(s.grad)} | {us(s.optimize)} | "
                       f"{us(s.lower)} | {us(s.total)} ({fmt_time(s.total)}) | {us(s.jax_trace)} "
                       f"({fmt_time(s.jax_trace)}) |")
        first, last = scale[0], scale[-1]
        growth = last.per_node(last.total) / first.per_node(first.total)
        out += ["", f"thx time per node at {last.nodes} nodes / at {first.nodes} nodes: {growth:.2f} "
                    f"(target <= {SCALING_TARGET})."]
    epochs = result.get("epochs") or []
    if epochs:
        out += ["", "Training epoch over variable-length sentences, compiles included (thx: shape "
                    "buckets; JAX: hand-written, padded to the same power-of-two buckets, masked "
                    "scan):", "",
                "| workload | size | thx total | thx compiles | JAX total | ratio |", "|---|---|---|---|---|---|"]
        for e in epochs:
            out.append(f"| {e.name}{'' if e.agree else ' (**results differ**)'} | {e.size} | "
                       f"{fmt_time(e.thx_total)} | {e.thx_compiles} | {fmt_time(e.jax_total)} | "
                       f"{_ratio(e.ratio, EPOCH_TARGET)} |")
    return "\n".join(out)


def index_check_cost(rows: Sequence[Row]) -> list[str]:
    """The index check's cost: ``gather_check`` against ``gather_nocheck`` at each size."""
    off = {r.size: r for r in rows if r.name == "gather_nocheck" and not r.error}
    lines = []
    for r in rows:
        o = off.get(r.size)
        if r.name == "gather_check" and not r.error and o is not None:
            lines.append(f"Index check (`config.check_index`) on a gather of {r.size}: call "
                         f"{fmt_time(r.thx_call)} with the check, {fmt_time(o.thx_call)} without, "
                         f"hand-written JAX {fmt_time(r.jax_call)}: the check costs "
                         f"{100 * (r.thx_call / o.thx_call - 1):+.1f}% (goal <= 5%).")
    return [""] + lines if lines else []


def write_docs(report: str, path: Path = DOCS) -> None:
    """Replace the measured part of ``path`` (between the bench markers) by ``report``."""
    block = f"{BEGIN}\n{report}\n{END}"
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            pre, rest = text.split(BEGIN, 1)
            post = rest.split(END, 1)[1]
            path.write_text(pre + block + post)
            return
        path.write_text(text.rstrip("\n") + "\n\n" + block + "\n")
        return
    path.write_text("# Performance\n\n" + block + "\n")


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="run only the workloads whose name contains NAME (chain_scaling: the graph side)")
    ap.add_argument("--repeats", type=int, help="timed batches per function")
    ap.add_argument("--no-pytensor", action="store_true", help="skip PyTensor even if it is installed")
    ap.add_argument("--no-scaling", action="store_true", help="skip the graph-side scaling section")
    ap.add_argument("--write-docs", action="store_true",
                    help=f"write the table into {DOCS.relative_to(DOCS.parents[1])}")
    a = ap.parse_args(argv)
    result = run(quick=a.quick, only=a.only, repeats=a.repeats, pytensor=not a.no_pytensor,
                 scaling=not a.no_scaling, log=lambda s: print(s, flush=True))
    report = format_report(result)
    print()
    print(report)
    if a.write_docs:
        write_docs(report)
        print(f"\nwrote {DOCS}")
    bad = [r for r in result["rows"] + result.get("epochs", []) if getattr(r, "error", None) or not r.agree]
    if bad:
        print("\nFAILED: " + ", ".join(f"{r.name} {r.size}" for r in bad), file=sys.stderr)
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
