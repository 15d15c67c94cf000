"""The op rules of shape buckets (``thx/compile/buckets.py``): one function per op type.

A rule gets the rewriter and an original node one of whose inputs carries a
padded axis or a length-derived value.  It emits the node's rewritten outputs
with their labels (``r.emit``), or raises ``_Poison`` naming the length
classes whose padding it cannot prove harmless, or ``_Merge`` when two classes
must have the same length.  An op without a rule poisons what it touches.
"""

from __future__ import annotations

import numpy as np

from thx.graph.basic import Constant, Variable
from thx.tensor.printing import Print


class _Poison(Exception):
    def __init__(self, classes, where: str | None = None) -> None:
        super().__init__()
        self.classes = set(classes)
        self.where = where


class _Merge(Exception):
    def __init__(self, a, b) -> None:
        super().__init__()
        self.a, self.b = a, b


def _T():
    import thx.tensor as T
    return T


# -------------------------------------------------------------------- op rules

_HANDLERS: dict = {}


def _rule(*names):
    def deco(f):
        for n in names:
            _HANDLERS[n] = f
        return f
    return deco


@_rule("Shape")
def _shape(r, node) -> None:
    (x,) = node.inputs
    out = node.outputs[0]
    labs = r.labels(x)
    padded = node.op.make_node(r.N(x)).outputs[0]
    if not any(labs):
        r.emit(node, [padded])
        return
    T = _T()
    true = T.stack([T.cast(e[1], "int64") if e is not None else padded[a] for a, e in enumerate(labs)])
    r.emit(node, [true])
    r.pad[out] = padded
    r.vec[out] = labs
    r.dep[out] = {e[0] for e in labs if e is not None}


@_rule("MakeVector")
def _make_vector(r, node) -> None:
    if any(i in r.vec or any(r.labels(i)) for i in node.inputs):
        r.poison(*node.inputs)
    out = node.outputs[0]
    r.emit(node, node.op.make_node(*[r.N(i) for i in node.inputs]).outputs)
    r.pad[out] = node.op.make_node(*[r.P(i) for i in node.inputs]).outputs[0]
    entries = []
    for i in node.inputs:
        cs = r.dep.get(i)
        if cs and len(cs) > 1:  # a product of two padded lengths: keep the first class (the leading axis
            raise _Poison(sorted(cs)[1:])  # of a reshape, e.g. the steps of (T*B, k)) and try again
        entries.append((next(iter(cs)), r.N(i)) if cs else None)
    r.vec[out] = tuple(entries)
    r.dep[out] = set().union(*[r.dep.get(i, set()) for i in node.inputs])


def _index_parts(entries, inputs):
    """Each entry of an idx_list with the input variables it reads."""
    it = iter(inputs)
    out = []
    for e in entries:
        if isinstance(e, tuple):
            out.append((e, [next(it) if p == "?" else p for p in e[1:]]))
        elif e == "?" or e == "a":
            out.append((e, next(it)))
        else:
            out.append((e, e))
    return out


def _rewrite_index(r, x, entries, idx_inputs):
    """(new entries, new index inputs, labels of the indexed region's axes) for ``x[...]``."""
    labs = r.labels(x)
    new_entries, new_inputs, region = [], [], []
    d = 0
    for e, val in _index_parts(entries, idx_inputs):
        if e is None:
            new_entries.append(None)
            region.append(None)
            continue
        lab = labs[d] if d < len(labs) else None
        if isinstance(e, tuple):
            start, stop, step = val
            if lab is None:
                if any(isinstance(p, Variable) and (p in r.dep) for p in val):
                    r.poison(*[p for p in val if isinstance(p, Variable)])
                new_entries.append(e)
                new_inputs += [r.N(p) for p in val if isinstance(p, Variable)]
                region.append(None)
            else:
                c, true_len = lab
                if (isinstance(step, Variable) or step not in (None, 1)
                        or isinstance(start, Variable) or (start or 0) < 0):
                    raise _Poison({c})
                lo = start or 0
                if stop is None:
                    region.append((c, r.sub(true_len, lo)))
                elif isinstance(stop, Variable):
                    if stop not in r.dep:
                        raise _Poison({c})
                    new_inputs.append(r.P(stop))
                    region.append((c, r.sub(_T().cast(r.N(stop), "int64"), lo)))
                elif stop < 0:
                    region.append((c, r.sub(true_len, lo - stop)))
                else:
                    region.append(None)  # a fixed-size prefix
                new_entries.append(e)
            d += 1
            continue
        if e == "a":
            r.poison(x, val)
        if e == "?":
            if lab is not None and val not in r.dep:  # padding would hide an out-of-range index
                raise _Poison({lab[0]})
            new_entries.append("?")
            new_inputs.append(r.N(val))  # an index value: the true one
        elif lab is not None and e < 0:
            new_entries.append("?")  # count from the true end
            new_inputs.append(r.sub(lab[1], -e))
        else:
            new_entries.append(e)
        d += 1
    region += list(labs[d:])
    return tuple(new_entries), new_inputs, region


