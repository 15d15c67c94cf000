"""Theano's ``ProfileStats`` on XLA: call times, compile time in three parts, XLA's time per Apply node.

``function(..., profile=True)`` (or the flag ``profile=True``, or ``thx run
--profile``) gives the function a ``ProfileStats`` as ``f.profile``:

* every call is timed (wall clock, outputs ready), as Theano's
  ``Time in N calls to Function.__call__``;
* compile time is split into graph rewriting (``FunctionMaker``), lowering
  (tracing the slot program to StableHLO) and XLA compilation, the last two
  as JAX reports them (``jax.monitoring``) for the calls that compile (and
  taken out of those calls' time);
* time per Apply node, per op and per op class comes from XLA itself: some
  calls run under ``jax.profiler.trace``; the CPU runtime (jaxlib 0.10.2) records
  one event per executed HLO instruction (a *thunk*: a fusion, a dot, a
  while loop...).  Each node's lowering runs inside ``jax.named_scope``
  (``thx/lowering/program.py``), so every HLO instruction carries its Theano
  node in its ``op_name`` metadata.  A thunk's exclusive time, and the time
  it waited for a thread after the thunks before it ended, goes to the
  nodes its instructions came from; a fusion of several nodes is split in
  proportion to a cost estimate of its instructions (output elements; a dot
  times its contracted size; a reduction its input size).

Limits: the split inside a fusion is an estimate, not a measurement (XLA
does not time inside a fused kernel); the work of a scan's inner graph is
reported on the Scan node; only the calls that ran under the tracer (the
first few, then one call in ``sample_every``) are split, and the split is
scaled to all calls; a function run as several jitted segments has no
single program to read, so its XLA time stays unattributed.  Time spent
outside thunks (argument copies, checks, dispatch, output conversion)
appears as the difference between ``Time in thunks`` and the call time.
docs/debugging.md has the measured agreement.
"""

from __future__ import annotations

import atexit
import glob
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from typing import IO, Any

import numpy as np

from thx.compile.function import COMPILE_HOOKS
from thx.compile.instrumented import call_values, wrap_call
from thx.config import config

__all__ = ["ProfileStats"]

_ATEXIT_PRINT: list["ProfileStats"] = []


