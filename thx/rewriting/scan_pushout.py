"""Scan push-out rewrites: move out of a loop the work that does not need it (Theano's PushOut*Scan).

Three rewrites of a Scan node of the outer graph leave only the recurrence
inside the loop.  With ``W`` a non-sequence, ``x_t`` a sequence slice, ``h``
a recurrent state and ``acc`` a state that only its own update reads::

    local_scan_pushout_nonseqs   # f(W) in the step -> f(W) once before the loop (a new non-sequence)
    local_scan_pushout_seqs      # f(x_t, W) in the step -> f(X, W) batched before the loop (a new sequence)
    local_scan_pushout_outputs   # acc_t = acc + outer(a_t, b_t) -> a_t, b_t per step; acc0 + tensordot(A, B) after
                                 #   (a product of per-step matrices, a batch's GEMM, stays in the loop)
                                 # acc_t = acc + e_t -> e_t per step; acc0 + sum(E, axis=0) after
                                 # nit output dot(W, v_t) -> v_t per step; one batched dot after

"Batched" means one computation with a leading step axis: ``dot(U, x_t)``
becomes the sequence ``dot(X, U.T)``; elementwise ops, DimShuffles, sums
and dots with a loop-invariant operand are batched; elementwise work moves
only when it adds no ``[steps, ...]`` array (``_Loop._no_more_arrays``); an
accumulated product of per-step matrices (a batch's GEMM) stays in the loop
(``_per_step_gemm``).
Each rewrite takes a copy of
the step graph rewritten by the scan's mode (cached per Scan op), so the
forms it matches are canonical, and builds a new Scan when it moved
anything.  A map (no state, no stop condition) is left alone: ``jax.vmap``
batches its whole step.  ``MaskedScan`` (shape buckets) is made only after
the optimizer has run, so it never meets these rewrites.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import thx.tensor as T
from thx.graph.basic import Apply, Constant, Variable, ancestors, clone_replace, io_toposort
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import local_rewrite, optimize
from thx.rewriting.mode import get_mode
from thx.scan.op import Scan
from thx.tensor.elemwise import DimShuffle, Elemwise
from thx.tensor.math import Dot, Sum, rowwise_dot, tensordot
from thx.tensor.shape import Shape
from thx.tensor.subtensor import Subtensor

_INNER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Scan op -> its rewritten step


def _optimized_inner(op: Scan) -> FunctionGraph:
    fg = _INNER.get(op)
    if fg is None:
        fg = op.fgraph.clone()
        optimize(fg, get_mode(op.mode))
        _INNER[op] = fg
    return fg


def _float(v: Variable) -> bool:
    """Only float values leave a loop: integers are indices and shapes, which the step's own
    shape inference needs to see (``x[k * 3:(k + 1) * 3]`` has 3 elements)."""
    return getattr(v.type, "dtype", "").startswith(("float", "complex"))


def _is_fill(v: Variable) -> bool:
    """A constant broadcast to a shape (``zeros_like``, ``alloc(0, ...)``), under DimShuffles and
    Rebroadcasts.  Free to make inside a loop, where XLA sees the constant and folds it; made
    before the loop, it is an opaque array the step must read (a gradient's ``inc_subtensor`` of
    zeros becomes a real update-and-add every step)."""
    from thx.tensor.basic import Alloc
    from thx.tensor.shape import Rebroadcast
    while v.owner is not None and isinstance(v.owner.op, (DimShuffle, Rebroadcast)):
        v = v.owner.inputs[0]
    n = v.owner
    if n is None:
        return isinstance(v, Constant)
    if isinstance(n.op, Alloc):
        return _is_fill(n.inputs[0])
    if isinstance(n.op, Elemwise) and getattr(n.op.scalar_op, "name", None) == "second":
        return _is_fill(n.inputs[1])
    return False


def _rows_type(outer: Variable, inner: Variable) -> Variable:
    """``outer`` (one row per step of ``inner``) with the broadcast pattern ``inner``'s rows have."""
    want = (False,) + inner.type.broadcastable
    if outer.dtype != inner.dtype:
        outer = T.cast(outer, inner.dtype)
    return outer if outer.broadcastable == want else T.patternbroadcast(outer, want)