@_rule("Subtensor")
def _subtensor(r, node) -> None:
    x, *idx = node.inputs
    out = node.outputs[0]
    e = node.op.idx_list
    if x in r.vec and len(e) == 1 and isinstance(e[0], int) and not idx:  # one entry of a shape
        entry = r.vec[x][e[0]]
        if entry is None:  # an axis that is not padded: its padded length is the true one
            r.emit(node, node.op.make_node(r.P(x)).outputs)
            return
        r.emit(node, node.op.make_node(r.N(x)).outputs)
        r.pad[out] = node.op.make_node(r.P(x)).outputs[0]
        r.dep[out] = {entry[0]}
        return
    if x in r.dep:  # shape arithmetic: the true value, and the padded one
        r.emit(node, node.op.make_node(r.N(x), *[r.N(i) for i in idx]).outputs)
        r.pad[out] = node.op.make_node(r.P(x), *[r.P(i) for i in idx]).outputs[0]
        r.dep[out] = set(r.dep[x]) | set().union(*[r.dep.get(i, set()) for i in idx])
        return
    rev = _reversal(r, x, node.op.idx_list, idx)
    if rev is not None:  # x[::-1] along a padded axis: the true rows reversed come first
        a, perm = rev
        r.emit(node, [r.N(x)[(slice(None),) * a + (perm,)]], [r.labels(x)])
        return
    tail = _tail(r, x, node.op.idx_list, idx)
    if tail is not None:  # x[-k:] along a padded axis: the last k true rows, gathered
        a, rows = tail
        labs = list(r.labels(x))
        labs[a] = None
        r.emit(node, [r.N(x)[(slice(None),) * a + (rows,)]], [labs])
        return
    entries, new_inputs, region = _rewrite_index(r, x, node.op.idx_list, idx)
    op = type(node.op)(entries)
    r.emit(node, op.make_node(r.N(x), *new_inputs).outputs, [region])


def _tail(r, x, entries, idx):
    """``(axis, row indices)`` when ``entries`` are ``[-k:]`` on one padded axis of ``x``."""
    full = ("slice", None, None, None)
    labs = r.labels(x)
    if idx or len(entries) > x.ndim or any(e is None for e in entries):
        return None
    tails = [a for a, e in enumerate(entries) if isinstance(e, tuple) and isinstance(e[1], int)
             and e[1] < 0 and e[2] is None and e[3] in (None, 1)]
    if len(tails) != 1 or labs[tails[0]] is None or any(e != full for a, e in enumerate(entries)
                                                        if a != tails[0]):
        return None
    a = tails[0]
    k = -entries[a][1]
    r.require(labs[a][0], k)  # fewer than k true rows: x[-k:] is shorter than k
    return a, labs[a][1] - np.int64(k) + _T().arange(k)


def _reversal(r, x, entries, idx):
    """``(axis, permutation)`` when ``entries`` only reverse one padded axis of ``x``."""
    full = ("slice", None, None, None)
    labs = r.labels(x)
    if idx or len(entries) > x.ndim or any(e is None for e in entries):
        return None
    revs = [a for a, e in enumerate(entries) if e == ("slice", None, None, -1)]
    if len(revs) != 1 or labs[revs[0]] is None or any(e != full for a, e in enumerate(entries)
                                                        if a != revs[0]):
        return None
    a = revs[0]
    T = _T()
    size = r.N(x).shape[a]
    # row i reads row n - 1 - i; the padding rows read the padding (a permutation)
    perm = (labs[a][1] - np.int64(1) - T.arange(size)) % size
    return a, perm