class ProfileStats:
    """Times of one function (or of several, summed): Theano's ``f.profile``.

    Parameters
    ----------
    atexit_print : bool
        Print the summary when the process exits.
    message : str, optional
        The title of the summary (the function's name by default).
    sample_calls, sample_every : int
        Calls 2 .. ``sample_calls + 1`` and then every ``sample_every``-th call run
        under JAX's profiler to split the time over Apply nodes.
    **kwargs
        Theano's other arguments (``gpu_checks``, ``flag_time_thunks`` ...) are accepted.

    Attributes
    ----------
    fct_callcount, fct_call_time : int, float
        Calls and their total wall time (seconds).
    optimizer_time, linker_time, xla_compile_time : float
        Graph rewriting, lowering to StableHLO (tracing), XLA compilation (seconds).
    apply_time : dict
        Apply node -> seconds in XLA on the traced calls (``node_time()`` scales them to all calls).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.compile.profiling import ProfileStats
    >>> x = T.dmatrix('x')
    >>> prof = ProfileStats(atexit_print=False)
    >>> f = thx.function([x], T.tanh(T.dot(x, x)).sum(), profile=prof)
    >>> _ = [f(np.ones((50, 50))) for _ in range(3)]
    >>> f.profile is prof, prof.fct_callcount
    (True, 3)
    >>> {'Dot', 'Elemwise', 'Sum'} <= set(prof.class_time())  # op class -> seconds
    True
    """

    def __init__(self, atexit_print: bool = True, message: str | None = None,
                 sample_calls: int = 5, sample_every: int = 100, **kwargs: Any) -> None:
        self.message = message
        self.fct_callcount = 0
        self.fct_call_time = 0.0
        self.first_call_time = 0.0  # one-time work of the first call, besides compiling
        self.optimizer_time = 0.0
        self.linker_time = 0.0
        self.xla_compile_time = 0.0
        self.nb_nodes = 0
        self.apply_time: dict[Any, float] = defaultdict(float)
        self.apply_callcount: dict[Any, int] = defaultdict(int)
        self.traced_calls = 0
        self.traced_call_time = 0.0
        self.traced_thunk_time = 0.0  # XLA's ops running
        self.traced_wait_time = 0.0  # between them: an op waiting for a thread (see _waits)
        self.traced_transfer_time = 0.0  # the arguments' copies to the device
        self.sample_calls = sample_calls
        self.sample_every = sample_every
        self._hlo: dict[Any, _Hlo] = {}
        self._summed: dict[Any, float] = {}  # node times of profiles added with +=
        if atexit_print:
            _ATEXIT_PRINT.append(self)

    # ------------------------------------------------------------------ recording
    @property
    def compile_time(self) -> float:
        """Rewriting + lowering + XLA compilation, in seconds."""
        return self.optimizer_time + self.linker_time + self.xla_compile_time

    def _wants_trace(self) -> bool:
        n = self.fct_callcount  # calls done before this one
        return 1 <= n <= self.sample_calls or (n > self.sample_calls and n % self.sample_every == 0)

    def _hlo_for(self, f: Any, args: tuple, kwargs: dict) -> "_Hlo | None":
        """The parsed HLO of the program a call with these arguments ran (None if not one program)."""
        from thx.lowering.linker import x64
        if getattr(f, "_bucket", None) is not None:  # the call ran the padded program
            return _bucket_hlo(f, args, kwargs)
        vals = [int(v) if k in f._static_set else v for k, v in enumerate(call_values(f, args, kwargs))]
        sig = tuple((np.shape(v), str(getattr(v, "dtype", type(v)))) if k not in f._static_set else v
                    for k, v in enumerate(vals))
        if sig not in self._hlo:
            lower = f.jax_fn.lower
            try:
                with x64(True):
                    self._hlo[sig] = _Hlo(lower(*vals).compile().as_text())
            except NotImplementedError:  # several jitted segments (segments.py): no one program
                self._hlo[sig] = None
        return self._hlo[sig]

    def _record_trace(self, events: list[dict], hlo: _Hlo | None, wall: float) -> None:
        self.traced_calls += 1
        self.traced_call_time += wall
        self.traced_transfer_time += _union([e for e in events if e["name"] in _COPY_EVENTS])
        ops = [e for e in events if "hlo_op" in e["args"]]
        busy, waits = _exclusive_times(ops), _waits(ops)
        for name in set(busy) | set(waits):
            seconds = busy.get(name, 0.0) + waits.get(name, 0.0)
            if seconds <= 0:
                continue
            self.traced_thunk_time += busy.get(name, 0.0)
            self.traced_wait_time += waits.get(name, 0.0)
            for node, share in (hlo.split(name) if hlo is not None else {None: 1.0}).items():
                self.apply_time[node] += seconds * share
                self.apply_callcount[node] += 1

    # ------------------------------------------------------------------ reading
    def _scale(self) -> float:
        return self.fct_callcount / self.traced_calls if self.traced_calls else 0.0

    def node_time(self) -> dict[Any, float]:
        """Apply node -> seconds over all calls (XLA's times on the traced calls, scaled)."""
        s = self._scale()
        out = dict(self._summed)
        for n, t in self.apply_time.items():
            out[n] = out.get(n, 0.0) + t * s
        return out

    def op_time(self) -> dict[str, float]:
        """Op (``str(op)``) -> seconds: nodes with equal ops summed."""
        out: dict[str, float] = defaultdict(float)
        for n, t in self.node_time().items():
            out[_op_name(n)] += t
        return dict(out)

    def class_time(self) -> dict[str, float]:
        """Op class name -> seconds."""
        out: dict[str, float] = defaultdict(float)
        for n, t in self.node_time().items():
            out[_class_name(n)] += t
        return dict(out)

    def thunk_fraction(self) -> float:
        """Time given to Apply nodes / wall time, on the traced calls (1.0: all of a call is in XLA)."""
        busy = self.traced_thunk_time + self.traced_wait_time
        return busy / self.traced_call_time if self.traced_call_time else 0.0

    def __iadd__(self, other: "ProfileStats") -> "ProfileStats":
        for k in ("fct_callcount", "fct_call_time", "optimizer_time", "linker_time", "xla_compile_time",
                  "nb_nodes", "traced_calls", "traced_call_time", "traced_thunk_time", "traced_wait_time",
                  "traced_transfer_time"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for n, t in other.node_time().items():
            self._summed[n] = self._summed.get(n, 0.0) + t
        return self

    def summary(self, file: IO[str] | None = None, n_ops_to_print: int | None = None,
                n_apply_to_print: int | None = None) -> None:
        """Print Theano's profile summary: global, Class, Ops and Apply sections."""
        from thx.compile.profile_summary import write_summary
        write_summary(self, file if file is not None else sys.stderr,
                      n_ops_to_print if n_ops_to_print is not None else config.profiling__n_ops,
                      n_apply_to_print if n_apply_to_print is not None else config.profiling__n_apply)


def _op_name(node: Any) -> str:
    return str(node.op) if node is not None else "(unattributed)"


def _class_name(node: Any) -> str:
    return type(node.op).__name__ if node is not None else "(unattributed)"


# --------------------------------------------------------------------------- the profiled call

def profiled_call(f: Any, call: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``call(*args, **kwargs)`` (the function's own call) timed, maybe under the tracer.

    JAX reports the tracing, lowering and XLA compilation a call does
    (``jax.monitoring``): they go to the compile time, not the call time.
    """
    import jax
    _listen()
    prof = f.profile
    trace_dir = tempfile.mkdtemp(prefix="thx_profile_") if prof._wants_trace() else None
    try:
        if trace_dir is not None:
            try:
                opts = jax.profiler.ProfileOptions()
                opts.python_tracer_level = 0  # tracing Python calls would slow the call measured
                jax.profiler.start_trace(trace_dir, profiler_options=opts)
            except RuntimeError:  # another trace is running (the user's): just time the call
                shutil.rmtree(trace_dir, ignore_errors=True)
                trace_dir = None
        compiled_before = prof.linker_time + prof.xla_compile_time
        _CURRENT.prof = prof
        t0 = time.perf_counter()
        try:
            out = jax.block_until_ready(call(*args, **kwargs))
        finally:
            wall = time.perf_counter() - t0
            _CURRENT.prof = None
            if trace_dir is not None:
                jax.profiler.stop_trace()
        wall -= prof.linker_time + prof.xla_compile_time - compiled_before
        if prof.fct_callcount == 0:
            prof.first_call_time = wall
        prof.fct_callcount += 1
        prof.fct_call_time += wall
        if trace_dir is not None:
            prof._record_trace(_read_events(trace_dir), prof._hlo_for(f, args, kwargs), wall)
    finally:
        if trace_dir is not None:
            shutil.rmtree(trace_dir, ignore_errors=True)
    return out


_CURRENT = threading.local()  # .prof: the ProfileStats of the call running in this thread
_LISTENING = False
_LOWERING_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration")


def _listen() -> None:
    """Once: route JAX's compile-time events to the ProfileStats of the running call."""
    global _LISTENING
    if _LISTENING:
        return
    import jax

    def on_event(name: str, seconds: float, **kwargs: Any) -> None:
        prof = getattr(_CURRENT, "prof", None)
        if prof is None:
            return
        if name == "/jax/core/compile/backend_compile_duration":
            prof.xla_compile_time += seconds
        elif name in _LOWERING_EVENTS:
            prof.linker_time += seconds

    jax.monitoring.register_event_duration_secs_listener(on_event)
    _LISTENING = True


def _bucket_hlo(f: Any, args: tuple, kwargs: dict) -> "_Hlo | None":
    """The parsed HLO of a shape-bucketed call's padded program (docs/shapes.md), or None."""
    from thx.compile.buckets import pad_inputs
    from thx.lowering.linker import x64
    p, fn, statics = f._bucket
    st = p.__dict__.get("statics")
    padded = pad_inputs(p, [np.asarray(v) for v in call_values(f, args, kwargs)[:f._n_in]])
    if st is None or padded is None or not hasattr(fn, "lower"):
        return None
    key = ("bucket", tuple(np.shape(v) for v in padded[0]))
    if key not in f.profile._hlo:
        vals = st[1].shared(padded[0] + padded[1] + [s._value for s in f._shared])
        vals = [int(v) if k in statics else v for k, v in enumerate(vals)]
        with x64(True):
            f.profile._hlo[key] = _Hlo(fn.lower(*vals).compile().as_text())
    return f.profile._hlo[key]


_COPY_EVENTS = ("DevicePut", "H2D Dispatch")  # the arguments' copies to the device, as the runtime names them


def _read_events(trace_dir: str) -> list[dict]:
    """The complete ('X') events naming an HLO instruction or a copy to the device, from the trace."""
    out = []
    for path in glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True):
        with gzip.open(path) as fh:
            data = json.load(fh)
        for e in data.get("traceEvents", []) if isinstance(data, dict) else data:
            args = e.get("args") or {}
            if e.get("ph") == "X" and ("hlo_op" in args or e.get("name") in _COPY_EVENTS):
                e["args"] = args
                out.append(e)
    return out


def _exclusive_times(events: list[dict]) -> dict[str, float]:
    """HLO instruction -> seconds, each event less the events nested in it (a while loop's body)."""
    by_thread: dict[Any, list[dict]] = defaultdict(list)
    for e in events:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    out: dict[str, float] = defaultdict(float)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e.get("dur", 0))))
        stack: list[list] = []  # [end, name, exclusive]
        for e in evs:
            ts, dur = float(e["ts"]), float(e.get("dur", 0))
            while stack and stack[-1][0] <= ts:
                end, name, excl = stack.pop()
                out[name] += excl
            if stack:
                stack[-1][2] -= dur
            stack.append([ts + dur, e["args"]["hlo_op"], dur])
        for _, name, excl in stack:
            out[name] += excl
    return {k: max(v, 0.0) * 1e-6 for k, v in out.items()}  # the trace counts microseconds