def _batchable(node: Apply, per_step: set, invariant: Callable[[Variable], bool]) -> bool:
    """Whether ``node`` has a batched form: elementwise, DimShuffle, or a dot with one
    loop-invariant operand, on per-step and invariant inputs."""
    if len(node.outputs) != 1 or not any(i in per_step for i in node.inputs):
        return False
    if not all(i in per_step or invariant(i) for i in node.inputs):
        return False
    if isinstance(node.op, (Elemwise, DimShuffle, Sum)):
        return True
    if isinstance(node.op, Dot):
        # Only a matrix-vector product per step: batched, the step's memory-bound GEMVs become one
        # GEMM.  A per-step operand that is already a matrix (a batched state) makes a GEMM per
        # step as it is; batching it before the loop only writes a [steps, ...] array the loop must
        # read back (the 1,000-step LSTM's forward: 85 ms batched, 65 ms in the loop; JAX 63 ms).
        step_ins = [i for i in node.inputs if i in per_step]
        return (len(step_ins) == 1 and sum(not b for b in step_ins[0].broadcastable) <= 1
                and all(i.ndim >= 1 for i in node.inputs))
    return False


def _batched_node(node: Apply, ins: list[Variable], batched: list[bool]) -> Variable:
    """``node``'s op applied to outer inputs, a leading step axis on those in ``batched``."""
    op, out = node.op, node.outputs[0]
    if isinstance(op, Elemwise):
        nd = out.ndim + 1
        return op(*[x if b else T.shape_padleft(x, nd - x.ndim) for x, b in zip(ins, batched)])
    if isinstance(op, DimShuffle):
        return ins[0].dimshuffle([0] + [d if d == "x" else d + 1 for d in op.new_order])
    if isinstance(op, Sum):
        return T.sum(ins[0], axis=[a + 1 for a in op._axes(ins[0].ndim - 1)])
    # the step axis stays first in every reshape, so shape buckets can pad it (thx/compile/bucket_rules.py)
    a, b = ins
    if batched[0]:  # dot(a_t, W): contract a's last axis with W's first
        return tensordot(a, b, [[a.ndim - 1], [0]])
    bt = b if b.ndim == 2 else b.dimshuffle(0, 2, 1)  # dot(W, b_t) = dot(b_t.T, W.T).T
    r = tensordot(bt, a.T if a.ndim == 2 else a, [[bt.ndim - 1], [0]])
    return r if b.ndim == 2 else r.dimshuffle(0, 2, 1)


def _sum_of_dots(x: Variable, y: Variable) -> Variable:
    """``sum_t dot(x[t], y[t])`` as one dot contracting the steps and the inner axis together.

    A sum of matrix products (a weight gradient's outer products) is a :class:`RowwiseDot`: the
    lowering computes it without packing the whole sequence, as a GEMM would (by rows of
    matrix-vector products, or in blocks of steps; the loop's rank-1 updates it replaces packed
    nothing)."""
    xs = x if x.ndim == 2 else x.dimshuffle(0, 2, 1)  # (T, k) or (T, k, m)
    n = xs.shape[0] * xs.shape[1]
    x2 = xs.reshape((n,) if x.ndim == 2 else (n, xs.shape[2]))
    y2 = y.reshape((n,) if y.ndim == 2 else (n, y.shape[2]))
    if x.ndim == 2:
        return T.dot(x2, y2)
    return rowwise_dot(x2.T, y2) if y2.ndim == 2 else T.dot(x2.T, y2)


def _batch(targets: list[Variable], rows: dict[Variable, Variable],
           outer_invariant: Callable[[Variable], Variable]) -> list[Variable]:
    """Outer versions, with a leading step axis, of per-step inner ``targets`` computed by
    batchable nodes from the variables in ``rows`` (inner -> outer rows) and invariants."""
    memo = dict(rows)
    for node in io_toposort(list(rows), targets):
        if node.outputs[0] in memo or not any(i in memo for i in node.inputs):
            continue
        flags = [i in memo for i in node.inputs]
        ins = [memo[i] if f else outer_invariant(i) for i, f in zip(node.inputs, flags)]
        memo[node.outputs[0]] = _rows_type(_batched_node(node, ins, flags), node.outputs[0])
    return [memo[v] for v in targets]


