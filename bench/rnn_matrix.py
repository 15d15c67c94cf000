"""The RNN matrix: every way users write a recurrent net, thx against hand-written JAX.

Run ``python -m bench.rnn_matrix`` (``--quick``: small sizes, no memory
subprocesses; ``--write-docs``: the table into ``docs/performance.md``).

Rows: {vector state ``h: (H,)``, batched state} x {weights left
``dot(W, h)`` (batched ``h: (H, B)``), weights right ``dot(h, W)`` (batched
``h: (B, H)``)} x {tanh RNN, LSTM, GRU}, plus a tanh RNN reading two
sequences and two taps of its state (``h[t-2]``, ``h[t-1]``) and an LSTM
over 1,000 steps, batched and with a vector state.  Each cell is written once over a small adapter (``_Ops``:
``mm`` = the row's product, ``gate`` = the row's slice of stacked gates) and
built twice: as a Theano graph with ``thx.scan`` / ``T.grad`` and as the
natural JAX program, ``lax.scan`` of the same step with ``jax.jit(jax.grad(loss))``.
The cost is ``sum(h_t ** 2)`` over all steps; the gradient is wrt every weight.

Columns, each thx / JAX measured in the same run (float64 on both sides):

* **grad call**, **forward call**: median of 15 interleaved batches of 0.2 s of calls,
  NumPy in and NumPy out (``bench.run.time_calls``); the ratio is thx / JAX.
* **XLA memory**: ``temp + output`` bytes of the compiled gradient
  (``Compiled.memory_analysis()``): what XLA's buffer assignment reserves
  for one call, exact and free of allocator noise.
* **peak heap** (full runs): the bytes one call of the compiled gradient
  allocates and holds at once, counted by a malloc probe (``bench/heap.py``,
  built with the system's C compiler; the column is empty without one):
  XLA's buffers and the workspaces its runtime allocates around them (a
  GEMM's packed operands, which ``memory_analysis()`` does not see).  Exact,
  and the same in every process, idle or beside other work.
* **peak RSS** (full runs): the median of 5 processes per side of what 3
  calls add to the resident size: after a first call (XLA's runtime setting
  itself up is not a call's memory) and half a second's wait (XLA frees a
  call's buffers on its own threads), freed heap is returned to the system
  (``malloc_trim(0)``), the resident size noted, the kernel's high-water mark
  reset (``echo 5 > /proc/self/clear_refs``) and the gradient called 3 times,
  keeping the results; the figure is the high-water mark (``VmHWM``) minus
  the resident size before the calls.  One malloc arena and a fixed mmap
  threshold (``peak_rss``) remove two sources of spread; what is left (page
  faults on heap pages given back, the allocator's caches, XLA's threads)
  still moves one process's figure by about 0.3 MB, more than thx and JAX
  differ on the vector rows.

Both memory subprocesses of a side load the same executable, compiled once
in the parent (``save_executable``, ``jax.experimental.serialize_executable``),
with the arguments put on the device first, so thx and JAX are measured in
processes that did the same things: a process that had built thx's graphs
carved XLA's buffers from the free chunks its heap kept (no ``mmap`` at all
in 3 calls of the vector GRU's gradient, against JAX's process mapping each
temp buffer), which read up to 0.7 MB above JAX's RSS for a gradient that
allocates 0.27 MB less; and a NumPy argument is copied or not by XLA
depending on the alignment of its address, which moved a process's count by
a weight's size.
* **agree**: thx's gradient and cost ``allclose`` JAX's (``rtol=1e-8``); a
  row that differs fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # `python bench/rnn_matrix.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import _host, _loadavg, compare, fmt_time, machine_info, time_calls  # noqa: E402

__all__ = ["Case", "CASES", "run", "format_report", "main"]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- rnn-matrix:begin -->", "<!-- rnn-matrix:end -->"
RTOL = 1e-8


@dataclass(frozen=True)
class Case:
    """One row: a cell, how its state and weights are laid out, and its sizes."""

    cell: str  # "tanh", "lstm", "gru"
    batched: bool
    right: bool  # weights right: dot(h, W); else left: dot(W, h)
    steps: int
    batch: int
    n_in: int
    hidden: int
    two_taps: bool = False  # two sequences, state taps [-2, -1] (tanh only)

    @property
    def name(self) -> str:
        if self.two_taps:
            return "tanh, 2 sequences, taps [-2, -1]"
        return (f"{self.cell}, {'batched' if self.batched else 'vector'} state, weights "
                f"{'right dot(h, W)' if self.right else 'left dot(W, h)'}")

    @property
    def size(self) -> str:
        b = f", batch {self.batch}" if self.batched else ""
        return f"{self.steps} steps{b}, {self.n_in}->{self.hidden}"


def cases(quick: bool) -> list[Case]:
    """The matrix, then the three extra rows."""
    T, B, D, H = (5, 2, 3, 4) if quick else (100, 32, 64, 128)
    out = [Case(cell, batched, right, T, B, D, H)
           for cell in ("tanh", "lstm", "gru") for batched in (False, True) for right in (False, True)]
    out.append(Case("tanh", True, True, T, B, D, H, two_taps=True))
    out.append(Case("lstm", True, True, 12 if quick else 1000, B, D, H if quick else 64))
    out.append(Case("lstm", False, True, 12 if quick else 1000, B, D, H))
    return out


CASES = cases(quick=False)


# ---------------------------------------------------------------- one cell, two front ends

class _Ops:
    """The row's layout over a front end (thx.tensor or jax.numpy)."""

    def __init__(self, case: Case, thx_side: bool):
        self.c, self.thx_side = case, thx_side
        if thx_side:
            import thx.tensor as T
            self.dot, self.tanh, self.sigmoid = T.dot, T.tanh, T.nnet.sigmoid
        else:
            import jax
            import jax.numpy as jnp
            self.dot, self.tanh, self.sigmoid = jnp.dot, jnp.tanh, jax.nn.sigmoid

    def mm(self, W, h):
        return self.dot(h, W) if self.c.right else self.dot(W, h)

    def bias(self, b):
        if self.c.batched and not self.c.right:  # h: (H, B), a column bias
            return b.dimshuffle(0, "x") if self.thx_side else b[:, None]
        return b

    def gate(self, z, k):
        H = self.c.hidden
        if self.c.batched and self.c.right:
            return z[:, k * H:(k + 1) * H]
        return z[k * H:(k + 1) * H]


