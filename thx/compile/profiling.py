"""Theano's ``ProfileStats`` on XLA: call times, compile time in three parts, time per Apply node.

``function(..., profile=True)`` (or the flag ``profile=True``, or ``thx run
--profile``) gives the function a ``ProfileStats`` as ``f.profile``:

* every call is timed (wall clock, outputs ready), as Theano's
  ``Time in N calls to Function.__call__``, and split into what comes before
  the jitted function (argument checks), the jitted function itself
  (Theano's ``Function.fn.__call__``) and what comes after its outputs are
  ready (copies into fresh NumPy arrays);
* compile time is split into graph rewriting (``FunctionMaker``), lowering
  (tracing the slot program to StableHLO) and XLA compilation, the last two
  as JAX reports them (``jax.monitoring``) for the calls that compile (and
  taken out of those calls' time);
* time per Apply node, per op and per op class comes from XLA itself: some
  calls run under ``jax.profiler.trace``, whose CPU runtime records each
  executed HLO instruction (*thunk*) and when its work ended
  (``profile_trace.py`` gives each instant of the execution to the thunks
  running then); each node's lowering runs inside ``jax.named_scope``, so
  the compiled HLO says which nodes each instruction came from
  (``profile_hlo.py``);
* the work of a call outside the graph is listed as pseudo-nodes with
  Theano's names where one exists (``OUTSIDE``): ``InputChecks``,
  ``DevicePut`` (the arguments' copies to the device), ``DeepCopyOp`` (the
  output copies) and ``FirstCall`` (the first call's time in the jitted
  function, never traced: it holds one-time work besides compiling).

Limits: the split inside a fusion is an estimate (XLA does not time inside
a fused kernel); the work of a scan's inner graph is reported on the Scan
node; only the calls that ran under the tracer (the first few, then one
call in ``sample_every``) are split, and the split is scaled to the other
calls by their time in the jitted function; a segmented function (an
``until`` scan) is split per segment, its barrier's own programs going to
the barrier node.  What is not measured (dispatch, Python between the
segments) is printed as such, never spread over the nodes.
``profile_optimizer`` and ``profile_memory`` add their reports
(``profile_rewrites.py``, ``profile_memory.py``).  docs/debugging.md has
the measured agreement.
"""

from __future__ import annotations