class _Loop:
    """A Scan node taken apart into lists that the rewrites edit, and put together by ``build``."""

    def __init__(self, node: Apply) -> None:
        op: Scan = node.op
        self.node, self.op = node, op
        fg = _optimized_inner(op)
        n_steps, seqs, inits, nonseqs = op.split_outer_inputs(node.inputs)
        self.n_steps = n_steps
        self.seqs = list(zip(fg.inputs[: op.n_seqs], seqs))  # (inner slice, outer sequence)
        self.nonseqs = list(zip(fg.inputs[op.n_seqs + op.n_tap_inputs:], nonseqs))
        self.states = []  # (inner taps, outer initial buffer, taps, inner output, outer trace)
        for k in range(op.n_rec):
            o = op.tap_offset(k)
            taps = fg.inputs[o: o + len(op.rec_taps[k])]
            self.states.append((taps, inits[k], op.rec_taps[k], fg.outputs[k], node.outputs[k]))
        nr = op.n_rec
        self.nits = [(fg.outputs[nr + j], node.outputs[nr + j]) for j in range(op.n_nit)]
        self.cond = fg.outputs[-1] if op.as_while else None
        self.repl: dict[Variable, Variable] = {}  # pushed-out inner variable -> its new placeholder
        ns = {i for i, _ in self.nonseqs}
        self.invariant: set[Variable] = set(ns)
        for n in io_toposort(fg.inputs, self.outputs()):
            if (not getattr(n.op, "nondeterministic", False)
                    and all(i in self.invariant or isinstance(i, Constant) for i in n.inputs)):
                self.invariant.update(n.outputs)

    def outputs(self) -> list[Variable]:
        return ([s[3] for s in self.states] + [v for v, _ in self.nits]
                + ([self.cond] if self.cond is not None else []))

    def is_invariant(self, v: Variable) -> bool:
        return v in self.invariant or isinstance(v, Constant)

    def outer_invariant(self, v: Variable) -> Variable:
        """The outer graph computing a loop-invariant inner variable."""
        return clone_replace([v], dict(self.nonseqs))[0]

    def clients(self) -> dict[Variable, list]:
        """Inner variable -> the inner nodes that read it ("output" for each time it is an output)."""
        cl: dict[Variable, list] = {}
        for n in io_toposort([], self.outputs()):
            for i in n.inputs:
                cl.setdefault(i, []).append(n)
        for o in self.outputs():
            cl.setdefault(o, []).append("output")
        return cl

    # ---------------------------------------------------------------- the push-outs before the loop
    def _frontier(self, inside: set[Variable], worth: Callable[[Variable], bool]) -> list[Variable]:
        """Variables of ``inside`` read by a node outside it, or returned, that ``worth`` keeps."""
        cl = self.clients()
        found = []
        for v in cl:
            if v.owner is None or v not in inside or not worth(v):
                continue
            if any(c == "output" or c.outputs[0] not in inside for c in cl[v]):
                found.append(v)
        return found

    def push_invariants(self) -> bool:
        """Loop-invariant computations become new non-sequences (computed once, before the loop)."""
        ns = {i for i, _ in self.nonseqs}
        moved = self._frontier(self.invariant, lambda v: _float(v) and not _is_fill(v)
                               and any(a in ns for a in ancestors([v])))
        for v, outer in zip(moved, clone_replace(moved, dict(self.nonseqs))):
            ph = v.type(v.name)
            self.nonseqs.append((ph, outer))
            self.repl[v] = ph
        return bool(moved)

    def push_sequence_work(self, fgraph: FunctionGraph) -> bool:
        """Per-step work on sequences only becomes new sequences, each one batched computation."""
        per_step = {i for i, _ in self.seqs}
        # Worth it: work with a matrix-vector product (batched, the GEMVs become one GEMM) and
        # work on per-step vectors or scalars (tiny kernels, each a fixed cost per step).
        # Elementwise work on per-step matrices (a batched state) runs fused inside the loop;
        # batched before it, it only writes a [steps, ...] array the loop reads back (a batched
        # LSTM's gradient: 77 ms against 68 ms).
        worth: set[Variable] = set()
        dotted: set[Variable] = set()  # computed with a matrix-vector product
        for n in io_toposort(list(per_step), self.outputs()):
            if _batchable(n, per_step, self.is_invariant):
                out = n.outputs[0]
                per_step.add(out)
                if isinstance(n.op, Dot) or any(i in dotted for i in n.inputs):
                    dotted.add(out)
                if (out in dotted or any(i in worth for i in n.inputs)
                        or (sum(not b for b in out.broadcastable) <= 1
                            and not isinstance(n.op, DimShuffle))):
                    worth.add(out)
        moved = self._frontier(per_step, lambda v: v in worth and _float(v))
        moved = self._no_more_arrays(moved, dotted, fgraph)
        if not moved:
            return False
        rows = {i: s[: self.n_steps] for i, s in self.seqs}
        for v, outer in zip(moved, _batch(moved, rows, self.outer_invariant)):
            ph = v.type(v.name)
            self.seqs.append((ph, outer))
            self.repl[v] = ph
        return True

    def _no_more_arrays(self, moved: list[Variable], dotted: set[Variable],
                        fgraph: FunctionGraph) -> list[Variable]:
        """``moved`` without the elementwise work that would add ``[steps, ...]`` arrays.

        Batched before the loop, each moved value is a new sequence.  One with a
        matrix-vector product is worth its array (the GEMVs become one GEMM).  Elementwise
        work only saves a small kernel per step, so it moves only when it is an accumulator's
        term (summed after the loop by ``local_scan_pushout_outputs``) or while the sequences it
        reads are freed by it (the loop no longer reads them) and it stores no more arrays
        than it frees: a gradient's ``1 - h ** 2`` batched beside the ``h`` the loop still
        reads holds both (the vector LSTM's gradient: two extra ``[steps, H]`` arrays).  A
        sequence is freed only when the loop is the last reader of its array
        (``_read_only_by``): batching ``1 - h ** 2`` while a weight gradient's product still
        reads ``h`` after the loop adds an array (the vector tanh RNN's gradient: 100 KB more
        XLA memory than JAX's, for no speed)."""
        seq_in = {i for i, _ in self.seqs}
        outer_seq = dict(self.seqs)
        cl = self.clients()
        summed = {_strip(e)[0] for k in range(len(self.states))  # summed after the loop instead
                  for e in (_accumulator_terms(self, k, cl) or ())}
        plain = [v for v in moved if v not in dotted and v not in summed]
        reads = {v: seq_in.intersection(ancestors([v])) for v in plain}
        while plain:
            stop = {v for v in moved if v in dotted} | set(plain)
            reached, todo = set(), list(self.outputs())
            while todo:
                u = todo.pop()
                if u in reached or u in stop:
                    continue
                reached.add(u)
                if u.owner is not None:
                    todo.extend(u.owner.inputs)
            still = [v for v in plain if reads[v] & reached]
            freed = {i for i in set().union(*(reads[v] for v in plain)) - reached
                     if _read_only_by(fgraph, outer_seq[i], self.node)}
            if not still and len(plain) <= len(freed):
                break
            plain = [v for v in plain if v not in still] if still else []
        return [v for v in moved if v in dotted or v in summed or v in plain]

    # ---------------------------------------------------------------- rebuilding
    def build(self, extra_nits: list[Variable] = ()) -> tuple[dict, Callable[[Variable], Variable]]:
        """Apply the edited loop (plus ``extra_nits`` as new per-step outputs).

        Returns ``(old outer output -> new one, rows)`` where ``rows(v)`` is the outer
        variable holding, one row per step, an inner value the new loop stores (a
        sequence slice, a state tap or new value, a per-step output).
        """
        op, n = self.op, self.n_steps
        outs = self.outputs()
        nr, nn = len(self.states), len(self.nits)
        outs = outs[: nr + nn] + list(extra_nits) + outs[nr + nn:]
        new_outs = clone_replace(outs, self.repl) if self.repl else list(outs)
        used = set(ancestors(new_outs))
        seqs = [(i, o) for i, o in self.seqs if i in used]
        nonseqs = [(i, o) for i, o in self.nonseqs if i in used]
        res: list[Variable] = []
        if new_outs:
            inner_in = [i for i, _ in seqs] + [t for s in self.states for t in s[0]] + [i for i, _ in nonseqs]
            fg = FunctionGraph(inner_in, new_outs, clone=True)
            same_outputs = (nr, nn + len(extra_nits)) == (op.n_rec, op.n_nit)  # else store_steps is () here
            new_op = type(op)(fg, n_seqs=len(seqs), rec_taps=[s[2] for s in self.states],
                              n_nit=nn + len(extra_nits), as_while=op.as_while, reverse=op.reverse,
                              truncate_gradient=op.truncate_gradient, name=op.name, mode=op.mode,
                              store_steps=op.store_steps if same_outputs else ())
            res = new_op(n, *([o for _, o in seqs] + [s[1] for s in self.states] + [o for _, o in nonseqs]))
            res = res if isinstance(res, list) else [res]
        mapping = {s[4]: res[k] for k, s in enumerate(self.states)}
        mapping.update({old: res[nr + j] for j, (_, old) in enumerate(self.nits)})
        table: dict[Variable, Variable] = {i: s[:n] for i, s in self.seqs}
        for k, (taps, _, tap_list, out, _) in enumerate(self.states):
            L = -min(tap_list)
            for v, tap in zip(taps, tap_list):
                table[v] = res[k][-tap: n - tap] if op.reverse else res[k][L + tap: L + tap + n]
            table[out] = res[k][:n] if op.reverse else res[k][L: L + n]
        for j, v in enumerate([v for v, _ in self.nits] + list(extra_nits)):
            table.setdefault(v, res[nr + j])
        return mapping, lambda v: _rows_type(table[v], v)

    def stored(self, v: Variable) -> bool:
        """Whether ``v`` is a sequence slice or a state's tap or new value (``rows`` has it)."""
        return any(v is i for i, _ in self.seqs) or any(v is s[3] or v in s[0] for s in self.states)