@_rule("IncSubtensor")
def _inc_subtensor(r, node) -> None:
    x, y, *idx = node.inputs
    if x in r.vec or y in r.dep:
        r.poison(x, y)
    rev = _reversal(r, x, node.op.idx_list, idx)
    if rev is not None:
        a, perm = rev
        ylabs = r.labels(y)
        off = x.ndim - y.ndim
        if y in r.vec or y in r.dep or y.ndim != x.ndim or ylabs[a] is None:
            r.poison(x, y)
        r.same(r.labels(x)[a], ylabs[a])
        view = r.N(x)[(slice(None),) * a + (perm,)]
        fn = T_set if node.op.set_instead_of_inc else T_inc
        r.emit(node, [fn(view, r.N(y))], [r.labels(x)])
        return
    entries, new_inputs, region = _rewrite_index(r, x, node.op.idx_list, idx)
    kept = [e for e in region]
    ylabs = r.labels(y)
    off = len(kept) - len(ylabs)
    for j, yl in enumerate(ylabs):
        rl = kept[off + j] if off + j >= 0 else None
        if yl is None and rl is not None and not y.broadcastable[j]:
            raise _Poison({rl[0]})
        if yl is not None and rl is None:
            raise _Poison({yl[0]})
        if yl is not None:
            r.same(rl, yl)
    op = type(node.op)(entries, node.op.set_instead_of_inc)
    r.emit(node, op.make_node(r.N(x), r.N(y), *new_inputs).outputs, [r.labels(x)])


def T_inc(view, y):
    return _T().inc_subtensor(view, y)


def T_set(view, y):
    return _T().set_subtensor(view, y)


@_rule("Elemwise")
def _elemwise(r, node) -> None:
    ins = node.inputs
    if not any(any(r.labels(i)) for i in ins):  # shape arithmetic
        outs = node.op.make_node(*[r.N(i) for i in ins]).outputs
        pads = node.op.make_node(*[r.P(i) for i in ins]).outputs
        r.emit(node, outs)
        cs = set().union(*[r.dep.get(i, set()) for i in ins])
        for o, p in zip(node.outputs, pads):
            r.pad[o] = p
            r.dep[o] = cs
        return
    nd = node.outputs[0].ndim
    out_labs = _broadcast_labels(r, ins, nd)
    r.emit(node, node.op.make_node(*[r.N(i) for i in ins]).outputs, [out_labs] * len(node.outputs))


def _broadcast_labels(r, ins, nd: int) -> list:
    """Per axis of ``ins`` broadcast together: the padded-length label they share (None if none);
    an input that is neither padded nor broadcastable on a padded axis poisons it."""
    labs = []
    for a in range(nd):
        found = [r.labels(i)[a] for i in ins if r.labels(i)[a] is not None]
        if found:
            for i in ins:
                if r.labels(i)[a] is None and not i.broadcastable[a]:
                    raise _Poison({found[0][0]})
            for f in found[1:]:
                r.same(found[0], f)
        labs.append(found[0] if found else None)
    return labs


@_rule("DimShuffle")
def _dimshuffle(r, node) -> None:
    (x,) = node.inputs
    out = node.outputs[0]
    r.emit(node, node.op.make_node(r.N(x)).outputs)
    if x in r.dep:
        r.pad[out] = node.op.make_node(r.P(x)).outputs[0]
        r.dep[out] = r.dep[x]
        return
    labs = r.labels(x)
    r.lab[out] = tuple(None if e == "x" else labs[e] for e in node.op.new_order)


@_rule("Rebroadcast")
def _rebroadcast(r, node) -> None:
    (x,) = node.inputs
    if x in r.vec or x in r.dep:
        r.poison(x)
    r.emit(node, node.op.make_node(r.N(x)).outputs, [r.labels(x)])


