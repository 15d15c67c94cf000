"""Scan rewrite: recurrent states that carry the same values become one state.

A scan gradient stores forward residuals through an augmented copy of the
forward scan (``thx/scan/residuals.py``); once ``local_scan_merge`` has
merged the two loops, each recurrent state is carried twice.  Two states are
the same when they start from equal outer buffers with the same taps and
their steps compute the same value once the second state's taps read the
first's (checked on the hash-consed step, for all candidate pairs at once: an
LSTM's ``h`` and ``c`` are equal only together).  The duplicate is dropped,
its outer trace replaced by the kept state's (its last rows, when the
save-memory rewrite had kept fewer of the duplicate's), and the step keeps
one copy of the shared work.  Per-step outputs that are the same value (two
gradients of one scan store the same residuals) are returned once.
"""

from __future__ import annotations

from thx.graph.basic import clone_replace
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import local_rewrite
from thx.scan.op import Scan
from thx.scan.residuals import merge_equal_nodes


@local_rewrite(Scan, phase="specialize", tags=("scan",))
def local_scan_dedupe_states(fgraph, node):  # scan(h0 -> h, h0 -> h') with h == h' -> scan(h0 -> h)
    op = node.op
    if op.n_rec < 2 and op.n_nit < 2:
        return None
    _, seqs, inits, nonseqs = op.split_outer_inputs(node.inputs)
    fg, nr = op.fgraph, op.n_rec
    first: dict = {}
    same: dict[int, int] = {}  # duplicate state -> the state it repeats
    start = merge_equal_nodes(inits)  # equal buffers built twice (before the outer graph's merge) are one
    for k in range(nr):
        key = (start[k], op.rec_taps[k], fg.outputs[k].type)
        if key in first:
            same[k] = first[key]
        else:
            first[key] = k
    while same:
        taps = {v: w for k, j in same.items() for v, w in zip(op.inner_taps(k), op.inner_taps(j))}
        outs = merge_equal_nodes(clone_replace(fg.outputs, taps))
        bad = [k for k, j in same.items() if outs[k] is not outs[j]]
        if not bad:
            break
        for k in bad:
            del same[k]
    if not same:
        outs = merge_equal_nodes(fg.outputs)
    twin: dict[int, int] = {}  # duplicate nit output -> the one it repeats (two gradients' residuals)
    seen: dict = {}
    for j in range(op.n_nit):
        i = seen.setdefault(outs[nr + j], j)
        if i != j and op.stored(nr + i) == op.stored(nr + j):
            twin[j] = i
    if not same and not twin:
        return None
    keep = [k for k in range(nr) if k not in same]
    keep_nit = [j for j in range(op.n_nit) if j not in twin]
    # a kept state stores what the most demanding of its copies stored (0: every row)
    stored = {k: op.stored(k) for k in keep}
    for k, j in same.items():
        stored[j] = 0 if 0 in (stored[j], op.stored(k)) else max(stored[j], op.stored(k))
    inner = (list(op.inner_seqs()) + [v for k in keep for v in op.inner_taps(k)]
             + list(op.inner_nonseqs()))
    new_outs = [outs[k] for k in keep] + [outs[nr + j] for j in keep_nit] + outs[nr + op.n_nit:]
    new_op = op.clone_with(fgraph=FunctionGraph(inner, new_outs, clone=True),
                           rec_taps=[op.rec_taps[k] for k in keep], n_nit=len(keep_nit),
                           store_steps=[stored[k] for k in keep] + [op.stored(nr + j) for j in keep_nit])
    new = new_op(node.inputs[0], *seqs, *[inits[k] for k in keep], *nonseqs)
    new = new if isinstance(new, list) else [new]
    by_state = dict(zip(keep, new))
    repl = {}
    for k in range(nr):
        j = same.get(k, k)
        s = op.stored(k)
        # a copy that stored fewer rows reads the last ones (the first ones in reverse)
        repl[node.outputs[k]] = (by_state[j] if s == stored[j]
                                 else by_state[j][:s] if op.reverse else by_state[j][-s:])
    by_nit = dict(zip(keep_nit, new[len(keep):]))
    repl.update({node.outputs[nr + j]: by_nit[twin.get(j, j)] for j in range(op.n_nit)})
    return repl