def _read_only_by(fgraph: FunctionGraph, seq: Variable, node: Apply) -> bool:
    """Whether the array behind the outer sequence ``seq`` (under slices, DimShuffles, reshapes)
    is read by ``node`` alone, so that a loop no longer reading it frees it.  A graph input, or
    an array something else reads (the ``h`` a weight gradient's product reads after the loop),
    stays allocated whatever the loop reads."""
    from thx.tensor.shape import Rebroadcast, Reshape, SpecifyShape
    views = (Subtensor, DimShuffle, Rebroadcast, Reshape, SpecifyShape)
    while seq.owner is not None and isinstance(seq.owner.op, views):
        seq = seq.owner.inputs[0]
    if seq.owner is None:
        return False
    todo = [seq]
    while todo:
        for c, _ in fgraph.clients.get(todo.pop(), ()):
            if c is node:
                continue
            if c == "output" or not isinstance(c.op, views):
                return False
            todo.extend(c.outputs)
    return True


def _strip(v: Variable) -> tuple[Variable, list[Apply]]:
    """``v`` without the DimShuffles on top: ``(core, the DimShuffle nodes, outermost first)``."""
    chain = []
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        chain.append(v.owner)
        v = v.owner.inputs[0]
    return v, chain


def _redo_dimshuffles(rows: Variable, chain: list[Apply]) -> Variable:
    for n in reversed(chain):
        rows = _rows_type(_batched_node(n, [rows], [True]), n.outputs[0])
    return rows