def _step(case: Case, o: _Ops):
    """The step ``(x_t, *state, *weights) -> new state`` (a list)."""
    if case.two_taps:
        def step(x1, x2, h2, h1, W1, W2, U1, U2, b):
            return [o.tanh(o.mm(W1, x1) + o.mm(W2, x2) + o.mm(U1, h1) + o.mm(U2, h2) + o.bias(b))]
    elif case.cell == "tanh":
        def step(x, h, W, U, b):
            return [o.tanh(o.mm(W, x) + o.mm(U, h) + o.bias(b))]
    elif case.cell == "lstm":
        def step(x, h, c, W, U, b):
            z = o.mm(W, x) + o.mm(U, h) + o.bias(b)
            i, f, g = (o.sigmoid(o.gate(z, k)) for k in range(3))
            c = f * c + i * o.tanh(o.gate(z, 3))
            return [g * o.tanh(c), c]
    else:  # gru
        def step(x, h, Wg, Ug, bg, Wc, Uc, bc):
            zg = o.mm(Wg, x) + o.mm(Ug, h) + o.bias(bg)
            r, u = o.sigmoid(o.gate(zg, 0)), o.sigmoid(o.gate(zg, 1))
            c = o.tanh(o.mm(Wc, x) + o.mm(Uc, r * h) + o.bias(bc))
            return [u * h + (1 - u) * c]
    return step


def data(case: Case, rng: np.random.RandomState) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """``(sequences, initial states, weights)`` as float64 NumPy arrays."""
    T, B, D, H = case.steps, case.batch, case.n_in, case.hidden
    x_shape = ((T, B, D) if case.right else (T, D, B)) if case.batched else (T, D)
    h_shape = ((B, H) if case.right else (H, B)) if case.batched else (H,)

    def w(n_out, n_in):  # weights of a product with n_in inputs, stacked n_out wide
        a = rng.randn(n_out, n_in) / np.sqrt(n_in)
        return a.T.copy() if case.right else a

    seqs = [rng.randn(*x_shape)]
    if case.two_taps:
        seqs = [rng.randn(*x_shape), rng.randn(*x_shape)]
        states = [0.1 * rng.randn(2, *h_shape)]
        weights = [w(H, D), w(H, D), 0.5 * w(H, H), 0.5 * w(H, H), 0.1 * rng.randn(H)]
    elif case.cell == "tanh":
        states = [np.zeros(h_shape)]
        weights = [w(H, D), w(H, H), 0.1 * rng.randn(H)]
    elif case.cell == "lstm":
        states = [np.zeros(h_shape), np.zeros(h_shape)]
        weights = [w(4 * H, D), w(4 * H, H), 0.1 * rng.randn(4 * H)]
    else:
        states = [np.zeros(h_shape)]
        weights = [w(2 * H, D), w(2 * H, H), 0.1 * rng.randn(2 * H), w(H, D), w(H, H), 0.1 * rng.randn(H)]
    return seqs, states, weights


