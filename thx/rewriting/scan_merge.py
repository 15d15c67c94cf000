"""Scan rewrite: two independent scans over the same steps become one (Theano's ``ScanMerge``).

A forward pass that builds several outputs as separate scans over the same
sequence runs several loops; merged, one loop computes them all, reading each
shared sequence or non-sequence once (equal step computations then merge
inside the step).  Two Scan nodes merge when their ``n_steps`` are proven equal
(the same variable, or the same value by ``thx.rewriting.steps_form``:
``X.shape[0]`` and ``minimum(X.shape[0], X.shape[0])``, the lengths of
``X[1:]`` and ``X[:-1]``), run in the same direction, have no stop condition, neither reads
the other's outputs, and both are maps or both recurrent (merging a map into
a recurrent loop would lose its ``jax.vmap`` lowering).
"""

from __future__ import annotations

from thx.graph.basic import Variable, ancestors, clone, clone_replace
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import local_rewrite
from thx.rewriting.steps_form import same_steps
from thx.scan.op import Scan
from thx.tensor.subtensor import Subtensor


@local_rewrite(Scan, phase="specialize", tags=("scan",))
def local_scan_merge(fgraph, node):  # scan_a(n, xs), scan_b(n, xs) -> scan_ab(n, xs)
    if not _mergeable(node.op):
        return None
    candidates = [other for other in _neighbours(fgraph, node)
                  if _mergeable(other.op) and _compatible(node.op, other.op)
                  and same_steps(node.inputs[0], other.inputs[0])]
    if not candidates:
        return None
    related = _upstream(node) | _downstream(fgraph, node)  # one walk each, for all candidates
    for other in candidates:
        if other not in related:
            return _merge(node, other)
    return None


def _neighbours(fgraph, node) -> list:
    """The other Scan nodes that take the same ``n_steps`` variable, or read one of ``node``'s
    inputs or the array one of them slices (two scans over ``X`` and ``X[1:]``)."""
    sources = [node.inputs[0]]
    for v in node.inputs[1:]:
        sources.append(v)
        if v.owner is not None and type(v.owner.op) is Subtensor:
            sources.append(v.owner.inputs[0])
    found: dict = {}
    for v in sources:
        for client, _ in fgraph.clients.get(v, ()):
            if client == "output":
                continue
            readers = [client]
            if type(client.op) is Subtensor and client.inputs[0] is v:
                readers = [c for c, _ in fgraph.clients.get(client.outputs[0], ()) if c != "output"]
            for r in readers:
                if r is not node and type(r.op) is Scan:
                    found[r] = None
    return list(found)


def _mergeable(op) -> bool:
    return type(op) is Scan and not op.as_while


def _compatible(a: Scan, b: Scan) -> bool:
    return (a.reverse == b.reverse and a.truncate_gradient == b.truncate_gradient
            and a.mode == b.mode and a.is_map() == b.is_map())


def _upstream(node) -> set:
    """The nodes ``node`` depends on."""
    return {v.owner for v in ancestors(node.inputs) if v.owner is not None}


def _downstream(fgraph, node) -> set:
    """The nodes that depend on ``node``'s outputs."""
    seen: set = set()
    stack = list(node.outputs)
    while stack:
        for client, _ in fgraph.clients.get(stack.pop(), ()):
            if client != "output" and client not in seen:
                seen.add(client)
                stack.extend(client.outputs)
    return seen


def _merge(a, b) -> dict[Variable, Variable]:
    """The merged node's outputs replacing ``a``'s and ``b``'s (layout: ``a`` first in each
    group: sequences, states, non-sequences; states, nit outputs)."""
    oa, ob = a.op, b.op
    b_in, b_out = clone(ob.fgraph.inputs, ob.fgraph.outputs)  # b's step may be a's very graph
    inner_of = dict(zip(ob.fgraph.inputs, b_in))
    _, sa, ia, na = oa.split_outer_inputs(a.inputs)
    _, sb, ib, nb = ob.split_outer_inputs(b.inputs)
    same: dict[Variable, Variable] = {}  # b's inner variable -> a's, for an outer one both read
    seqs, seq_in = list(sa), list(oa.inner_seqs())
    for inner, outer in zip(ob.inner_seqs(), sb):
        _add(inner_of[inner], outer, seqs, seq_in, same)
    nons, ns_in = list(na), list(oa.inner_nonseqs())
    for inner, outer in zip(ob.inner_nonseqs(), nb):
        _add(inner_of[inner], outer, nons, ns_in, same)
    taps = ([v for k in range(oa.n_rec) for v in oa.inner_taps(k)]
            + [inner_of[v] for k in range(ob.n_rec) for v in ob.inner_taps(k)])
    fa, ra, rb = oa.fgraph.outputs, oa.n_rec, ob.n_rec
    if same:
        b_out = clone_replace(b_out, same)
    outs = fa[:ra] + b_out[:rb] + fa[ra:] + b_out[rb:]
    name = oa.name if oa.name == ob.name else f"{oa.name}&{ob.name}"
    store = ([oa.stored(k) for k in range(ra)] + [ob.stored(k) for k in range(rb)]
             + [oa.stored(ra + j) for j in range(oa.n_nit)] + [ob.stored(rb + j) for j in range(ob.n_nit)])
    op = oa.clone_with(fgraph=FunctionGraph(seq_in + taps + ns_in, outs, clone=True), n_seqs=len(seqs),
                       rec_taps=oa.rec_taps + ob.rec_taps, n_nit=oa.n_nit + ob.n_nit, name=name,
                       store_steps=store)
    new = op(a.inputs[0], *seqs, *ia, *ib, *nons)
    new = new if isinstance(new, list) else [new]
    old = a.outputs[:ra] + b.outputs[:rb] + a.outputs[ra:] + b.outputs[rb:]
    return dict(zip(old, new))


def _add(inner: Variable, outer: Variable, outers: list, inners: list, same: dict) -> None:
    """Append a (inner, outer) input of the second scan, or map it onto the first's copy."""
    for o, i in zip(outers, inners):
        if o is outer and i.type == inner.type:
            same[inner] = i
            return
    outers.append(outer)
    inners.append(inner)