import atexit
import os
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
from thx.compile.profile_hlo import Hlo
from thx.compile.profile_trace import device_put_time, read_events, thunk_times
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
        ``profile_memory=True`` measures memory without the flag; Theano's other arguments
        (``gpu_checks``, ``flag_time_thunks`` ...) are accepted.

    Attributes
    ----------
    fct_callcount, fct_call_time : int, float
        Calls and their total wall time (seconds).
    optimizer_time, linker_time, xla_compile_time : float
        Graph rewriting, lowering to StableHLO (tracing), XLA compilation (seconds).
    apply_time : dict
        Apply node -> seconds in XLA on the traced calls (``node_time()`` scales them to all calls).
    input_time, fn_call_time, output_time : float
        All calls' time before the jitted function (argument checks), in it (Theano's
        ``Function.fn.__call__``) and after its outputs are ready (output copies).
    memory, optimizer_profiles
        The ``profile_memory`` and ``profile_optimizer`` measurements (docs/debugging.md).

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
        self.traced_wait_time = 0.0  # between them: an op waiting for a thread (profile_trace.py)
        self.traced_transfer_time = 0.0  # the arguments' copies to the device
        self.traced_host_time = 0.0  # the argument checks and output copies of the traced calls
        self.input_time = 0.0  # all calls: before the jitted function (argument checks)
        self.output_time = 0.0  # all calls: after its outputs are ready (output copies, DeepCopyOp)
        self.fn_call_time = 0.0  # all calls: in the jitted function (Theano's Function.fn.__call__)
        self.timed_calls = 0  # calls whose jitted function was timed (not a shape-bucketed call's)
        self.traced_fn_time = 0.0  # the traced calls' time in the jitted function
        self.first_fn_time = 0.0  # the first call's (never traced): one-time work besides compiling
        self.sample_calls = sample_calls
        self.sample_every = sample_every
        self._hlo: dict[Any, Hlo | None] = {}
        self._summed: dict[Any, float] = {}  # node times of profiles added with +=
        self.track_memory = bool(kwargs.get("profile_memory", False))  # or the profile_memory flag
        self.memory: dict[Any, tuple[str, dict]] = {}  # (graph, signature) -> (name, profile_memory.py's)
        self.optimizer_profiles: list[tuple[str, list]] = []  # (name, the graph's rewrite_profile)
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

    def _hlo_for(self, f: Any, args: tuple, kwargs: dict, segment_calls: list | None) -> Any:
        """The parsed HLO of the program(s) a call with these arguments ran: one ``Hlo``, a list
        of them (a segmented function: one per segment run, in order), or None."""
        from thx.lowering.linker import x64
        if getattr(f, "_bucket", None) is not None:  # the call ran the padded program
            return _bucket_hlo(f, args, kwargs)
        if segment_calls:
            return [self._segment_hlo(jitted, vals) for jitted, vals in segment_calls]
        vals = [int(v) if k in f._static_set else v for k, v in enumerate(call_values(f, args, kwargs))]
        sig = tuple((np.shape(v), str(getattr(v, "dtype", type(v)))) if k not in f._static_set else v
                    for k, v in enumerate(vals))
        if sig not in self._hlo:
            lower = _plain_fn(f).lower
            try:
                with x64(True):
                    self._hlo[sig] = Hlo(lower(*vals).compile().as_text())
            except NotImplementedError:  # several jitted segments, none run yet
                self._hlo[sig] = None
        return self._hlo[sig]

    def _segment_hlo(self, jitted: Any, vals: tuple) -> Hlo:
        from thx.lowering.linker import x64
        key = (id(jitted), tuple(v if not hasattr(v, "shape") else (np.shape(v), str(v.dtype)) for v in vals))
        if key not in self._hlo:
            with x64(True):
                self._hlo[key] = Hlo(jitted.lower(*vals).compile().as_text())
        return self._hlo[key]

    def _record_trace(self, events: list[dict], hlo: Any, wall: float, host: float,
                      barrier: Any = None) -> None:
        """Split one traced call: XLA's time per instruction (``profile_trace``) to Apply nodes."""
        self.traced_calls += 1
        self.traced_call_time += wall
        self.traced_host_time += host
        times, busy, wait, first = thunk_times(events)
        self.traced_thunk_time += busy
        self.traced_wait_time += wait
        self.traced_transfer_time += device_put_time(events, first)
        for run, by_name in _per_run(times, hlo, barrier):
            for name, seconds in by_name.items():
                for node, share in (run.split(name) if isinstance(run, Hlo) else {run: 1.0}).items():
                    self.apply_time[node] += seconds * share
                    self.apply_callcount[node] += 1

    # ------------------------------------------------------------------ reading
    def _scale(self) -> float:
        """Traced calls -> all calls: by the time spent in the jitted function when every call's is
        known (a traced call is slower: the tracer records every op), else by the number of calls."""
        if not self.traced_calls:
            return 0.0
        if self.timed_calls == self.fct_callcount and self.traced_fn_time > 0:
            return (self.fn_call_time - self.first_fn_time) / self.traced_fn_time
        return self.fct_callcount / self.traced_calls

    def node_time(self) -> dict[Any, float]:
        """Apply node -> seconds over all calls.

        XLA's times on the traced calls are scaled to all calls after the first
        (by their time in the jitted function); the work of a call outside the
        graph is listed as nodes of its own (``OUTSIDE``): the argument checks
        and the output copies (Theano's ``DeepCopyOp``), timed on every call,
        the arguments' copies to the device, from the traced calls and scaled,
        and the first call's time in the jitted function (never traced: it
        holds one-time work besides compiling).
        """
        s = self._scale()
        out = dict(self._summed)
        for n, t in self.apply_time.items():
            out[n] = out.get(n, 0.0) + t * s
        for n, t in ((INPUT_CHECKS, self.input_time), (OUTPUT_COPIES, self.output_time),
                     (DEVICE_PUT, self.traced_transfer_time * s), (FIRST_CALL, self.first_fn_time * bool(s))):
            if t > 0:
                out[n] = out.get(n, 0.0) + t
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
        """XLA's time (given to Apply nodes) / wall time, on the traced calls."""
        busy = self.traced_thunk_time + self.traced_wait_time
        return busy / self.traced_call_time if self.traced_call_time else 0.0

    def accounted_fraction(self) -> float:
        """All measured parts of the traced calls (XLA's ops, the argument checks and copies to the
        device, the output copies) / their wall time: 1.0 when nothing of a call went unmeasured."""
        parts = self.traced_thunk_time + self.traced_wait_time + self.traced_transfer_time + self.traced_host_time
        return parts / self.traced_call_time if self.traced_call_time else 0.0

    def __iadd__(self, other: "ProfileStats") -> "ProfileStats":
        for k in ("fct_callcount", "fct_call_time", "optimizer_time", "linker_time", "xla_compile_time",
                  "nb_nodes", "traced_calls", "traced_call_time", "traced_thunk_time", "traced_wait_time",
                  "traced_transfer_time", "traced_host_time", "fn_call_time", "timed_calls",
                  "traced_fn_time", "first_fn_time"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for n, t in other.node_time().items():
            self._summed[n] = self._summed.get(n, 0.0) + t
        self.memory.update(other.memory)
        self.optimizer_profiles += other.optimizer_profiles
        return self

    def summary(self, file: IO[str] | None = None, n_ops_to_print: int | None = None,
                n_apply_to_print: int | None = None) -> None:
        """Print Theano's profile summary: global, Class, Ops and Apply sections."""
        from thx.compile.profile_summary import write_summary
        write_summary(self, file if file is not None else sys.stderr,
                      n_ops_to_print if n_ops_to_print is not None else config.profiling__n_ops,
                      n_apply_to_print if n_apply_to_print is not None else config.profiling__n_apply,
                      config.profiling__min_memory_size)


class _OutsideOp:
    """The op of a pseudo-node: work of a call done outside the graph (no graph Op)."""

    def __str__(self) -> str:
        return type(self).__name__


class InputChecks(_OutsideOp):
    """Checking and converting the arguments to the inputs' types (Theano's ``Type.filter``)."""


class DevicePut(_OutsideOp):
    """Copying the arguments to the device (the role of Theano's ``GpuFromHost``)."""


class DeepCopyOp(_OutsideOp):
    """Copying the outputs into fresh writable NumPy arrays (Theano's ``DeepCopyOp``)."""


class FirstCall(_OutsideOp):
    """The first call's time in the jitted function: its run, and one-time work besides compiling."""


class OutsideNode:
    """A pseudo Apply node in a profile: a part of each call outside the graph, measured."""

    outside = True

    def __init__(self, op: _OutsideOp, label: str) -> None:
        self.op, self.label = op, label
        self.inputs: list = []
        self.outputs: list = []

    def __str__(self) -> str:
        return self.label

    __repr__ = __str__


INPUT_CHECKS = OutsideNode(InputChecks(), "InputChecks(arguments)")
DEVICE_PUT = OutsideNode(DevicePut(), "DevicePut(arguments)")
OUTPUT_COPIES = OutsideNode(DeepCopyOp(), "DeepCopyOp(outputs)")
FIRST_CALL = OutsideNode(FirstCall(), "FirstCall(jitted function)")
OUTSIDE = (INPUT_CHECKS, DEVICE_PUT, OUTPUT_COPIES, FIRST_CALL)


def _per_run(times: dict, hlo: Any, barrier: Any):
    """``(Hlo, or the node to charge, {instruction: seconds})`` for each execution of a traced call.

    A segmented function's executions are its segments (``hlo`` lists their
    modules in the order they ran) and the programs its host barrier runs
    between them: those go to the barrier node when there is one (else
    unattributed).
    """
    if not isinstance(hlo, list):
        for by_name in times.values():
            yield hlo, by_name
        return
    k = 0
    for (module, _), by_name in times.items():
        if k < len(hlo) and module == hlo[k].module:
            yield hlo[k], by_name
            k += 1
        else:
            yield barrier, by_name


def _op_name(node: Any) -> str:
    return str(node.op) if node is not None else "(unattributed)"


def _class_name(node: Any) -> str:
    return type(node.op).__name__ if node is not None else "(unattributed)"


# --------------------------------------------------------------------------- the profiled call

def profiled_call(f: Any, call: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``call(*args, **kwargs)`` (the function's own call) timed, maybe under the tracer.

    JAX reports the tracing, lowering and XLA compilation a call does
    (``jax.monitoring``): they go to the compile time, not the call time.
    The jitted function is timed from inside (``_TimedFn``): what comes
    before it is the argument checks, what comes after its outputs are
    ready is the output copies.
    """
    import jax
    from thx.lowering import segments
    _listen()
    prof = f.profile
    timed = _timed(f)
    trace_dir = tempfile.mkdtemp(prefix="thx_profile_") if prof._wants_trace() else None
    seg_calls = None
    try:
        if trace_dir is not None:
            try:
                opts = jax.profiler.ProfileOptions()
                opts.python_tracer_level = 0  # tracing Python calls would slow the call measured
                jax.profiler.start_trace(trace_dir, profiler_options=opts)
            except RuntimeError:  # another trace is running (the user's): just time the call
                shutil.rmtree(trace_dir, ignore_errors=True)
                trace_dir = None
            else:
                seg_calls = segments.SEGMENT_CALLS = []
        compiled_before = prof.linker_time + prof.xla_compile_time
        _CURRENT.prof = prof
        timed.marks = marks = []
        t0 = time.perf_counter()
        try:
            out = jax.block_until_ready(call(*args, **kwargs))
        finally:
            t1 = time.perf_counter()
            timed.marks = None
            segments.SEGMENT_CALLS = None
            _CURRENT.prof = None
            if trace_dir is not None:
                jax.profiler.stop_trace()
        compiling = prof.linker_time + prof.xla_compile_time - compiled_before
        wall = t1 - t0 - compiling
        host = 0.0
        if marks:  # the jitted function ran (not a shape-bucketed call's padded one)
            prof.input_time += marks[0] - t0
            prof.output_time += t1 - marks[-1]
            prof.fn_call_time += marks[-1] - marks[0] - compiling
            prof.timed_calls += 1
            host = marks[0] - t0 + t1 - marks[-1]
            if trace_dir is not None:
                prof.traced_fn_time += marks[-1] - marks[0] - compiling
            if prof.fct_callcount == 0:
                prof.first_fn_time = marks[-1] - marks[0] - compiling
        if prof.fct_callcount == 0:
            prof.first_call_time = wall
        prof.fct_callcount += 1
        prof.fct_call_time += wall
        if prof.track_memory:
            _note_memory(f, args, kwargs)
        if trace_dir is not None:
            prof._record_trace(read_events(trace_dir), prof._hlo_for(f, args, kwargs, seg_calls), wall, host,
                               _barrier(f))
    finally:
        if trace_dir is not None:
            shutil.rmtree(trace_dir, ignore_errors=True)
    return out


class _TimedFn:
    """``f.jax_fn`` seen by the profiler: notes when a call enters it and when its outputs are ready."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.marks: list[float] | None = None

    def __call__(self, *args: Any) -> Any:
        marks = self.marks
        if marks is None:
            return self.fn(*args)
        import jax
        marks.append(time.perf_counter())
        try:
            return jax.block_until_ready(self.fn(*args))
        finally:
            marks.append(time.perf_counter())

    def __getattr__(self, name: str) -> Any:  # lower, trace_counter ...: the jitted function's
        return getattr(self.fn, name)


def _timed(f: Any) -> _TimedFn:
    """``f.jax_fn`` wrapped once in a ``_TimedFn`` (at the first profiled call, after every compile
    hook has set it); the fast path is rebuilt so that it calls the wrapper."""
    fn = f.__dict__.get("jax_fn")
    if isinstance(fn, _TimedFn):
        return fn
    from thx.compile.fastcall import fast_call
    f.jax_fn = _TimedFn(fn)
    if getattr(f, "_fast", None) is not None:
        f._fast = fast_call(f)
    return f.jax_fn


def _note_memory(f: Any, args: tuple, kwargs: dict) -> None:
    """profile_memory: measure the memory of a call signature not seen yet (after the call's timing)."""
    from thx.compile.profile_memory import measure_memory
    vals = call_values(f, args, kwargs)
    key = (id(f.maker.fgraph), tuple((np.shape(v), str(getattr(v, "dtype", type(v)))) for v in vals))
    if key not in f.profile.memory:
        f.profile.memory[key] = (f.name or f.profile.message, measure_memory(f, vals))


def _plain_fn(f: Any) -> Any:
    fn = f.jax_fn
    return fn.fn if isinstance(fn, _TimedFn) else fn


def _barrier(f: Any) -> Any:
    """The one host-barrier node of a segmented function (an until scan), or None."""
    from thx.lowering.registry import runs_on_host
    found = [n for n in f.maker.fgraph.apply_nodes if runs_on_host(n.op)]
    return found[0] if len(found) == 1 else None


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


def _bucket_hlo(f: Any, args: tuple, kwargs: dict) -> "Hlo | None":
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
            f.profile._hlo[key] = Hlo(fn.lower(*vals).compile().as_text())
    return f.profile._hlo[key]


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
    prof.track_memory = prof.track_memory or config.profile_memory
    rewrites = getattr(f.maker.fgraph, "rewrite_profile", None)  # profile_optimizer (engine.py)
    if rewrites is not None and getattr(f.maker, "_cached", None) is None:
        prof.optimizer_profiles.append((f.name or prof.message, rewrites))
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