def _waits(events: list[dict]) -> dict[str, float]:
    """HLO instruction -> seconds between the end of the ops before it and its start.

    XLA's CPU runtime hands ops to a thread pool; the time an op waits for a
    thread (long on a loaded machine) is part of the call: it goes to the op
    that waited, so the nodes' times add up to the span of the execution.
    """
    out: dict[str, float] = defaultdict(float)
    runs: dict[Any, list[dict]] = defaultdict(list)  # one run of one executable: the gaps inside it
    for e in events:
        runs[(e["args"].get("hlo_module"), e["args"].get("run_id"))].append(e)
    for run in runs.values():
        covered = None
        for e in sorted(run, key=lambda e: float(e["ts"])):
            ts, end = float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0))
            if covered is not None and ts > covered:
                out[e["args"]["hlo_op"]] += (ts - covered) * 1e-6
            covered = end if covered is None else max(covered, end)
    return dict(out)


def _union(events: list[dict]) -> float:
    """Seconds covered by the events (overlaps counted once)."""
    total, covered = 0.0, None
    for e in sorted(events, key=lambda e: float(e["ts"])):
        ts, end = float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0))
        start = ts if covered is None else max(ts, covered)
        total += max(end - start, 0.0)
        covered = end if covered is None else max(covered, end)
    return total * 1e-6


