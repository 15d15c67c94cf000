"""Host barriers: a graph run as jitted segments around the nodes that need the host.

Most graphs lower to one ``jax.jit`` function.  A few nodes cannot live
inside one, because a shape they return is only known once they have run:

* an ``until`` scan (``Scan.host_barrier``): its number of rows is the
  number of steps it ran;
* an ``ifelse`` whose branches give values of different shapes when the
  condition is a run-time value (``jax.lax.cond`` needs one shape);
* an op whose output length depends on its input's values (``bincount``,
  ``unique``, the positions ``compress`` and ``nonzero`` read:
  ``thx/tensor/data_sized.py``);
* a user's Python op, which has no JAX lowering and runs its NumPy
  ``perform`` (``thx/lowering/perform.py``).

``compile_graph`` returns the function the linker uses.  A graph with an
``until`` scan is cut at once into jitted *segments* (``segmented_jit``): each
maximal run of ordinary nodes is one ``jax.jit`` function, and a barrier
node runs between them with concrete inputs (its host implementation, from
``HOST_IMPLS``, or its ordinary one).  An ifelse becomes a barrier only when
tracing shows that its branch shapes differ: its implementation raises
``BranchShapesDiffer`` and ``compile_graph``'s function retries with that node
as a barrier (for good: it stays segmented for later calls).

An ifelse whose *value* later sets a shape (``arange(ifelse(c, n, m))``)
is marked while planning and becomes a barrier the same way, unless both
branches give the same concrete value.

A value that crosses from one segment to the next is an argument of the
next segment's ``jax.jit``.  It is passed as a static argument when it was
known while tracing the segment that made it (a shape, arithmetic on shapes
and static inputs: ``_concrete_slots``) or when the next segment needs it
while tracing (a ``static_inputs`` position: ``_segment_statics``), so it is
as concrete there as it would be in one ``jax.jit``; any other value is
traced, and its shape (for example an ``until`` scan's trimmed number of
rows) is concrete there.  Independent barriers share segments
(``_by_barrier_depth``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from thx.graph.fg import FunctionGraph
from thx.lowering.checks import RUNTIME_CHECK_ATTR, checked, split_status
from thx.lowering.compiles import TraceCounter, charging, counted, new_counter
from thx.lowering.program import Plan, build_closure, closure, execute, plan, static_argnums
from thx.lowering.registry import host_node, runs_on_host, static_inputs
from thx.tensor.shape import Shape
from thx.tensor.type import discrete_dtypes

# op type -> factory(op, node) of the function that runs the node between segments (concrete
# inputs); a barrier without one runs its ordinary implementation there.
HOST_IMPLS: dict[type, Callable[[Any, Any], Callable[..., Any]]] = {}
SEGMENT_CALLS: list | None = None  # while the profiler sets it: (jitted segment, its arguments) per run


class BranchShapesDiffer(ValueError):
    """An ifelse's branches gave different shapes under a traced condition.

    Raised while tracing; ``node`` is the ifelse node.  At the top level of a
    function (``compile_graph``) the node becomes a host barrier; inside a
    loop's step it reaches the user with its message.
    """

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node


class Static:
    """A concrete array as a hashable static argument of ``jax.jit``."""

    def __init__(self, value: Any) -> None:
        self.value = np.asarray(value)
        self._key = (self.value.dtype.str, self.value.shape, self.value.tobytes())

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Static) and self._key == other._key


def as_static(v: Any) -> Any:
    """``v`` as a static argument: a NumPy scalar for an integer scalar, else a ``Static``."""
    if isinstance(v, (int, np.generic, Static)):
        return v
    a = np.asarray(v)
    if a.ndim == 0 and a.dtype.kind in "iub":
        return a[()]  # a NumPy scalar of its dtype (host arithmetic follows the graph's dtypes)
    return Static(a)


# A value of a host-only type as a jitted segment takes it, and back (thx/lowering/sparse.py
# installs a SciPy matrix <-> its padded arrays); other values pass unchanged.
DEVICE_FORMS: list[Callable[[Any], Any]] = []
HOST_FORMS: list[Callable[[Any], Any]] = []


def device_form(v: Any) -> Any:
    for f in DEVICE_FORMS:
        v = f(v)
    return v


def host_form(v: Any) -> Any:
    for f in HOST_FORMS:
        v = f(v)
    return v


def _unwrap(v: Any) -> Any:
    return v.value if isinstance(v, Static) else v


def is_barrier(node: Any) -> bool:
    return runs_on_host(node.op) or host_node(node)


def host_step(fn: Callable[..., Any], *args: Any, who: str = "") -> Any:
    """``fn(*args)`` computed with NumPy in a barrier's host step (a data-sized op's NumPy
    function, a Python op's ``perform``); its array, or list of arrays, put on the device for
    the next segment.

    An error it raises reaches the caller with its own type and message (marked as a run-time
    check, which the call path re-raises unwrapped); ``who`` names the raiser in the message.
    """
    try:
        out = fn(*args)
    except Exception as e:
        setattr(e, RUNTIME_CHECK_ATTR, f"{e} (raised by {who})" if who else str(e))
        raise
    if isinstance(out, list):
        return [_to_device(v) for v in out]
    return _to_device(out)


def _to_device(v: Any) -> Any:
    """An array for the next segment; a host-only value (a SciPy matrix) stays on the host."""
    return jax.device_put(v) if isinstance(v, (np.ndarray, np.generic)) else v


def _segment_statics(items: Sequence, seg_in: Sequence[int]) -> set[int]:
    """Positions in ``seg_in`` of the integer values the segment's nodes need while tracing."""
    producer: dict[int, tuple] = {}
    var_of: dict[int, Any] = {}
    need: list[int] = []
    for _, ins, outs, node in items:
        for o in outs:
            producer[o] = (ins, node)
        var_of.update(zip(ins, node.inputs))
        need += [ins[k] for k in static_inputs(node)]
    pos = {s: k for k, s in enumerate(seg_in)}
    seen: set[int] = set()
    found: set[int] = set()
    while need:
        s = need.pop()
        if s in seen:
            continue
        seen.add(s)
        if s in producer:
            ins, node = producer[s]
            if not isinstance(node.op, Shape):  # shapes are concrete while tracing
                need.extend(ins)
        elif s in pos and getattr(var_of[s], "dtype", None) in discrete_dtypes:
            found.add(pos[s])
    return found