def _after_loop_leaves(loop: "_Loop", v: Variable, kept: list[Variable],
                       recurrence: set = frozenset()) -> tuple[list[Variable], bool]:
    """The per-step values from which ``v`` is computed by batchable nodes (elementwise,
    DimShuffle, a dot with a loop-invariant operand), and whether a dot is among them; the
    walk stops at values already ``kept`` per step and at those the ``recurrence`` computes
    anyway (recomputing them after the loop would repeat a product the step does)."""
    leaves: list[Variable] = []
    has_dot, todo, seen = False, [v], set()
    while todo:
        u = todo.pop()
        if u in seen or loop.is_invariant(u):
            continue
        seen.add(u)
        n = u.owner
        through = (n is not None and not loop.stored(u) and u not in kept and u not in recurrence
                   and len(n.outputs) == 1
                   and (isinstance(n.op, (Elemwise, DimShuffle, Sum))
                        or (isinstance(n.op, Dot) and sum(loop.is_invariant(i) for i in n.inputs) == 1
                            and all(i.ndim >= 1 for i in n.inputs))))
        if not through:
            leaves.append(u)
            continue
        has_dot = has_dot or isinstance(n.op, Dot)
        todo.extend(n.inputs)
    return leaves, has_dot


def _trace_reads(fgraph: FunctionGraph, loop: "_Loop", k: int) -> list | None:
    """How state ``k``'s outer trace is read, when only its final row, its initial rows and
    its shape are: ``[(outer variable, function of the final value -> its replacement)]``."""
    _, init, tap_list, _, trace = loop.states[k]
    reverse, L = loop.op.reverse, -min(tap_list)
    last, full = (0 if reverse else -1), ("slice", None, None, None)

    def index(client, i):  # the first index entry of a Subtensor reading only rows of its input
        op = client.op if client != "output" else None
        if (isinstance(op, Subtensor) and i == 0 and len(client.inputs) == 1
                and all(e == full for e in op.idx_list[1:])):
            return op.idx_list[0]
        return None

    found: list = []

    def read(var: Variable, skip: int) -> bool:  # var = trace[skip:]
        for client, i in fgraph.clients.get(var, {}):
            e = index(client, i)
            if e == (last if skip == 0 else -1):
                found.append((client.outputs[0], lambda fin: fin))
            elif (skip == 0 and not reverse and isinstance(e, tuple) and e[3] is None
                  and e[1:3] in [(s, None) for s in range(1, L + 1)]):
                if not read(client.outputs[0], e[1]):
                    return False
            elif (skip == 0 and not reverse and isinstance(e, tuple) and e[3] is None
                  and e[1:3] in [(None, s) for s in range(L + 1)]):
                found.append((client.outputs[0], lambda fin, c=e[2]: init[:c]))
            elif (client != "output" and isinstance(client.op, Elemwise) and client.op.scalar_op.name == "second"
                  and i == 0 and client.inputs[1] is not var):  # fill(trace, v): only its shape is read
                shape = [loop.n_steps + (L - skip)] + [init.shape[d] for d in range(1, init.ndim)]
                found.append((client.outputs[0], lambda fin, v=client.inputs[1], shape=shape: T.alloc(v, *shape)))
            else:
                return False
        return True

    if not read(trace, 0):
        return None
    return found or None