# --------------------------------------------------------------------------- HLO text -> nodes

_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%([\w.\-]+)\s*=\s*(.*)$")
_COMP = re.compile(r"^(?:ENTRY\s+)?%([\w.\-]+)\s.*\{\s*$")
_OP_NAME = re.compile(r'op_name="([^"]*)"')
_SCOPE = re.compile(r"([A-Za-z_]\w*#\d+)")
_DIMS = re.compile(r"\[([\d,]*)\]")
_FREE = {"parameter", "constant", "bitcast", "get-tuple-element", "tuple", "reshape", "broadcast",
         "copy-start", "copy-done", "iota"}


class _Hlo:
    """A compiled module's instructions: which Apply nodes each came from, and their costs."""

    def __init__(self, text: str) -> None:
        self.instr: dict[str, tuple[str, str, list[str], str]] = {}  # name -> (opcode, shape, operands, rest)
        self.comp_of: dict[str, list[str]] = defaultdict(list)  # computation -> its instructions
        self.users: dict[str, list[str]] = defaultdict(list)  # instruction -> those reading it
        comp = None
        for line in text.splitlines():
            m = _COMP.match(line)
            if m and " = " not in line.split("{")[0]:
                comp = m.group(1)
                continue
            m = _INSTR.match(line)
            if m is None:
                continue
            shape, opcode, rest = _split_instr(m.group(2))
            operands = re.findall(r"%([\w.\-]+)", rest.split(")", 1)[0])
            self.instr[m.group(1)] = (opcode, shape, operands, rest)
            for o in operands:
                self.users[o].append(m.group(1))
            if comp is not None:
                self.comp_of[comp].append(m.group(1))
        self._cache: dict[str, dict[Any, float]] = {}

    def split(self, name: str) -> dict[Any, float]:
        """Apply node (None: unknown) -> share of the time of instruction ``name``."""
        got = self._cache.get(name)
        if got is not None:
            return got
        weights: dict[Any, float] = defaultdict(float)
        item = self.instr.get(name)
        if item is not None and item[0] == "fusion":
            m = re.search(r"calls=%([\w.\-]+)", item[3])
            for sub in self._fused(m.group(1) if m else ""):
                node = _node_of(self.instr[sub][3])
                if node is not None:  # an instruction XLA added has no node: the fusion's owner pays
                    weights[node] += self._cost(sub)
        if not weights or sum(weights.values()) == 0:
            weights = defaultdict(float, {self._owner(name): 1.0})
        total = sum(weights.values())
        got = self._cache[name] = {n: w / total for n, w in weights.items()}
        return got

    def _owner(self, name: str) -> Any:
        """The node of an instruction; one XLA added (a copy, a split reduction: no metadata)
        takes the node of the nearest instruction using it, else of the one it reads."""
        seen, frontier = set(), [name]
        for _ in range(6):
            nxt = []
            for n in frontier:
                if n in seen or n not in self.instr:
                    continue
                seen.add(n)
                node = _node_of(self.instr[n][3])
                if node is not None:
                    return node
                nxt += self.users.get(n, []) + self.instr[n][2]
            frontier = nxt
        return None

    def _fused(self, comp: str) -> list[str]:
        out = []
        for sub in self.comp_of.get(comp, []):
            opcode, _, _, rest = self.instr[sub]
            m = re.search(r"calls=%([\w.\-]+)", rest) if opcode == "fusion" else None
            out.extend(self._fused(m.group(1)) if m else [sub])
        return out

    def _cost(self, name: str) -> float:
        opcode, shape, operands, rest = self.instr[name]
        if opcode in _FREE:
            return 0.0
        n = _elements(shape)
        if opcode == "dot" and operands:
            lhs = _dims(self.instr.get(operands[0], ("", "", [], ""))[1])
            m = re.search(r"lhs_contracting_dims=\{([\d,]*)\}", rest)
            for d in (m.group(1).split(",") if m and m.group(1) else []):
                n *= lhs[int(d)] if int(d) < len(lhs) else 1
        elif opcode in ("reduce", "reduce-window", "convolution") and operands:
            n = max(n, _elements(self.instr.get(operands[0], ("", "", [], ""))[1]))
        return float(max(n, 1))