@_rule("Sum", "Prod", "CAReduce")
def _reduce(r, node) -> None:
    (x,) = node.inputs
    if x in r.vec or x in r.dep:
        r.poison(x)
    labs = r.labels(x)
    axes = node.op._axes(x.ndim)
    v = r.N(x)
    name = type(node.op).__name__
    for a in axes:
        if labs[a] is not None:
            if name not in ("Sum", "Prod"):
                raise _Poison({labs[a][0]})
            v = r.mask(v, a, labs[a][1], 0 if name == "Sum" else 1)
    kept = [labs[a] for a in range(x.ndim) if a not in axes]
    r.emit(node, node.op.make_node(v).outputs, [kept])


@_rule("Dot", "RowwiseDot")
def _dot(r, node) -> None:
    a, b = node.inputs
    if any(i in r.vec or i in r.dep for i in (a, b)):
        r.poison(a, b)
    la, lb = r.labels(a), r.labels(b)
    ka, kb = la[-1], lb[0]
    va, vb = r.N(a), r.N(b)
    if ka is not None or kb is not None:
        if ka is None or kb is None:
            raise _Poison({(ka or kb)[0]})
        r.same(ka, kb)
        va = r.mask(va, a.ndim - 1, ka[1])
        vb = r.mask(vb, 0, ka[1])
    r.emit(node, node.op.make_node(va, vb).outputs, [list(la[:-1]) + list(lb[1:])])


@_rule("Reshape")
def _reshape(r, node) -> None:
    x, shp = node.inputs
    labs = r.labels(x)
    entries = r.vec.get(shp)
    ok = (entries is not None and shp.owner is not None
          and type(shp.owner.op).__name__ in ("MakeVector", "Shape") and labs and labs[0] is not None and entries[0] is not None and not any(entries[1:]))
    if any(labs[1:]):  # only a leading padded axis keeps the true rows first
        raise _Poison({e[0] for e in labs[1:] if e is not None})
    if not ok:
        r.poison(x, shp)
    r.same(labs[0], entries[0])
    out_labs = [(labs[0][0], _T().cast(entries[0][1], "int64"))] + [None] * (node.outputs[0].ndim - 1)
    r.emit(node, node.op.make_node(r.N(x), r.P(shp)).outputs, [out_labs])


@_rule("Alloc")
def _alloc(r, node) -> None:
    value, *dims = node.inputs
    if value in r.vec or any(r.labels(value)) or any(d in r.vec for d in dims):
        r.poison(value, *dims)
    nd = node.outputs[0].ndim
    out_labs = [None] * nd
    for j, d in enumerate(dims):
        cs = r.dep.get(d)
        if cs:
            if len(cs) > 1:
                r.poison(d)
            out_labs[nd - len(dims) + j] = (next(iter(cs)), _T().cast(r.N(d), "int64"))
    r.emit(node, node.op.make_node(r.N(value), *[r.P(d) for d in dims]).outputs, [out_labs])


@_rule("ARange")
def _arange(r, node) -> None:
    start, stop, step = node.inputs
    cs = r.dep.get(stop)
    if (start in r.dep or step in r.dep or not cs or len(cs) > 1
            or not (isinstance(start, Constant) and int(start.data) == 0)
            or not (isinstance(step, Constant) and int(step.data) == 1)):
        r.poison(start, stop, step)
    r.emit(node, node.op.make_node(r.N(start), r.P(stop), r.N(step)).outputs,
           [[(next(iter(cs)), _T().cast(r.N(stop), "int64"))]])