def _is_length_of(n: Variable, seq: Variable) -> bool:
    """Whether ``n`` is ``seq.shape[0]`` as the graph says it."""
    node = n.owner
    if node is None or not isinstance(node.op, Subtensor) or node.op.idx_list != (0,):
        return False
    shp = node.inputs[0].owner
    return shp is not None and isinstance(shp.op, Shape) and shp.inputs[0] is seq


def _accumulator_terms(loop: _Loop, k: int, cl: dict) -> list[Variable] | None:
    """``[e1, e2, ...]`` when state ``k`` is ``acc_t = acc + e1 + e2 ...`` and only this reads ``acc``."""
    taps, _, tap_list, out, _ = loop.states[k]
    node = out.owner
    if (tap_list != (-1,) or node is None or not isinstance(node.op, Elemwise)
            or node.op.scalar_op.name != "add" or cl.get(out) != ["output"]):
        return None
    acc = taps[0]
    if cl.get(acc) != [node] or list(node.inputs).count(acc) != 1:
        return None
    return [i for i in node.inputs if i is not acc]


def _per_step_gemm(d: Apply) -> bool:
    """Is the Dot ``d`` a matrix product contracting an axis that is not broadcastable?

    Such a term of an accumulation (``acc + dot(x_t.T, delta_t)``, a batched state's weight
    gradient) stays in the loop: it is one GEMM per step there, about as fast as the product
    of the stacked rows after the loop (measured on the batched RNN matrix: 5-20% slower),
    which would store both factors at every step and copy shifted rows for taps (30-50% more
    memory than ``jax.grad``'s loop, which accumulates).  An outer product (a vector state's
    ``outer(delta_t, h_t)``, contracting a broadcastable axis) is moved: per step it is a
    rank-1 update of the whole accumulator, several times slower than one product after."""
    a, b = d.inputs
    return a.ndim == 2 and b.ndim == 2 and not (a.broadcastable[1] and b.broadcastable[0])


_SCAN = dict(phase="specialize", tags=("scan", "scan_pushout"))


@local_rewrite(Scan, **_SCAN)
def local_scan_pushout_nonseqs(fgraph: FunctionGraph, node: Apply):
    # f(W) in the step -> f(W) computed once before the loop, a new non-sequence
    if node.op.is_map():  # jax.vmap batches a map's step already (thx/lowering/scan.py)
        return None
    loop = _Loop(node)
    return loop.build()[0] if loop.push_invariants() else None