def thx_functions(case: Case, arrays) -> tuple[Any, Any, list]:
    """``(forward, gradient, args)`` compiled by thx: the cost, and the cost's gradients wrt
    every weight."""
    import thx
    import thx.tensor as T
    seqs, states, weights = arrays
    typ = lambda a, n: T.TensorType("float64", (False,) * a.ndim)(n)  # noqa: E731
    xs = [typ(a, f"x{k}") for k, a in enumerate(seqs)]
    h0 = [typ(a, f"h{k}") for k, a in enumerate(states)]
    ws = [typ(a, f"w{k}") for k, a in enumerate(weights)]
    step = _step(case, _Ops(case, True))
    info = [dict(initial=h0[0], taps=[-2, -1])] if case.two_taps else h0
    out, updates = thx.scan(step, sequences=xs, outputs_info=info, non_sequences=ws)
    hs = out[0] if isinstance(out, (list, tuple)) else out
    cost = T.sum(hs ** 2)
    ins = xs + h0 + ws
    fwd = thx.function(ins, cost, updates=updates)
    grad = thx.function(ins, [cost] + T.grad(cost, ws), updates=updates)
    return fwd, grad, list(seqs) + list(states) + list(weights)


def jax_functions(case: Case, arrays) -> tuple[Any, Any, list]:
    """The same in hand-written JAX: ``jit(loss)`` and ``jit(value_and_grad(loss))``."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    seqs, states, weights = arrays
    step = _step(case, _Ops(case, False))
    ns, nst = len(seqs), len(states)

    def loss(*args):
        xs, h0, ws = args[:ns], args[ns:ns + nst], args[ns + nst:]
        if case.two_taps:
            def body(carry, x):
                h2, h1 = carry
                h = step(*x, h2, h1, *ws)[0]
                return (h1, h), h
            _, hs = lax.scan(body, (h0[0][0], h0[0][1]), xs)
        else:
            def body(carry, x):
                new = step(*x, *carry, *ws)
                return tuple(new), new[0]
            _, hs = lax.scan(body, tuple(h0), xs)
        return jnp.sum(hs ** 2)

    first = ns + nst
    vg = jax.value_and_grad(loss, argnums=tuple(range(first, first + len(weights))))

    def grad(*args):
        c, g = vg(*args)
        return (c,) + tuple(g)

    return jax.jit(loss), jax.jit(grad), list(seqs) + list(states) + list(weights)


# ---------------------------------------------------------------- measuring

@dataclass
class Row:
    """The measurements of one case."""

    case: Case
    agree: bool = False
    max_rel_err: float = float("nan")
    thx_grad: float = float("nan")
    jax_grad: float = float("nan")
    thx_fwd: float = float("nan")
    jax_fwd: float = float("nan")
    xla_mem: dict = field(default_factory=dict)  # side -> bytes (temp + output)
    rss: dict = field(default_factory=dict)  # side -> bytes, or None (not measured)
    heap: dict = field(default_factory=dict)  # side -> bytes, or None (no C compiler for the probe)
    error: str | None = None


def _x64():
    import jax
    return jax.enable_x64(True)


def _xla_bytes(jitted, args) -> float:
    with _x64():
        m = jitted.lower(*args).compile().memory_analysis()
    return float(m.temp_size_in_bytes + m.output_size_in_bytes) if m is not None else float("nan")


def run_case(case: Case, quick: bool, repeats: int, batch_seconds: float,
             thx_flags: dict | None = None) -> Row:
    """Compile both sides, check they agree, time gradient and forward calls (interleaved).
    ``thx_flags`` are set while thx builds its functions and makes their first calls (which
    decide, e.g., whether a function pads to shape buckets)."""
    import thx
    row = Row(case)
    try:
        arrays = data(case, np.random.RandomState(0))
        with thx.config.change_flags(**(thx_flags or {})):
            fwd, grad, args = thx_functions(case, arrays)
            got = _host(grad(*args)) + _host(fwd(*args))
        with _x64():
            jfwd, jgrad, jargs = jax_functions(case, arrays)
        with _x64():
            want = _host(jgrad(*jargs)) + _host(jfwd(*jargs))
        row.agree, row.max_rel_err = compare(got, want, RTOL)

        def on_jax(fn):
            def call():
                with _x64():
                    return _host(fn(*jargs))
            return call

        t = time_calls({"thx": lambda: _host(grad(*args)), "jax": on_jax(jgrad)}, repeats, batch_seconds)
        row.thx_grad, row.jax_grad = t["thx"], t["jax"]
        t = time_calls({"thx": lambda: _host(fwd(*args)), "jax": on_jax(jfwd)}, repeats, batch_seconds)
        row.thx_fwd, row.jax_fwd = t["thx"], t["jax"]
        row.xla_mem = {"thx": _xla_bytes(grad.jax_fn, args), "jax": _xla_bytes(jgrad, jargs)}
    except Exception as e:  # keep going: the table shows it
        import traceback
        traceback.print_exc()
        row.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return row


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def save_executable(index: int, quick: bool, side: str, directory: str | Path) -> Path:
    """Compile one side's gradient of row ``index`` here, ahead of time
    (``jit(...).lower(args).compile()``), and write the executable
    (``jax.experimental.serialize_executable``) into ``directory``: the memory subprocesses load
    it, so that both sides are measured in processes that did the same things before (a process
    that built thx's graphs has a heap of freed chunks that later buffers are carved from, where
    one that only loads an executable maps them afresh)."""
    from jax.experimental import serialize_executable
    case = cases(quick)[index]
    arrays = data(case, np.random.RandomState(0))
    if side == "thx":
        _, grad, args = thx_functions(case, arrays)
        jitted = grad.jax_fn
    else:
        with _x64():
            _, jitted, args = jax_functions(case, arrays)
    with _x64():
        compiled = jitted.lower(*args).compile()
    path = Path(directory) / f"rnn-matrix-{index}-{side}.exe"
    path.write_bytes(pickle.dumps(serialize_executable.serialize(compiled)))
    return path


def _child(executable: str, index: int, quick: bool, what: str) -> None:
    """In a fresh process: load a gradient's executable (``save_executable``) and its arguments (on
    the device), call it once (XLA's runtime sets itself up), then measure, and print the bytes.

    ``what="heap"`` (the process started with ``bench.heap.environment()``): the bytes one call
    allocates and holds at once.  ``what="rss"``: give freed heap back (``malloc_trim``), note the
    resident size, reset the kernel's high-water mark (``/proc/self/clear_refs``), call 3 times
    keeping the results; the high-water mark minus the resident size before the calls."""
    import ctypes

    import jax
    from jax.experimental import serialize_executable
    case = cases(quick)[index]
    seqs, states, weights = data(case, np.random.RandomState(0))
    with _x64():
        exe = serialize_executable.deserialize_and_load(*pickle.loads(Path(executable).read_bytes()))
        # on the device first: whether XLA copies a NumPy argument depends on its address's alignment
        args = [jax.block_until_ready(jax.device_put(a)) for a in [*seqs, *states, *weights]]
        _host(exe(*args))  # the first call's one-time work is not a call's memory
        time.sleep(0.5)  # XLA frees a call's buffers on its own threads after the results are ready
        if what == "heap":
            from bench import heap
            heap.reset()
            out = _host(exe(*args))
            peak = heap.peak()
        else:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            base = _status_kib("VmRSS")
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
            out = [_host(exe(*args)) for _ in range(3)]
            peak = (_status_kib("VmHWM") - base) * 1024
    del out
    print(json.dumps({"peak": peak}))


RSS_RUNS = 5  # subprocesses per side and row: the median is reported (one process differs by ~0.3 MB)


def _run_child(executable: Path, index: int, quick: bool, what: str, env: dict) -> float:
    cmd = [sys.executable, "-m", "bench.rnn_matrix", "--child", str(executable), str(index), what]
    if quick:
        cmd.append("--quick")
    root = Path(__file__).resolve().parents[1]
    paths = [str(root)] + [p for p in [env.get("PYTHONPATH")] if p]  # this checkout's bench first
    env = dict(env, PYTHONPATH=os.pathsep.join(paths))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=root)
    return float(json.loads(res.stdout.strip().splitlines()[-1])["peak"])


def peak_rss(index: int, quick: bool, side: str, runs: int = RSS_RUNS,
             executable: Path | None = None) -> float:
    """Peak RSS that 3 calls of the gradient add (``_child``, a fresh process each time): the
    median of ``runs`` processes.  ``executable``: from ``save_executable`` (else compiled here)."""
    if executable is None:
        with tempfile.TemporaryDirectory() as d:
            return peak_rss(index, quick, side, runs, save_executable(index, quick, side, d))
    # a fixed mmap threshold: a large buffer that no free chunk of the heap can hold is mapped when
    # allocated and unmapped when freed; one malloc arena: a thread's first allocation in the
    # measured calls made it an arena of its own, and which of XLA's threads did that varied
    # between processes (two clusters about 1 MB apart)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_ARENA_MAX="1")
    return statistics.median(_run_child(executable, index, quick, "rss", env) for _ in range(runs))


def peak_heap(index: int, quick: bool, side: str, executable: Path | None = None) -> float | None:
    """Bytes one call of the gradient allocates and holds at once (``_child`` in a fresh process
    with ``bench/heap.py``'s probe): exact and the same in every run.  ``None`` when the probe
    cannot be built (no C compiler).  ``executable``: from ``save_executable`` (else compiled
    here)."""
    from bench import heap
    env = heap.environment()
    if env is None:
        return None
    if executable is None:
        with tempfile.TemporaryDirectory() as d:
            return peak_heap(index, quick, side, save_executable(index, quick, side, d))
    return _run_child(executable, index, quick, "heap", env)


def run(quick: bool = False, memory: bool | None = None, only: list[str] | None = None,
        log=lambda s: None, thx_flags: dict | None = None) -> dict:
    """Run the matrix; ``memory`` (default: not quick) adds the peak heap and RSS subprocesses; ``thx_flags``
    (e.g. ``{"shape_buckets": "off"}``) apply to thx's functions."""
    memory = (not quick) if memory is None else memory
    meta = machine_info()
    meta["quick"] = quick
    meta["thx_flags"] = dict(thx_flags or {})
    repeats, batch_seconds = (3, 0.002) if quick else (15, 0.2)  # 15 batches of 0.2 s: single slow batches move a median of 9 x 0.1 s by 10%+
    rows = []
    for k, case in enumerate(cases(quick)):
        if only and not any(o in case.name for o in only):
            continue
        row = run_case(case, quick, repeats, batch_seconds, thx_flags)
        if memory and row.error is None:
            for side in ("thx", "jax"):
                try:
                    with tempfile.TemporaryDirectory() as d:
                        exe = save_executable(k, quick, side, d)
                        row.heap[side] = peak_heap(k, quick, side, exe)
                        row.rss[side] = peak_rss(k, quick, side, executable=exe)
                except subprocess.CalledProcessError as e:
                    log(f"  memory subprocess failed ({side}): {e.stderr[-500:]}")
        rows.append(row)
        log(_line(row))
    meta["load_after"] = _loadavg()
    return {"rows": rows, "meta": meta}


# ---------------------------------------------------------------- reporting

def _mb(b: Any, digits: int = 1) -> str:
    if b is None or b != b:
        return "-"
    return f"{b / 2 ** 20:.{digits}f} MB" if abs(b) >= 2 ** 20 else f"{b / 2 ** 10:.0f} KB"


def _ratio(a: float, b: float) -> str:
    return "-" if not (a == a and b == b and b > 0) else f"{a / b:.2f}"


def _line(r: Row) -> str:
    if r.error:
        return f"  {r.case.name} ({r.case.size}): ERROR {r.error}"
    return (f"  {r.case.name} ({r.case.size}): grad thx {fmt_time(r.thx_grad)} jax {fmt_time(r.jax_grad)} "
            f"(x{_ratio(r.thx_grad, r.jax_grad)}), forward thx {fmt_time(r.thx_fwd)} jax "
            f"{fmt_time(r.jax_fwd)} (x{_ratio(r.thx_fwd, r.jax_fwd)}); XLA memory thx "
            f"{_mb(r.xla_mem.get('thx'))} jax {_mb(r.xla_mem.get('jax'))}; peak heap thx "
            f"{_mb(r.heap.get('thx'), 2)} jax {_mb(r.heap.get('jax'), 2)}; RSS thx "
            f"{_mb(r.rss.get('thx'))} jax {_mb(r.rss.get('jax'))}; agree={r.agree}")


def format_report(result: dict) -> str:
    """The table as Markdown (the part of docs/performance.md between the rnn-matrix markers)."""
    meta, rows = result["meta"], result["rows"]
    cmd = " ".join(["python -m bench.rnn_matrix"] + (["--quick"] if meta["quick"] else [])
                   + (["--no-buckets"] if meta.get("thx_flags") else []))
    out = [f"Measured {meta['date']} by `{cmd}` on {meta['cpu']} ({meta['cores']} cores; load average "
           f"before/after {meta['load_before']} / "
           f"{meta.get('load_after', '?')}, shared with other jobs); JAX {meta['jax']}, float64.", "",
           "| row | size | grad thx | grad JAX | ratio | forward thx | forward JAX | ratio | "
           "XLA memory thx / JAX | peak heap thx / JAX | peak RSS thx / JAX |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.error:
            out.append(f"| {r.case.name} | {r.case.size} | error: {r.error} |||||||| ")
            continue
        name = r.case.name + ("" if r.agree else " (**results differ**)")
        out.append(f"| {name} | {r.case.size} | {fmt_time(r.thx_grad)} | {fmt_time(r.jax_grad)} | "
                   f"{_ratio(r.thx_grad, r.jax_grad)} | {fmt_time(r.thx_fwd)} | {fmt_time(r.jax_fwd)} | "
                   f"{_ratio(r.thx_fwd, r.jax_fwd)} | {_mb(r.xla_mem.get('thx'))} / "
                   f"{_mb(r.xla_mem.get('jax'))} | {_mb(r.heap.get('thx'), 2)} / {_mb(r.heap.get('jax'), 2)} | "
                   f"{_mb(r.rss.get('thx'))} / {_mb(r.rss.get('jax'))} |")
    out += ["", "Ratios are thx / hand-written JAX (`jax.jit(jax.value_and_grad(loss))` of `lax.scan`; "
                "forward: `jax.jit(loss)`), median of interleaved batches, NumPy in and out. XLA memory "
                "= temp + output bytes of the compiled gradient; peak heap = the bytes one call of the "
                "compiled gradient allocates and holds at once (XLA's buffers and its runtime's "
                "workspaces), counted exactly by a malloc probe (`bench/heap.py`); peak RSS = median "
                "over 5 processes of what 3 calls (after a first one) add to the resident size "
                "(high-water mark reset through `/proc/self/clear_refs`), about 0.3 MB apart from "
                "one process to the next.  Both are measured in fresh processes that load the "
                "compiled gradient and its arguments alike for both sides; see `bench/rnn_matrix.py`."]
    return "\n".join(out)


def write_docs(report: str, path: Path = DOCS) -> None:
    """Replace the RNN-matrix block of ``path`` (or append one)."""
    block = f"{BEGIN}\n{report}\n{END}"
    text = path.read_text() if path.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        pre, rest = text.split(BEGIN, 1)
        text = pre + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(prog="python -m bench.rnn_matrix", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, no memory subprocesses")
    ap.add_argument("--memory", action="store_true", help="measure peak RSS even with --quick")
    ap.add_argument("--only", nargs="+", metavar="WORD", help="rows whose name contains WORD")
    ap.add_argument("--no-buckets", action="store_true",
                    help="thx without shape buckets (config.shape_buckets='off'): exact-length scans")
    ap.add_argument("--write-docs", action="store_true", help="write the table into docs/performance.md")
    ap.add_argument("--child", nargs=3, metavar=("EXECUTABLE", "INDEX", "WHAT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(a.child[0], int(a.child[1]), a.quick, a.child[2])
        return None
    result = run(quick=a.quick, memory=a.memory or None, only=a.only, log=lambda s: print(s, flush=True),
                 thx_flags={"shape_buckets": "off"} if a.no_buckets else None)
    report = format_report(result)
    print()
    print(report)
    if a.write_docs:
        write_docs(report)
        print(f"\nwrote {DOCS}")
    bad = [r for r in result["rows"] if r.error or not r.agree]
    if bad:
        print("\nFAILED: " + ", ".join(f"{r.case.name}" for r in bad), file=sys.stderr)
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
