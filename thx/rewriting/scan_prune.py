"""Scan rewrite: drop the outputs nobody reads, then the inputs the remaining step does not use.

``T.grad(cost, [W, U])`` through a scan over ``X`` builds a backward scan that
also returns the gradient of ``X`` (Theano's ``L_op`` differentiates every
input); nothing reads it, yet without this rewrite the loop would compute and
stack it at every step.  Like Theano's ``remove_constants_and_unused_inputs_scan``
and its output pruning, a Scan node is rebuilt with

* only the nit outputs somebody reads, and the recurrent states somebody reads
  or that a kept output (or the stop condition) depends on, through any
  number of steps;
* only the sequences and non-sequences the kept outputs use; an outer
  variable given twice (as two sequences or two non-sequences) is passed once.
"""

from __future__ import annotations

from thx.graph.basic import Variable, ancestors, clone_replace
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import local_rewrite
from thx.scan.op import Scan


@local_rewrite(Scan, phase="specialize", tags=("scan",))
def local_scan_prune(fgraph, node):  # scan(...) -> scan(...) without unread outputs or unused inputs
    op = node.op
    nr, nn, fg = op.n_rec, op.n_nit, op.fgraph
    read = [bool(fgraph.clients.get(o)) for o in node.outputs]
    keep_rec = _needed_states(op, [k for k in range(nr) if read[k]],
                              [fg.outputs[nr + j] for j in range(nn) if read[nr + j]])
    keep_nit = [j for j in range(nn) if read[nr + j]]
    outs = ([fg.outputs[k] for k in keep_rec] + [fg.outputs[nr + j] for j in keep_nit]
            + ([fg.outputs[-1]] if op.as_while else []))
    used = set(ancestors(outs))
    _, seqs, inits, nonseqs = op.split_outer_inputs(node.inputs)
    seq_pairs, seq_dups = _distinct_used(list(zip(op.inner_seqs(), seqs)), used)
    ns_pairs, ns_dups = _distinct_used(list(zip(op.inner_nonseqs(), nonseqs)), used)
    if (len(keep_rec) == nr and len(keep_nit) == nn and len(seq_pairs) == op.n_seqs
            and len(ns_pairs) == op.n_nonseqs):
        return None
    taps = [v for k in keep_rec for v in op.inner_taps(k)]
    inner_in = [i for i, _ in seq_pairs] + taps + [i for i, _ in ns_pairs]
    dups = {**seq_dups, **ns_dups}
    if dups:
        outs = clone_replace(outs, dups)
    new_op = op.clone_with(fgraph=FunctionGraph(inner_in, outs, clone=True), n_seqs=len(seq_pairs),
                           rec_taps=[op.rec_taps[k] for k in keep_rec], n_nit=len(keep_nit),
                           store_steps=[op.stored(k) for k in keep_rec]
                           + [op.stored(nr + j) for j in keep_nit])
    new = new_op(node.inputs[0], *[o for _, o in seq_pairs], *[inits[k] for k in keep_rec],
                 *[o for _, o in ns_pairs])
    new = new if isinstance(new, list) else [new]
    old = [node.outputs[k] for k in keep_rec] + [node.outputs[nr + j] for j in keep_nit]
    return dict(zip(old, new))


def _needed_states(op: Scan, read: list[int], roots: list[Variable]) -> list[int]:
    """The recurrent states to keep: those in ``read`` and those the kept outputs (``roots``, the
    read states' step outputs, the stop condition) depend on, closed over the recurrence."""
    fg = op.fgraph
    tap_state = {v: k for k in range(op.n_rec) for v in op.inner_taps(k)}
    keep = set(read)
    todo = list(roots) + [fg.outputs[k] for k in read]
    if op.as_while:
        todo.append(fg.outputs[-1])
    while todo:
        new = {tap_state[v] for v in ancestors(todo) if v in tap_state} - keep
        keep |= new
        todo = [fg.outputs[k] for k in new]
    return sorted(keep)


def _distinct_used(pairs: list[tuple[Variable, Variable]], used: set) -> tuple[list, dict]:
    """The (inner, outer) pairs whose inner variable is used, one per outer variable; and
    ``{inner variable dropped as a duplicate: the inner variable kept for its outer one}``."""
    kept: dict[Variable, Variable] = {}
    dups: dict[Variable, Variable] = {}
    out = []
    for inner, outer in pairs:
        if inner not in used:
            continue
        first = kept.get(outer)
        if first is not None and first.type == inner.type:
            dups[inner] = first
            continue
        kept[outer] = inner
        out.append((inner, outer))
    return out, dups