@local_rewrite(Scan, **_SCAN)
def local_scan_pushout_seqs(fgraph: FunctionGraph, node: Apply):
    # f(x_t, W) in the step -> f(X, W) batched before the loop, a new sequence
    if node.op.is_map():
        return None
    loop = _Loop(node)
    return loop.build()[0] if loop.push_sequence_work(fgraph) else None


@local_rewrite(Scan, **_SCAN)
def local_scan_pushout_outputs(fgraph: FunctionGraph, node: Apply):
    # acc_t = acc + outer(a_t, b_t) -> acc0 + tensordot(A, B) after; out_t = dot(W, v_t) -> dot after
    if node.op.as_while or node.op.store_steps or node.op.is_map():  # rows known only after the loop;
        return None  # traces cut short; a map is batched by jax.vmap
    loop = _Loop(node)
    cl = loop.clients()
    extra: list[Variable] = []
    plans = []  # (kind, data) computed after the new loop exists

    def need(v: Variable) -> tuple[Variable, list[Apply]]:
        core, chain = _strip(v)
        if not loop.stored(core) and core not in extra and not loop.is_invariant(core):
            extra.append(core)
        return core, chain

    drop_states = set()
    # twice: a sum's per-step term may be what a product pushed out in the first pass stores
    for k, (_, init, _, _, trace) in list(enumerate(loop.states)) * 2:
        if k in drop_states:
            continue
        terms = _accumulator_terms(loop, k, cl)
        finals = None if terms is None else _trace_reads(fgraph, loop, k)
        if finals is None or any(loop.is_invariant(_strip(e)[0]) for e in terms):
            continue
        parts = []
        gemm = False
        for e in terms:
            d = e.owner
            if d is not None and isinstance(d.op, Dot) and all(not loop.is_invariant(_strip(i)[0])
                                                                for i in d.inputs):
                parts.append(("dot", [_strip(i) for i in d.inputs]))
                gemm = gemm or _per_step_gemm(d)
            else:
                parts.append(("sum", [_strip(e)]))
        if gemm:
            continue
        # a per-step term as large as the accumulator would be stored at every step: only
        # smaller ones (broadcast rows) and values stored anyway (sequences) are summed after
        if any(how == "sum" and not loop.stored(fc[0][0]) and fc[0][0] not in extra
               and fc[0][0].ndim >= loop.states[k][3].ndim for how, fc in parts):
            continue
        for how, fcs in parts:
            for fc in fcs:
                need(fc[0])
        plans.append(("acc", (init, finals, parts, loop.states[k][3])))
        drop_states.add(k)
    keep_nits = []
    recurrence = set(ancestors([s[3] for k, s in enumerate(loop.states) if k not in drop_states]))
    for v, old in loop.nits:
        leaves, has_dot = _after_loop_leaves(loop, v, extra, recurrence)
        # stored per step instead of v: only worth it for a dot, and if no value is larger than v;
        # a v that is only a stored value is read from where it is stored
        if loop.stored(_strip(v)[0]) or (has_dot and all(u.ndim <= v.ndim for u in leaves)):
            for u in leaves:
                need(u)
            plans.append(("nit", (old, v, leaves)))
        else:
            keep_nits.append((v, old))
    if not plans or (not extra and not keep_nits and len(drop_states) == len(loop.states)
                     and not all(_is_length_of(loop.n_steps, o) for _, o in loop.seqs)):
        return None  # the loop would vanish, and with it the check that its sequences are long enough
    loop.states = [s for k, s in enumerate(loop.states) if k not in drop_states]
    loop.nits = keep_nits
    mapping, rows = loop.build(extra)

    def factor(fc):
        core, chain = fc
        base = loop.outer_invariant(core) if loop.is_invariant(core) else rows(core)
        return _redo_dimshuffles(base, chain)

    for kind, data in plans:
        if kind == "acc":
            init, finals, parts, out = data
            total = init[0]
            for how, fcs in parts:
                if how == "dot":
                    a, b = (factor(fc) for fc in fcs)
                    total = total + _sum_of_dots(a, b)
                else:
                    total = total + factor(fcs[0]).sum(axis=0)
            total = T.cast(total, out.dtype) if total.dtype != out.dtype else total
            mapping.update({v: replace(total) for v, replace in finals})
        else:
            old, v, leaves = data
            mapping[old] = _batch([v], {u: factor((u, [])) for u in leaves}, loop.outer_invariant)[0]
    return mapping