@_rule("Join")
def _join(r, node) -> None:
    ins = node.inputs
    if any(i in r.vec or i in r.dep for i in ins):
        r.poison(*ins)
    nd = node.outputs[0].ndim
    axis = node.op.axis % nd
    out_labs = []
    first = r.N(ins[0])
    for a in range(nd):
        found = [r.labels(i)[a] for i in ins if r.labels(i)[a] is not None]
        if a == axis:
            if found:
                # rows, then zeros: with the first part's padding zeroed too, the true result
                # (true rows, then the true number of zeros) is a prefix of the padded one
                if not all(_zeros_alloc(i) for i in ins[1:]):
                    raise _Poison({found[0][0]})
                c = found[0][0]
                for f in found[1:]:
                    r.same(found[0], f)
                lab0 = r.labels(ins[0])[a]
                total = lab0[1] if lab0 is not None else r.N(ins[0]).shape[a]
                if lab0 is not None:
                    first = r.mask(first, a, lab0[1])
                for i in ins[1:]:
                    li = r.labels(i)[a]
                    total = total + (li[1] if li is not None else r.N(i).shape[a])
                out_labs.append((c, _T().cast(total, "int64")))
                continue
        elif found:
            for i in ins:
                if r.labels(i)[a] is None and not i.broadcastable[a]:
                    raise _Poison({found[0][0]})
            for f in found[1:]:
                r.same(found[0], f)
        out_labs.append(found[0] if found else None)
    r.emit(node, node.op.make_node(first, *[r.N(i) for i in ins[1:]]).outputs, [out_labs])


def _zeros_alloc(v) -> bool:
    """``v`` is an Alloc of the constant 0."""
    n = v.owner
    if n is None or type(n.op).__name__ != "Alloc":
        return False
    fill = n.inputs[0]
    return isinstance(fill, Constant) and np.all(np.asarray(fill.data) == 0)


@_rule("Softmax", "LogSoftmax")
def _last_axis(r, node) -> None:
    (x,) = node.inputs
    labs = r.labels(x)
    if x in r.vec or x in r.dep or labs[-1] is not None:
        r.poison(x)
    r.emit(node, node.op.make_node(r.N(x)).outputs, [labs])


@_rule("Scan")
def _scan(r, node) -> None:
    op = node.op
    n_steps, seqs, inits, nonseqs = op.split_outer_inputs(node.inputs)
    bad = [v for v in inits + nonseqs if v in r.vec or v in r.dep or any(r.labels(v))]
    if bad or op.as_while or n_steps in r.vec:
        r.poison(*(bad or node.inputs))
    seq_class = None
    for s in seqs:
        labs = r.labels(s)
        if any(labs[1:]):  # a padded axis inside each step
            raise _Poison({e[0] for e in labs[1:] if e is not None})
        if labs[0] is not None:
            if seq_class is not None:
                r.same(seq_class, labs[0])
            seq_class = labs[0]
    cs = r.dep.get(n_steps)
    if not cs:  # a fixed number of steps reads only true rows
        r.emit(node, op.make_node(r.N(n_steps), *[r.N(v) for v in node.inputs[1:]]).outputs)
        return
    c = next(iter(cs))
    if len(cs) > 1 or (seq_class is not None and seq_class[0] != c) or any(
            labs[0] is None for labs in map(r.labels, seqs)):
        r.poison(n_steps, *seqs)
    if op.reverse and any(lag > 1 for lag in op.lags):
        r.poison(n_steps)
    if _has_side_effects(op.fgraph):  # a Print in the step would also print the padded steps
        r.poison(n_steps, *seqs)
    # a state keeping its last rows (store_steps) holds them through the padded steps; more rows
    # than its taps, or a non-state's last rows, would include padding
    if any(op.stored(k) > (op.lags[k] if k < op.n_rec else 0) for k in range(len(node.outputs))):
        r.poison(n_steps, *seqs)
    from thx.scan.masked import MaskedScan
    T = _T()
    active = T.cast(r.N(n_steps), "int64")
    outs = MaskedScan(op).make_node(active, r.P(n_steps), *[r.N(v) for v in node.inputs[1:]]).outputs
    labels = []
    for k in range(op.n_rec):
        first = None if op.stored(k) else (c, active + np.int64(op.lags[k]))
        labels.append([first] + [None] * (node.outputs[k].ndim - 1))
    for j in range(op.n_nit):
        labels.append([(c, active)] + [None] * (node.outputs[op.n_rec + j].ndim - 1))
    r.emit(node, outs, labels)


def _has_side_effects(fgraph) -> bool:
    """True if a step's graph holds an op whose effect a padded step would repeat (``Print``),
    also inside nested scans."""
    stack = [fgraph]
    while stack:
        fg = stack.pop()
        for n in fg.apply_nodes:
            if isinstance(n.op, Print):
                return True
            inner = getattr(n.op, "inner_graph", None)
            if inner is not None:
                stack.append(inner)
    return False


