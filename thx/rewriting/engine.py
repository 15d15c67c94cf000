"""The rewrite engine: local rewrites, a worklist driver, merge (CSE) and constant folding.

A *local rewrite* looks at one Apply node and returns replacements for its
outputs (or None).  Rewrites are indexed by the op they track (for
``Elemwise``, by scalar-op name too), so the driver asks only the rewrites
that can apply to a node.  They are declared either as patterns::

    pattern("local_pow_one", (T.pow, "x", 1), "x")          # x ** 1 -> x

or as decorated functions when logic is needed::

    @local_rewrite("log", phase="stabilize")
    def local_log1p(fgraph, node): ...                      # log(1 + x) -> log1p(x)

Patterns are compiled in ``patterns.py``; constants and folding are in
``constants.py``.

The driver (``Rewriter``) keeps a worklist of nodes.  It starts with every
node in topological order and afterwards only revisits nodes whose
neighbourhood changed (listened to through the FunctionGraph's
``on_import`` / ``on_change_input`` callbacks), so a pass costs time
proportional to the graph plus the work the rewrites do, never a full
re-sort per rewrite.  Each visit first merges the node with an identical one
(same op, same inputs; constants merged by ``Constant.signature()``), then
folds it if all its inputs are constants, then tries the local rewrites.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from thx.config import config
from thx.graph.basic import Apply, Constant, Variable, describe
from thx.graph.fg import FunctionGraph
from thx.graph.op import Op
from thx.rewriting.constants import fold
from thx.rewriting.mode import Mode, get_mode

Replacement = Sequence[Variable | None] | dict[Variable, Variable] | None

PHASES = ("canonicalize", "stabilize", "specialize")


# ============================================================== rewrites and the registry


class LocalRewrite:
    """A named rewrite of one node: ``fn(fgraph, node) -> replacements or None``.

    Parameters
    ----------
    fn : callable
        Returns a list (one entry per output, None to keep it) or a dict
        ``{old_variable: new_variable}``, or None when it does not apply.
    tracks : sequence
        What nodes it looks at: Op classes, Op instances, elementwise
        functions (``T.log``) or scalar-op names (``"log"``); empty = every node.
    name : str
    tags : iterable of str
    """

    def __init__(self, fn: Callable[[FunctionGraph, Apply], Replacement], tracks: Sequence[Any],
                 name: str, tags: Iterable[str] = ()) -> None:
        self.phases: tuple[str, ...] = ()
        self.fn = fn
        self.tracks = tuple(tracks)
        self.keys = tuple(_track_key(t) for t in self.tracks)
        self.name = name
        self.base_tags = set(tags) | {name}
        self.tags = set(self.base_tags)  # union over the phases it is registered in

    def __call__(self, fgraph: FunctionGraph, node: Apply) -> Replacement:
        return self.fn(fgraph, node)

    def __repr__(self) -> str:
        return f"LocalRewrite({self.name})"


# phase -> (rewrite, its tags in that phase), in registration order
REGISTRY: dict[str, list[tuple[LocalRewrite, frozenset[str]]]] = {p: [] for p in PHASES}


def register(rewrite: LocalRewrite, phase: str | Sequence[str], *tags: str,
             fast_compile: bool = True) -> LocalRewrite:
    """Add ``rewrite`` to one phase (or several) with Theano's tags.

    In each phase a rewrite has the tags ``fast_run``, the phase name, its
    own name and ``tags``; in canonicalize also ``fast_compile`` (unless
    ``fast_compile=False``).
    """
    phases = (phase,) if isinstance(phase, str) else tuple(phase)
    for p in phases:
        if p not in REGISTRY:
            raise ValueError(f"unknown phase {p!r}; phases are {PHASES}")
        rewrite.base_tags |= set(tags)
        ptags = rewrite.base_tags | {p, "fast_run"}
        if p == "canonicalize" and fast_compile:
            ptags.add("fast_compile")
        rewrite.tags |= ptags
        rewrite.phases = tuple(getattr(rewrite, "phases", ())) + (p,)
        REGISTRY[p].append((rewrite, frozenset(ptags)))
    return rewrite


def all_rewrites() -> list[LocalRewrite]:
    """Every registered rewrite, once, in registration order."""
    seen: dict[str, LocalRewrite] = {}
    for p in PHASES:
        for rw, _ in REGISTRY[p]:
            seen.setdefault(rw.name, rw)
    return list(seen.values())


def local_rewrite(*tracks: Any, phase: str | Sequence[str] | None = None, tags: Sequence[str] = (),
                  name: str | None = None, fast_compile: bool = True) -> Callable[[Callable], LocalRewrite]:
    """Decorator: make ``fn(fgraph, node)`` a LocalRewrite tracking ``tracks``.

    With ``phase``, the rewrite is also registered in that phase (see ``register``).

    Examples
    --------
    >>> import thx.tensor as T
    >>> @local_rewrite(T.neg)
    ... def local_neg_neg(fgraph, node):  # -(-x) -> x
    ...     inner = node.inputs[0].owner
    ...     if inner is not None and inner.op == node.op:
    ...         return [inner.inputs[0]]
    >>> local_neg_neg.name, local_neg_neg.keys
    ('local_neg_neg', (('elemwise', 'neg'),))
    """
    def deco(fn: Callable) -> LocalRewrite:
        rw = LocalRewrite(fn, tracks, name or fn.__name__, tags)
        if phase is not None:
            register(rw, phase, fast_compile=fast_compile)
        return rw
    return deco


def _track_key(t: Any) -> Any:
    """The dispatch key of a tracked thing: ('elemwise', name) or an Op class."""
    from thx.tensor.elemwise import Elemwise
    if isinstance(t, str):
        return ("elemwise", t)
    if hasattr(t, "op") and isinstance(t.op, Op):  # an elementwise function such as T.log
        t = t.op
    if isinstance(t, Elemwise):
        return ("elemwise", t.scalar_op.name)
    if isinstance(t, Op):
        return type(t)
    if isinstance(t, type) and issubclass(t, Op):
        return t
    raise TypeError(f"a rewrite cannot track {t!r}: give an Op class, an Op, an elementwise "
                    f"function or a scalar-op name")


def _node_keys(op: Op) -> list[Any]:
    keys: list[Any] = list(type(op).__mro__)
    so = getattr(op, "scalar_op", None)
    if so is not None:
        keys.insert(0, ("elemwise", so.name))
    return keys


def rewrites_for(rewrites: Sequence[LocalRewrite], op: Op,
                 cache: dict[tuple, list[LocalRewrite]] | None = None) -> list[LocalRewrite]:
    """The rewrites among ``rewrites`` that track ``op`` (by class, or by scalar-op name)."""
    so = getattr(op, "scalar_op", None)
    ck = (type(op), None if so is None else so.name)
    found = None if cache is None else cache.get(ck)
    if found is None:
        keys = _node_keys(op)
        found = [rw for rw in rewrites if not rw.keys or any(k in keys for k in rw.keys)]
        if cache is not None:
            cache[ck] = found
    return found


# ============================================================== fitting a replacement


def fit(old: Variable, new: Variable) -> Variable | None:
    """``new`` made a legal replacement of ``old``, or None.

    A different dtype is cast back; a less broadcastable result gets
    ``patternbroadcast`` (checked when run); a *more* broadcastable one
    would change the output's shape, so the rewrite is skipped.
    """
    if new.type == old.type:
        return new
    from thx.tensor.type import TensorType
    if not (isinstance(old.type, TensorType) and isinstance(new.type, TensorType)):
        return None
    if new.ndim != old.ndim:
        return None
    if any(nb and not ob for nb, ob in zip(new.broadcastable, old.broadcastable)):
        return None
    if new.dtype != old.dtype:
        from thx.tensor.elemwise import cast
        new = cast(new, old.dtype)
    if new.broadcastable != old.broadcastable:
        from thx.tensor.basic import patternbroadcast
        new = patternbroadcast(new, old.broadcastable)
    return new


# ============================================================== the driver


class Rewriter:
    """Worklist driver applying local rewrites, merge and folding until nothing changes.

    Parameters
    ----------
    rewrites : sequence of LocalRewrite
    merge, fold : bool
        Also merge identical nodes / fold constant nodes.
    on_error : {'warn', 'raise', 'ignore'}
        What to do when a rewrite raises (Theano warns and goes on) or when
        the rewrites do not reach a fixed point.
    verbose : bool, optional
        Print each rewrite applied (default: ``config.optimizer_verbose``).

    Attributes
    ----------
    applied : dict
        How many times each rewrite applied.
    visits : int
        How many node visits the worklist made (linear in the graph size).
    """

    def __init__(self, rewrites: Sequence[LocalRewrite], merge: bool = True, fold: bool = True,
                 on_error: str = "warn", verbose: bool | None = None) -> None:
        self.rewrites = tuple(rewrites)
        self.merge = merge
        self.fold = fold
        self.on_error = on_error
        self.verbose = config.optimizer_verbose if verbose is None else verbose
        self.applied: dict[str, int] = {}
        self.last: str | None = None
        self.visits = 0
        self._table: dict[tuple, Apply] = {}
        self._consts: dict[Any, Constant] = {}
        self._dispatch: dict[tuple, list[LocalRewrite]] = {}
        self.times: dict[str, float] | None = {} if config.profile_optimizer else None  # s per rewrite

    # ---------------------------------------------------------- listener protocol
    def on_import(self, fgraph, node):
        self._push(node)

    def on_prune(self, fgraph, node):
        pass

    def on_change_input(self, fgraph, node, i, old, new, reason=None):
        if node != "output":
            self._push(node)
        if new.owner is not None:
            self._push(new.owner)
        if old.owner is not None:
            self._push(old.owner)

    def _push(self, node):
        if node is not self._current and node not in self._queued:
            self._queued.add(node)
            self._queue.append(node)

    # ---------------------------------------------------------- running
    def apply(self, fgraph: FunctionGraph) -> None:
        """Rewrite ``fgraph`` in place until no rewrite applies."""
        self._queue: deque[Apply] = deque(fgraph.toposort())
        self._queued: set[Apply] = set(self._queue)
        self._current: Apply | None = None
        limit = 20 * len(self._queue) + 1000
        budget = limit
        fgraph.attach_feature(self)
        try:
            while self._queue:
                node = self._queue.popleft()
                self._queued.discard(node)
                if node not in fgraph.apply_nodes:
                    continue
                self._current = node
                self.visits += 1
                changed = self._visit(fgraph, node)
                self._current = None
                if changed:
                    budget -= 1
                    if budget <= 0:
                        if self.on_error == "raise":
                            raise RuntimeError(f"rewriting did not reach a fixed point after {limit} "
                                               f"rewrites; last applied: {self.last}")
                        warnings.warn(f"rewriting stopped after {limit} rewrites without reaching "
                                      f"a fixed point (a rewrite may loop)", stacklevel=2)
                        break
                    if node in fgraph.apply_nodes:
                        self._push(node)
        finally:
            self._current = None
            fgraph.remove_feature(self)

    def _visit(self, fgraph: FunctionGraph, node: Apply) -> bool:
        if self.times is None:
            return self._try(fgraph, node)
        self._last = (None, time.perf_counter())
        try:
            return self._try(fgraph, node)
        finally:
            self._charge(None)

    def _charge(self, name: str | None) -> None:
        """profile_optimizer: the time since the last mark goes to the rewrite tried then."""
        (prev, t0), now = self._last, time.perf_counter()
        if prev is not None:
            self.times[prev] = self.times.get(prev, 0.0) + now - t0
        self._last = (name, now)

    def _try(self, fgraph: FunctionGraph, node: Apply) -> bool:
        timed = self.times is not None
        if self.merge:
            if timed:
                self._charge("merge")
            if self._merge_constants(fgraph, node) and node not in fgraph.apply_nodes:
                return True
            if self._merge_node(fgraph, node):
                return True
        if self.fold:
            if timed:
                self._charge("constant_folding")
            consts = fold(node)
            if consts is not None and self._replace(fgraph, node, consts, "constant_folding"):
                return True
        for rw in rewrites_for(self.rewrites, node.op, self._dispatch):
            if timed:
                self._charge(rw.name)
            try:
                result = rw.fn(fgraph, node)
            except Exception as e:  # a buggy rewrite must not break compilation
                if self.on_error == "raise":
                    raise
                if self.on_error == "warn":
                    warnings.warn(f"rewrite {rw.name} failed on {node.op}: {type(e).__name__}: {e}",
                                  stacklevel=2)
                continue
            if result and self._replace(fgraph, node, result, rw.name):
                return True
        return False

    def _replace(self, fgraph: FunctionGraph, node: Apply, result: Replacement, reason: str) -> bool:
        pairs = list(result.items()) if isinstance(result, dict) else list(zip(node.outputs, result))
        todo = []
        for old, new in pairs:
            if new is None or new is old or old not in fgraph.variables:
                continue
            fitted = fit(old, new)
            if fitted is None:
                return False
            todo.append((old, fitted))
        if not todo:
            return False
        for old, new in todo:
            if self.verbose:
                print(f"rewriting: rewrite {reason} replaces {describe(old)} with {describe(new)}")
            fgraph.replace(old, new, reason=reason)
        self.applied[reason] = self.applied.get(reason, 0) + 1
        self.last = reason
        return True

    # ---------------------------------------------------------- merge
    def _merge_constants(self, fgraph: FunctionGraph, node: Apply) -> bool:
        changed = False
        for i, v in enumerate(node.inputs):
            if isinstance(v, Constant):
                try:
                    sig = v.signature()
                    canon = self._consts.setdefault(sig, v)
                except TypeError:  # unhashable signature: leave it alone
                    continue
                if canon is not v:
                    fgraph.change_input(node, i, canon, reason="merge")
                    changed = True
        return changed

    def _merge_node(self, fgraph: FunctionGraph, node: Apply) -> bool:
        if getattr(node.op, "nondeterministic", False):
            return False
        key = (node.op, *node.inputs)
        try:
            other = self._table.get(key)
        except TypeError:  # an op that cannot be hashed
            return False
        if (other is None or other is node or other not in fgraph.apply_nodes
                or len(other.inputs) != len(node.inputs)
                or any(a is not b for a, b in zip(other.inputs, node.inputs))):
            self._table[key] = node
            return False
        if any(a.type != b.type for a, b in zip(node.outputs, other.outputs)):
            return False
        return self._replace(fgraph, node, other.outputs, "merge")


# ============================================================== queries and modes


BASE_TAGS = {"fast_run": {"fast_run"}, "fast_compile": {"fast_compile"}, "merge": {"merge"},
             "None": set(), "o1": {"fast_compile"}, "o2": {"fast_run"}, "o3": {"fast_run"},
             "o4": {"fast_run"}, "unsafe": {"fast_run"}}
MERGE_TAGS = {"merge", "fast_run", "fast_compile"}
FOLD_TAGS = {"constant_folding", "fast_run", "fast_compile"}


def _selected(tags: set[str], include: set[str], exclude: set[str], require: set[str]) -> bool:
    return bool(tags & include) and not tags & exclude and require <= tags


def plan(optimizer: str, including: Iterable[str] = (), excluding: Iterable[str] = (),
         requiring: Iterable[str] = ()) -> tuple[bool, bool, dict[str, list[LocalRewrite]]]:
    """Which rewrites a mode runs: ``(merge, fold, {phase: rewrites})``.

    A rewrite runs when one of its tags is included (the optimizer's base
    tag, e.g. ``fast_run``, plus ``including``), none is excluded, and it
    has every required tag (Theano's ``Query``).

    Examples
    --------
    >>> merge, fold, phases = plan("fast_compile")
    >>> merge, fold, len(phases["stabilize"])
    (True, True, 0)
    """
    include = set(BASE_TAGS[optimizer]) | set(including)
    exclude, require = set(excluding), set(requiring)
    phases = {p: [rw for rw, tags in REGISTRY[p] if _selected(set(tags), include, exclude, require)]
              for p in PHASES}
    return (_selected(MERGE_TAGS, include, exclude, require),
            _selected(FOLD_TAGS, include, exclude, require), phases)


def optimize(fgraph: FunctionGraph, mode: Any = None, on_error: str = "warn") -> dict[str, int]:
    """Rewrite ``fgraph`` in place as ``mode`` says; returns how often each rewrite applied.

    Phases run in Theano's order (canonicalize, stabilize, specialize), each
    to a fixed point, with merge and constant folding inside every phase.

    Parameters
    ----------
    fgraph : FunctionGraph
    mode : Mode, mode name (``'FAST_RUN'``), optimizer name (``'fast_compile'``) or None
        None means ``config.mode``.
    on_error : {'warn', 'raise', 'ignore'}
        What to do when a rewrite raises or does not reach a fixed point.

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx.graph.fg import FunctionGraph
    >>> x = T.dscalar('x')
    >>> fg = FunctionGraph([x], [(x * 1) ** 1])
    >>> _ = optimize(fg, 'FAST_RUN')
    >>> fg.outputs[0] is fg.inputs[0]
    True
    """
    if isinstance(mode, str) and mode in BASE_TAGS:  # an optimizer name: 'fast_run', 'merge' ...
        mode = Mode(optimizer=mode)
    m = get_mode(mode)
    merge, do_fold, phases = plan(m.optimizer, m._including, m._excluding, m._requiring)
    counts: dict[str, int] = {}
    profile = [] if config.profile_optimizer else None  # (phase, seconds, nodes before, after, Rewriter)
    # Graph nodes form reference cycles (owner <-> outputs); on a big graph Python's cyclic
    # collector would rescan all of them again and again while rewrites allocate, making the
    # cost superlinear.  Collection is deferred to the end of the rewriting.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for p in PHASES:
            if phases[p] or (p == "canonicalize" and (merge or do_fold)):
                rw = Rewriter(phases[p], merge=merge, fold=do_fold, on_error=on_error)
                t0, n0 = time.perf_counter(), len(fgraph.apply_nodes)
                rw.apply(fgraph)
                if profile is not None:
                    profile.append((p, time.perf_counter() - t0, n0, len(fgraph.apply_nodes), rw))
                for k, n in rw.applied.items():
                    counts[k] = counts.get(k, 0) + n
    finally:
        if gc_was_enabled:
            gc.enable()
    if profile is not None:  # read by the profiler (thx/compile/profile_rewrites.py)
        fgraph.rewrite_profile = profile
    return counts