def _split_instr(s: str) -> tuple[str, str, str]:
    """``shape opcode(rest`` of an instruction's right-hand side."""
    if s.startswith("("):  # a tuple shape: up to its closing parenthesis
        depth = 0
        for k, ch in enumerate(s):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                break
        shape, tail = s[:k + 1], s[k + 1:].lstrip()
    else:
        shape, _, tail = s.partition(" ")
    opcode, _, rest = tail.partition("(")
    return shape, opcode.strip(), rest


def _dims(shape: str) -> list[int]:
    m = _DIMS.search(shape)
    return [int(d) for d in m.group(1).split(",") if d] if m else []


def _elements(shape: str) -> int:
    total = 0
    for m in _DIMS.finditer(shape):
        n = 1
        for d in m.group(1).split(","):
            n *= int(d) if d else 1
        total += n
    return total


def _node_of(rest: str) -> Any:
    """The outermost Apply node named in an instruction's ``op_name`` (None if none is)."""
    from thx.lowering.program import NODE_OF_SCOPE
    m = _OP_NAME.search(rest)
    if m is None:
        return None
    for scope in _SCOPE.findall(m.group(1)):
        node = NODE_OF_SCOPE.get(scope)
        if node is not None:
            return node
    return None


# --------------------------------------------------------------------------- hooks

def attach(f: Any, exprs: list) -> None:
    """Compile hook: give ``f`` a ProfileStats when asked (``profile=`` or the ``profile`` flag)."""
    want = f._spec.get("profile")
    if want is None:
        want = config.profile
    if not want:
        f.profile = None
        return
    prof = want if isinstance(want, ProfileStats) else ProfileStats()
    if prof.message is None:
        prof.message = f.name or _caller()
    prof.optimizer_time += getattr(f.maker, "optimizer_time", 0.0)
    prof.nb_nodes += len(f.maker.fgraph.apply_nodes)
    f.profile = prof
    wrap_call(f, lambda f, call, args, kwargs: profiled_call(f, call, args, kwargs))


COMPILE_HOOKS.append(attach)


def _caller() -> str:
    """``file:line`` of the user code that called ``thx.function`` (Theano's default message)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(os.path.dirname(os.path.dirname(__file__))):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "<unknown>"


@atexit.register
def _print_at_exit() -> None:
    printed = [p for p in _ATEXIT_PRINT if p.fct_callcount or p.compile_time]
    for p in printed:
        p.summary()
    if len(printed) > 1:
        total = ProfileStats(atexit_print=False, message=f"Sum of all({len(printed)}) printed profiles at exit")
        for p in printed:
            total += p
        total.summary()