@_rule("Flatten")
def _flatten(r, node) -> None:
    (x,) = node.inputs
    if x in r.vec or x in r.dep:
        r.poison(x)
    labs = r.labels(x)
    k = node.op.outdim - 1
    group = labs[k:]
    if any(group[1:]):  # a padded axis must lead the merged group to keep true rows first
        raise _Poison({e[0] for e in group[1:] if e is not None})
    out_labs = list(labs[:k])
    if group[0] is not None:
        c, true_len = group[0]
        v = r.N(x)
        for j in range(k + 1, x.ndim):
            true_len = true_len * v.shape[j]
        out_labs.append((c, true_len))
    else:
        out_labs.append(None)
    r.emit(node, node.op.make_node(r.N(x)).outputs, [out_labs])


def _gather_index(r, node, x, idx):
    """``x[i, j, ...]`` with integer arrays first and full slices after: the labels of the
    broadcast index arrays.  The index values of true rows are the unpadded ones, and padded
    rows hold copies of true indices (edge padding) or ``arange`` values: all in bounds."""
    entries = node.op.idx_list
    k = len(idx)
    ok = (k >= 1 and all(e == "a" for e in entries[:k])
          and all(e == ("slice", None, None, None) for e in entries[k:])
          and len({i.ndim for i in idx}) == 1)
    if not ok or x in r.vec or any(i in r.dep or i in r.vec for i in idx):
        r.poison(x, *idx)
    for a, i in enumerate(idx):  # padding an indexed axis would hide an out-of-range index,
        xl = r.labels(x)[a]        # unless the index is an arange (in range by construction)
        if xl is not None and not (i.owner is not None and type(i.owner.op).__name__ == "ARange"):
            raise _Poison({xl[0]})
    labs = _broadcast_labels(r, idx, idx[0].ndim)
    return labs, k


@_rule("AdvancedSubtensor")
def _advanced_subtensor(r, node) -> None:
    x, *idx = node.inputs
    labs, k = _gather_index(r, node, x, idx)
    out_labs = labs + list(r.labels(x)[k:])
    r.emit(node, node.op.make_node(r.N(x), *[r.N(i) for i in idx]).outputs, [out_labs])


@_rule("AdvancedIncSubtensor")
def _advanced_inc_subtensor(r, node) -> None:
    x, y, *idx = node.inputs
    ilabs, k = _gather_index(r, node, x, idx)
    if node.op.set_instead_of_inc and any(ilabs):
        r.poison(*idx)
    if y in r.vec or y in r.dep:
        r.poison(y)
    region = ilabs + list(r.labels(x)[k:])
    ylabs = r.labels(y)
    off = len(region) - len(ylabs)
    v = r.N(y)
    for j, yl in enumerate(ylabs):
        rl = region[off + j] if off + j >= 0 else None
        if yl is not None and rl is None:
            raise _Poison({yl[0]})
        if rl is not None:
            if yl is None and not y.broadcastable[j]:
                raise _Poison({rl[0]})
            if yl is not None:
                r.same(rl, yl)
            if off + j < len(ilabs):  # padded index rows add nothing
                v = r.mask(v, j, rl[1]) if not y.broadcastable[j] else v
    for i, il in enumerate(ilabs):  # a y broadcast along a padded index axis would be written
        j = i - off                 # at the padded indices too
        if il is not None and (j < 0 or y.broadcastable[j]):
            raise _Poison({il[0]})
    r.emit(node, node.op.make_node(r.N(x), v, *[r.N(i) for i in idx]).outputs, [r.labels(x)])


@_rule("Argmax", "Argmin")
def _argmax(r, node) -> None:
    (x,) = node.inputs
    labs = r.labels(x)
    axes = range(x.ndim) if node.op.axis is None else [node.op.axis % x.ndim]
    if x in r.vec or x in r.dep or any(labs[a] is not None for a in axes):
        r.poison(x)
    r.emit(node, node.op.make_node(r.N(x)).outputs, [[labs[a] for a in range(x.ndim) if a not in axes]])