def _by_barrier_depth(program: Sequence, barriers: set) -> list:
    """The program reordered so that independent barriers share segments.

    A node's depth is the largest number of barriers on a path from the inputs
    to it (a barrier counts for the nodes after it).  The order is: the
    ordinary nodes of depth 0, the barriers of depth 0, the ordinary nodes of
    depth 1, ...: still topological, and with the fewest segments (two until
    scans that do not feed each other run between the same two segments).
    """
    depth_of_slot: dict[int, int] = {}
    keyed = []
    for i, item in enumerate(program):
        _, ins, outs, node = item
        d = max((depth_of_slot.get(s, 0) for s in ins), default=0)
        barrier = node in barriers
        for o in outs:
            depth_of_slot[o] = d + 1 if barrier else d
        keyed.append(((d, barrier, i), item))
    return [item for _, item in sorted(keyed, key=lambda kv: kv[0])]


def _concrete_slots(program: Sequence, barriers: set, initial: Sequence, static_slots: set) -> set[int]:
    """Slots whose value is known while tracing (a shape, arithmetic on shapes and static inputs).

    Such a value is a function of the segment's signature; when it is a small
    integer array it crosses into the next segment as a static argument, so it
    stays as concrete there as it would be in one ``jax.jit``.
    """
    concrete = {s for s, v in enumerate(initial) if v is not None} | set(static_slots)
    for _, ins, outs, node in program:
        if node in barriers:
            continue
        if isinstance(node.op, Shape) or all(s in concrete for s in ins):
            small = [o for o, v in zip(outs, node.outputs)
                     if getattr(v, "dtype", None) in discrete_dtypes and getattr(v, "ndim", 2) <= 1]
            concrete.update(small)
    return concrete


