"""Shape buckets: one compilation serves many lengths of a varying input axis.

``jax.jit`` compiles once per input shape.  For each (input, axis) pair the
analysis below tries to prove that padding the axis with junk rows cannot
change the results; the axes it proves safe are padded on the host up to a
bucket (``config.shape_buckets``), and their true lengths enter the graph as
traced int64 scalars.  The graph is rewritten so that

* a shape read from a padded axis gives the true length;
* a scan over a padded sequence becomes a ``MaskedScan`` (padded steps hold
  the state; see ``thx/scan/masked.py``);
* a sum or a matrix product over a padded axis masks the padding out;
* a negative constant index on a padded axis counts from the true end;
* outputs with a padded axis are cut back to the true length on the host.

Every other use of a padded axis ("poison") removes that axis from the
candidates, and the function compiles per shape for it as before.  Padded
axes that meet in an elementwise op (or as sequences of one scan) must have
the same length; they form one *class* with one length input.

Values per original variable, while rewriting (``_Rewriter``):

* ``new[v]``: its value in the rewritten graph (an array padded on its
  labelled axes; for a length-derived integer scalar, its *true* value);
* ``lab[v]``: per axis, ``None`` or ``(class, true length variable)``;
* ``dep[v]``: the classes a length-derived integer scalar depends on, and
  ``pad[v]``: its value computed from the padded shapes (known while tracing,
  used where a shape or a step count is needed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.config import config
from thx.graph.fg import FunctionGraph
from thx.compile.bucket_rules import _HANDLERS, _Merge, _Poison, _T

__all__ = ["bucket_size", "BucketPlan", "plan"]

_DEBUG = False  # print why each candidate axis was rejected


def bucket_size(n: int, spec: Any = None) -> int:
    """The padded length for a true length ``n`` under ``config.shape_buckets``.

    ``'pow2'``: the next power of two (at least 1); a list of sizes: the
    smallest one >= ``n`` (``n`` itself past the largest).

    Examples
    --------
    >>> bucket_size(5, 'pow2'), bucket_size(8, 'pow2'), bucket_size(5, [4, 10, 20])
    (8, 8, 10)
    """
    spec = config.shape_buckets if spec is None else spec
    if isinstance(spec, str):
        return 1 << max(int(n) - 1, 0).bit_length()
    for b in spec:
        if b >= n:
            return int(b)
    return int(n)


class BucketPlan:
    """The rewritten graph and what ``Function.__call__`` does around it.

    ``classes``: per length class, its (input position, axis) members;
    ``fgraph``: inputs = explicit inputs, one int64 length per class, shared
    variables; outputs = the original ones, then the true lengths the cuts read;
    ``cuts``: per output position, ``[(axis, extra output index), ...]``;
    ``min_lengths``: per class, the shortest true length the padded graph is
    exact for (``x[-k:]`` reads k true rows: a shorter input calls the exact
    shapes' compilation instead).
    """

    def __init__(self, classes, fgraph, cuts, n_extra, min_lengths=None) -> None:
        self.classes = classes
        self.min_lengths = list(min_lengths or [0] * len(classes))
        self.fgraph = fgraph
        self.cuts = cuts
        self.n_extra = n_extra
        self.ran = False  # set after the first call that ran the padded graph

    @property
    def masks_scan(self) -> bool:
        """Whether a scan runs over a padded axis (a MaskedScan in the graph)."""
        return any(type(n.op).__name__ == "MaskedScan" for n in self.fgraph.apply_nodes)

    def describe(self, names) -> str:
        return "; ".join(", ".join(f"{names[k] or k} axis {a}" for k, a in members)
                         for members in self.classes)


def plan(fg: FunctionGraph, n_explicit: int, n_results: int,
         reasons: dict | None = None) -> BucketPlan | None:
    """Find the bucketable axes of ``fg``'s first ``n_explicit`` inputs; None if there are none.

    ``n_results``: how many leading outputs are function results (cut back on
    the host); the outputs after them (updates) may not carry a padded axis.
    ``reasons``, if given, receives ``{(input, axis): op that rejected it}``.
    """
    if config.shape_buckets == "off":
        return None
    cands = []
    for k, v in enumerate(fg.inputs[:n_explicit]):
        t = v.type
        if getattr(t, "ndim", 0) and getattr(t, "dtype", None) not in (None, "object"):
            cands += [(k, a) for a in range(t.ndim) if not t.broadcastable[a]]
    rep = {c: c for c in cands}

    def find(c):
        while rep[c] != c:
            c = rep[c]
        return c

    alive = set(cands)
    for _ in range(4 * len(cands) + 4):
        if not alive:
            return None
        groups: dict = {}
        for c in sorted(alive):
            groups.setdefault(find(c), []).append(c)
        try:
            return _Rewriter(fg, n_explicit, n_results, groups).run()
        except _Poison as p:
            if _DEBUG:
                import traceback
                print("buckets: poison", p.classes, traceback.format_exc().splitlines()[-4:])
            gone = {c for c in alive if find(c) in p.classes}
            if reasons is not None:
                reasons.update((c, p.where) for c in gone)
            alive -= gone
        except _Merge as m:
            rep[find(m.b)] = find(m.a)
    return None


class _Rewriter:
    def __init__(self, fg, n_explicit, n_results, groups) -> None:
        T = _T()
        self.fg, self.n_explicit, self.n_results = fg, n_explicit, n_results
        self.groups = groups
        self.length = {c: T.lscalar(f"len_{fg.inputs[c[0]].name or c[0]}_{c[1]}") for c in groups}
        self.new: dict = {}
        self.lab: dict = {}
        self.dep: dict = {}
        self.pad: dict = {}
        self.vec: dict = {}  # Shape / MakeVector outputs: per entry None or (class, true length)
        self.min_length: dict = {}  # class -> shortest true length the rewritten graph is exact for

    # ---------------------------------------------------------------- helpers
    def N(self, v):
        return self.new.get(v, v)

    def P(self, v):
        return self.pad.get(v, self.N(v))

    def labels(self, v):
        return self.lab.get(v) or (None,) * getattr(v.type, "ndim", 0)

    def classes_of(self, v) -> set:
        out = {e[0] for e in self.labels(v) if e is not None} | set(self.dep.get(v, ()))
        out |= {e[0] for e in self.vec.get(v, ()) if e is not None}
        return out

    def poison(self, *vs):
        if _DEBUG:
            print("buckets: poison at", [str(v.owner.op) if v.owner else str(v) for v in vs][:4],
                  [v in self.vec for v in vs][:4])
        cs = set()
        for v in vs:
            cs |= self.classes_of(v)
        raise _Poison(cs)

    def same(self, a, b):
        """Two labels on one axis: the same class (merging them if needed)."""
        if a[0] != b[0]:
            raise _Merge(a[0], b[0])

    def mask(self, v, axis, true_len, fill=0):
        """``v`` with the entries at or past ``true_len`` along ``axis`` set to ``fill``."""
        T = _T()
        keep = T.lt(T.arange(v.shape[axis]), true_len)
        pattern = ["x"] * v.ndim
        pattern[axis] = 0
        keep = keep.dimshuffle(pattern)
        return T.switch(keep, v, T.cast(fill, v.dtype))

    def require(self, c, n: int) -> None:
        """The rewritten graph is exact only for true lengths >= ``n`` along class ``c``."""
        self.min_length[c] = max(self.min_length.get(c, 0), int(n))

    def sub(self, true_len, k: int):
        return true_len if k == 0 else true_len - np.int64(k)

    # ---------------------------------------------------------------- driver
    def run(self) -> BucketPlan:
        fg = self.fg
        for c, members in self.groups.items():
            for k, a in members:
                v = fg.inputs[k]
                labs = list(self.labels(v))
                labs[a] = (c, self.length[c])
                self.lab[v] = tuple(labs)
        for node in fg.toposort():
            self.visit(node)
        outs, cuts, extra, extra_idx = [], {}, [], {}
        for k, o in enumerate(fg.outputs):
            labs = self.labels(o)
            if any(labs):
                if k >= self.n_results:
                    self.poison(o)
                for a, e in enumerate(labs):
                    if e is not None:
                        if e[1] not in extra_idx:
                            extra_idx[e[1]] = len(extra)
                            extra.append(e[1])
                        cuts.setdefault(k, []).append((a, extra_idx[e[1]]))
            outs.append(self.N(o))
        n_in = self.n_explicit
        classes = list(self.groups)
        inputs = list(fg.inputs[:n_in]) + [self.length[c] for c in classes] + list(fg.inputs[n_in:])
        T = _T()
        extra = [T.cast(e, "int64") for e in extra]
        new_fg = FunctionGraph(inputs, outs + extra, clone=True)
        return BucketPlan([sorted(self.groups[c]) for c in classes], new_fg, cuts, len(extra),
                          [self.min_length.get(c, 0) for c in classes])

    def visit(self, node) -> None:
        ins = node.inputs
        touched = [i for i in ins if i in self.dep or i in self.vec or any(self.labels(i))]
        if not touched:
            new_ins = [self.N(i) for i in ins]
            if all(a is b for a, b in zip(new_ins, ins)):
                return
            self.emit(node, node.op.make_node(*new_ins).outputs)
            return
        handler = _HANDLERS.get(type(node.op).__name__)
        if handler is None:
            for cls in type(node.op).__mro__:
                handler = _HANDLERS.get(cls.__name__)
                if handler is not None:
                    break
        if handler is None:
            if _DEBUG:
                print("buckets: no rule for", node.op)
            raise _Poison(set().union(*[self.classes_of(v) for v in touched]), str(node.op))
        try:
            handler(self, node)
        except _Poison as p:
            p.where = p.where or str(node.op)
            raise

    def emit(self, node, new_outs, labels=None) -> None:
        for k, (o, n) in enumerate(zip(node.outputs, new_outs)):
            if n.type != o.type:
                conv = o.type.convert_variable(n) if hasattr(o.type, "convert_variable") else None
                n = conv if conv is not None else _T().patternbroadcast(n, o.type.broadcastable)
            self.new[o] = n
            if labels is not None and labels[k] is not None and any(labels[k]):
                self.lab[o] = tuple(labels[k])




# -------------------------------------------------------------------- calling

def compile_plan(fg: FunctionGraph, n_explicit: int, n_results: int, backend: str | None,
                 reasons: dict | None = None, keep_on_failure=(), donate=()):
    """``(plan, jitted, static_argnums)`` for ``fg``'s buckets, or None (no bucketable axis).

    ``keep_on_failure``, ``donate``: the unpadded graph's (update output, input) pairs and
    donated input positions (see linker.jit)."""
    if config.shape_buckets == "off" or not n_explicit:
        return None
    p = plan(fg, n_explicit, n_results, reasons)
    if p is None:
        return None
    from thx.lowering.linker import jit
    n_len = len(p.classes)  # the length inputs come before the shared variables
    keep = [(o, i + n_len if i >= n_explicit else i) for o, i in keep_on_failure]
    fn, statics = jit(p.fgraph, backend=backend, keep_on_failure=keep,
                      donate=[i + n_len if i >= n_explicit else i for i in donate])
    if any(n_explicit <= k < n_explicit + len(p.classes) for k in statics):
        return None  # a true length would be a static argument: nothing gained
    return p, fn, statics


def pad_axis(v: np.ndarray, axis: int, size: int) -> np.ndarray:
    """``v`` padded along ``axis`` to ``size`` by repeating its last row (zeros if it has none)."""
    n = v.shape[axis]
    if n == size:
        return v
    width = [(0, 0)] * v.ndim
    width[axis] = (0, size - n)
    return np.pad(v, width, mode="edge" if n else "constant")


def pad_inputs(p: BucketPlan, vals: list) -> tuple[list, list] | None:
    """The arguments padded to their buckets and the true length of each class; None when the
    lengths of one class differ (the unpadded function's own error is then the answer) or one is
    shorter than the padded graph allows (``p.min_lengths``: the exact compilation answers)."""
    vals = list(vals)
    lengths = []
    for members, shortest in zip(p.classes, p.min_lengths):
        ns = {vals[k].shape[a] for k, a in members}
        if len(ns) > 1:
            return None
        n_true = ns.pop()
        if n_true < shortest:
            return None
        size = bucket_size(n_true)
        for k, a in members:
            vals[k] = pad_axis(vals[k], a, size)
        lengths.append(np.int64(n_true))
    return vals, lengths


def exact_call(f, args):
    """``f(*args)`` without its buckets (the exact shapes' compilation)."""
    saved = f._bucket, f._watch
    f._bucket = f._watch = None
    try:
        return f(*args)
    finally:
        f._bucket, f._watch = saved


def cut_outputs(p: BucketPlan, outs, extra, device_arrays: bool, args=()) -> list:
    """The results cut back to their true lengths: fresh writable NumPy arrays (Theano's
    contract), or the ``jax.Array`` objects (``device_arrays``).

    A padded result is made a NumPy array the way any output is (``outputs.to_numpy``: XLA's
    buffer itself when nothing else sees it, else a copy; ``args``: the call's arguments), and
    the cut is a view of it: no copy of a large result (an n x n Jacobian padded to a bucket
    was copied whole, about a copy's time on top of the call).  A cut of a leading axis stays
    C-contiguous; a cut of a later axis is a strided view (``np.ascontiguousarray`` makes it
    contiguous).  A result cut from another output's buffer, or an argument's, is copied."""
    from thx.compile.outputs import ZERO_COPY_BYTES, to_numpy
    res = []
    for k in range(len(outs)):
        cuts = p.cuts.get(k, ())
        large = cuts and not device_arrays and getattr(outs[k], "nbytes", 0) >= ZERO_COPY_BYTES
        r = outs[k] if device_arrays else to_numpy(outs, k, args) if large else np.asarray(outs[k])
        for axis, j in cuts:
            index = [slice(None)] * np.ndim(r)
            index[axis] = slice(0, int(extra[j]))
            r = r[tuple(index)]
        res.append(r if device_arrays or large else np.array(r))  # small: a compact copy
    return res


def recompile_note(names, fname: str, old: tuple, new: tuple, p: BucketPlan | None,
                   reasons: dict) -> str | None:
    """The one-time warning for input axes whose length changed but that get no bucket."""
    bucketed = {m for members in (p.classes if p is not None else ()) for m in members}
    parts = []
    for k, (a_old, a_new) in enumerate(zip(old, new)):
        for axis, (u, v) in enumerate(zip(a_old, a_new)):
            if u != v and (k, axis) not in bucketed:
                why = reasons.get((k, axis))
                parts.append(f"input {names[k] or k} axis {axis} ({u} -> {v})"
                             + (f": {why} uses it in a way padding would change" if why else ""))
    if not parts:
        return None
    return (f"thx function{fname} compiles once per length of " + "; ".join(parts)
            + ". Those axes cannot be padded to a shape bucket (see docs/shapes.md, Buckets).")


def give_up(f, args, error: Exception):
    """The first call through the buckets failed: drop them for this graph, warn if the exact
    shapes work (a gap in the bucket rules), and answer the call without padding."""
    import warnings
    f._bucket = f._watch = f.__dict__.setdefault("_buckets_found", {})["plan"] = None
    out = f(*args)  # raises the user's own error if the exact shapes fail too
    warnings.warn(f"thx: shape buckets failed for this function ({type(error).__name__}: "
                  f"{str(error).splitlines()[0][:200] if str(error) else ''}); it compiles once "
                  f"per input shape instead", stacklevel=3)
    return out


class BucketCalls:
    """The shape-bucket part of ``thx.compile.function.Function`` (a mixin).

    ``_watch``: None (never bucket), True (before the first call), the first call's input
    shapes, or "on" (bucketed).  ``helpers`` is filled by function.py (its error and
    backend helpers), so this module imports nothing from it.
    """

    _bucket = None
    _watch: Any = True

    @property
    def bucketed_axes(self) -> list[list[tuple[str | int, int]]]:
        """The input axes padded to shape buckets, as groups of ``(input name or index, axis)``
        that share one length (empty until buckets were found; docs/shapes.md)."""
        p = self._bucket[0] if self._bucket is not None else None
        return [[(self._names[k] or k, a) for k, a in m] for m in (p.classes if p else ())]

    @property
    def n_compiles(self) -> int:
        """Traces (= XLA compiles) so far: the exact shapes' function and the padded one."""
        from thx.compile.statics import traces_of
        found = self.__dict__.get("_buckets_found", {})
        padded = self._bucket[1] if self._bucket is not None else found.get("fn")
        return traces_of(self.jax_fn) + traces_of(padded)

    def _find(self, reasons):
        _, backend, keep_on_failure = self._helpers()
        m = self.maker
        with config.change_flags(**getattr(self, "_lowering_flags", {})):  # as when it was created
            out = compile_plan(m.fgraph, self._n_in, m.n_outputs, backend(), reasons,
                               keep_on_failure(m), getattr(m, "donate", ()))
        if out is not None:  # its traces still count once the buckets are dropped (give_up)
            self.__dict__.setdefault("_buckets_found", {})["fn"] = out[1]
        return out

    def _watch_shapes(self, vals: list) -> bool:
        """Whether this call goes through the buckets: remember the first call's shapes; at the
        first call with others, find the buckets and warn once about axes left without one.  (A
        function called at one shape only, e.g. a scan over fixed-length sequences, never pads.)"""
        import warnings
        if self._bucket is not None:
            return True
        shapes = tuple(np.shape(v) for v in vals)
        found = self.__dict__.setdefault("_buckets_found", {})  # {"plan": ..., "reasons": ...}
        if self._watch is True:
            if (config.shape_buckets == "off" or not any(getattr(t, "ndim", 0) for t in self._types)
                    or any(t.host_only for t in self._types)):  # (a sparse input: not padded)
                self._watch = None
                return False
            self._watch = shapes
            return False
        if shapes == self._watch:
            return False
        first = self._watch
        if "plan" not in found:
            found["reasons"] = {}
            found["plan"] = self._find(found["reasons"])
        self._bucket = found["plan"]
        self._watch = "on" if self._bucket is not None else None
        fname = f" '{self.name}'" if self.name else ""
        note = recompile_note(self._names, fname, first, shapes, self._bucket and self._bucket[0],
                              found.get("reasons", {}))
        if note:
            warnings.warn(note, stacklevel=3)
        return self._bucket is not None

    def _call_bucketed(self, args):
        """``__call__`` with shape buckets: pad, pass the true lengths, cut the results back.
        A call with updates goes through ``shared_state.call_updating`` (locks, donation)."""
        from thx.compile import shared_state
        from thx.compile.statics import StaticArgs
        from thx.lowering.checks import split_status
        from thx.lowering.linker import x64
        runtime_error = self._helpers()[0]
        p, fn, statics = self._bucket
        n_fg = len(p.fgraph.outputs)
        st = p.__dict__.get("statics")
        if st is None or st[0] is not statics:  # static arguments as NumPy scalars of their dtype
            st = p.statics = (statics, StaticArgs(self.maker, statics, p.fgraph,
                                                  self._n_in + len(p.classes)))
        st = st[1]
        vals = [st.one(k, v) if k in statics else np.asarray(v) for k, v in
                enumerate(self._check(k, v) for k, v in enumerate(args))]
        padded = pad_inputs(p, vals)
        if padded is None:  # lengths disagree or are too short for the padded graph: exact shapes
            return exact_call(self, args)
        vals, lengths = padded
        try:
            if self._has_updates:  # atomic read-call-store (a failed call stores nothing)
                outs = shared_state.call_updating(self, vals + lengths, fn, st, n_fg)
            else:
                call_vals = st.shared(vals + lengths + [s._value for s in self._shared])
                with x64(True):
                    outs = fn(*call_vals)
        except Exception as e:
            msg = getattr(e, "thx_runtime_check", None)
            if msg is not None:  # a run-time check failed (while tracing: drop JAX's note)
                raise type(e)(msg) from None
            if not p.ran:  # the padded graph never ran: warn, compile per shape from now on
                return give_up(self, args, e)
            if self._has_updates:
                raise runtime_error(self, e, vals) from e
            # a concurrent update may have donated a shared value this call read: read again
            outs = shared_state.retry_read(self, call_vals, e, runtime_error, fn,
                                           len(vals) + len(lengths), st)
        p.ran = True
        if len(outs) > n_fg:  # run-time checks (calls without updates)
            outs = split_status(outs, n_fg)
        extra = outs[n_fg - p.n_extra:n_fg]
        outs = list(outs[:self._n_out])  # (the only reference to each result: see to_numpy)
        res = cut_outputs(p, outs, extra, self.return_device_arrays, vals)
        return res[0] if self._unpack else res