def segmented_jit(p: Plan, barriers: set, input_statics: Sequence[int],
                  backend: str | None = None, counter: TraceCounter | None = None
                  ) -> Callable[..., tuple]:
    """Run the planned graph ``p`` as jitted segments cut around the nodes in ``barriers``.

    Each maximal run of other nodes becomes one ``jax.jit`` function of the
    values it reads from earlier segments; a barrier node runs on its own with
    concrete inputs, so it may return arrays whose length it computed.  Every
    trace of a segment counts on ``counter`` (``Function.n_compiles``).
    """
    initial, in_slots, out_slots = p.initial, p.in_slots, p.out_slots
    static_slots = {in_slots[k] for k in input_statics}
    groups: list[tuple[bool, list]] = []
    for item in _by_barrier_depth(p.program, barriers):
        barrier = item[3] in barriers
        if barrier or not groups or groups[-1][0]:
            groups.append((barrier, [item]))
        else:
            groups[-1][1].append(item)
    const_slots = {s for s, v in enumerate(initial) if v is not None}
    concrete = _concrete_slots(p.program, barriers, initial, static_slots)

    segments = []
    needed = set(out_slots)
    for barrier, items in reversed(groups):
        produced = [o for _, _, outs, _ in items for o in outs]
        produced_set = set(produced)
        seg_in: list[int] = []
        for _, ins, _, _ in items:
            for s in ins:
                if s not in produced_set and s not in const_slots and s not in seg_in:
                    seg_in.append(s)
        seg_out = [o for o in produced if o in needed]
        needed = (needed - produced_set) | set(seg_in)
        segments.append((barrier, items, tuple(seg_in), tuple(seg_out)))
    segments.reverse()

    def make_segment(items, seg_in, seg_out):
        steps = [(fn, ins, outs) for fn, ins, outs, _ in items]

        def seg(*vals):
            if counter is not None:
                counter.bump()  # runs once per trace (= XLA compile) of this segment
            env = list(initial)
            for s, v in zip(seg_in, vals):
                env[s] = _unwrap(v)
            execute(steps, env)
            return tuple(env[o] for o in seg_out)
        statics = tuple(sorted({k for k, s in enumerate(seg_in) if s in concrete}
                               | _segment_statics(items, seg_in)))
        kwargs = {"backend": backend} if backend is not None else {}
        jitted = jax.jit(checked(seg), static_argnums=statics, **kwargs)
        n = len(seg_out)

        def call(*vals):
            if DEVICE_FORMS:
                vals = tuple(device_form(v) for v in vals)
            if statics:
                vals = tuple(as_static(v) if k in statics else v for k, v in enumerate(vals))
            if SEGMENT_CALLS is not None:
                SEGMENT_CALLS.append((jitted, vals))
            out = split_status(jitted(*vals), n)  # a failed check raises before the next segment
            # a step of the outer program: one output slot takes the value itself (see execute)
            return out[0] if n == 1 else out
        return call

    program = []
    for barrier, items, seg_in, seg_out in segments:
        if barrier:
            fn, ins, outs, node = items[0]
            host = HOST_IMPLS.get(type(node.op))
            run_host = host(node.op, node) if host is not None else fn
            if counter is not None:  # what the host step compiles counts for this function
                run_host = _charged(run_host, counter)
            program.append((run_host, ins, outs))
        elif seg_out:
            program.append((make_segment(items, seg_in, seg_out), seg_in, seg_out))
    run = closure(initial, in_slots, program, out_slots)
    if counter is None:
        return run
    seen: set = set()

    def watched(*args):
        # the segments' traces do not see the function's inputs: its signatures are noted here,
        # so the recompile warning covers segmented functions too
        sig = counter.signature(args)
        if sig not in seen:
            seen.add(sig)
            counter.note(sig)
        return run(*args)
    return watched


def _charged(fn: Callable[..., Any], counter: TraceCounter) -> Callable[..., Any]:
    def run(*args):
        with charging(counter):
            return fn(*args)
    return run


class _Adaptive:
    """One jitted function, or segments once some ifelse turned out to need the host."""

    def __init__(self, p: Plan, fn: Callable[..., tuple], barriers: set, statics: Sequence[int],
                 backend: str | None, counter: TraceCounter) -> None:
        self.plan, self.fn, self.barriers = p, fn, barriers
        self.statics, self.backend = tuple(statics), backend
        self.nodes = {item[3] for item in p.program}
        self.trace_counter = counter  # counts the one jitted function's traces, then the segments'

    def __call__(self, *args: Any) -> tuple:
        while True:
            try:
                return self.fn(*args)
            except BranchShapesDiffer as e:
                if e.node not in self.nodes or e.node in self.barriers:
                    raise  # inside a loop's step: no host round trip possible there
                self.barriers = self.barriers | {e.node}
                self.fn = segmented_jit(self.plan, self.barriers, self.statics, self.backend,
                                        self.trace_counter)

    def lower(self, *args: Any):
        if self.barriers:
            raise NotImplementedError("this function runs as several jitted segments (it has an "
                                      "until scan or an ifelse whose branch shapes differ); there "
                                      "is no single XLA program to show")
        return self.fn.lower(*args)


def _shape_setting_branches(p: Plan, input_statics: Sequence[int]) -> set:
    """Nodes with a host implementation (ifelse) whose output sets a shape or a size later.

    ``arange(ifelse(c, n, m))`` (or the shape of an ifelse output, once shape
    inference has rewritten it to an ifelse of the branches' shapes) needs the
    chosen value while tracing; unless the condition is itself known while
    tracing, or both branches give the same concrete value, the branch is
    chosen on the host.  Each such node is marked (``node.tag.sets_shape``):
    its implementation raises ``BranchShapesDiffer`` when the values differ.
    """
    concrete = _concrete_slots(p.program, set(), p.initial, {p.in_slots[k] for k in input_statics})
    producer = {o: item for item in p.program for o in item[2]}
    need = [item[1][k] for item in p.program for k in static_inputs(item[3])]
    seen: set[int] = set()
    found = set()
    while need:
        s = need.pop()
        if s in seen or s not in producer:
            continue
        seen.add(s)
        _, ins, _, node = producer[s]
        if isinstance(node.op, Shape):
            continue
        if type(node.op) in HOST_IMPLS and ins and ins[0] not in concrete:
            node.tag.sets_shape = True
            found.add(node)
        need.extend(ins)
    return found


def compile_graph(fgraph: FunctionGraph, backend: str | None = None,
                  keep_on_failure: Sequence[tuple[int, int]] = (), static: Sequence[int] = (),
                  donate: Sequence[int] = ()) -> tuple[Callable[..., tuple], tuple[int, ...]]:
    """The function running ``fgraph`` (one ``jax.jit``, or segments) and its static positions.

    ``keep_on_failure``: see ``checks.checked`` (segments raise a failed check
    before the next one runs, so no update is returned then).  ``static``:
    input positions to specialise on besides those that decide a shape.
    ``donate``: input positions whose buffers the one jitted function may
    reuse (``donatable``; segmented programs donate nothing).
    """
    statics = tuple(sorted(set(static_argnums(fgraph)) | set(static)))
    p = plan(fgraph)
    barriers = {item[3] for item in p.program if is_barrier(item[3])}
    _shape_setting_branches(p, statics)
    has_branches = any(type(item[3].op) in HOST_IMPLS for item in p.program)
    kwargs: dict[str, Any] = {"backend": backend} if backend is not None else {}
    counter = new_counter([v.name or f"input {k}" for k, v in enumerate(fgraph.inputs)], statics)
    if barriers:
        fn = segmented_jit(p, barriers, statics, backend, counter)
    else:
        run = checked(build_closure(p), keep_on_failure)  # + (code, value) if it makes checks
        run, _ = counted(run, counter.names, statics, counter)
        donated = donatable(fgraph, donate, statics)
        if donated and not has_branches:  # an ifelse may switch to segments, which re-read inputs
            kwargs["donate_argnums"] = donated
        fn = jax.jit(run, static_argnums=statics, **kwargs)
        host_only = [k for k, v in enumerate(fgraph.inputs) if v.type.host_only]
        if host_only:  # a sparse input: converted to the form jitted code takes (DEVICE_FORMS)
            fn = _converting(fn, host_only)
        fn.trace_counter = counter  # read by Function.n_compiles and thx.compile.stats()
        if not has_branches:
            counter.one_jit = True
            return fn, statics
    return _Adaptive(p, fn, barriers, statics, backend, counter), statics


def _converting(jitted: Any, positions: Sequence[int]) -> Callable[..., Any]:
    """``jitted`` called with the arguments at ``positions`` in their jitted form (a SciPy matrix
    as its padded arrays, ``device_form``); ``lower`` converts the same way."""
    def convert(args: tuple) -> list:
        args = list(args)
        for k in positions:
            args[k] = device_form(args[k])
        return args

    def call(*args: Any) -> Any:
        return jitted(*convert(args))
    call.lower = lambda *args: jitted.lower(*convert(args))  # type: ignore[attr-defined]
    return call


def donatable(fgraph: FunctionGraph, donate: Sequence[int], statics: Sequence[int]) -> tuple[int, ...]:
    """The positions of ``donate`` that may really be donated.

    Not a static argument, not an input returned unchanged as an output (its
    buffer would be both freed and returned), and only on a platform whose
    runtime implements donation.  (A program with run-time checks returns
    the old values as its updates when a check fails, so a failed call still
    changes nothing: ``checks.checked``'s ``keep_on_failure``.)
    """
    if not donate or not _donation_supported():
        return ()
    outs = set(fgraph.outputs)
    return tuple(k for k in donate if k not in statics and fgraph.inputs[k] not in outs)


def _donation_supported() -> bool:
    try:
        return jax.default_backend() in ("cpu", "gpu", "cuda", "rocm", "tpu")
    except RuntimeError:  # pragma: no cover
        return False


def host_runner(fgraph: FunctionGraph) -> Callable[..., tuple]:
    """``compile_graph(fgraph)`` called with concrete values (statics converted to hashables)."""
    fn, statics = compile_graph(fgraph)
    st = set(statics)
    n = len(fgraph.outputs)
    return lambda *vals: split_status(fn(*[as_static(v) if k in st else v
                                          for k, v in enumerate(vals)]), n)
