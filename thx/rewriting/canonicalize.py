"""Canonicalize: one normal form for arithmetic, so that merge and later rewrites see equal things equal.

* products: nested mul / true_div / neg flattened into ``c * a * b / (d * e)``,
  constants folded into one constant placed first, common factors cancelled;
* sums: nested add / sub / neg flattened into ``c + a + b - (d + e)``, the same way;
* fills (``second``) sunk out of elementwise ops and dropped once useless;
* DimShuffles lifted towards the inputs and merged; useless casts, reshapes,
  subtensors, rebroadcasts, allocs and gradient-only identity ops removed;
* ``x ** 0 -> 1`` and ``x ** 1 -> x``.

Shapes, reshapes and indexing are in ``shape.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thx.gradient import _ViewOp
from thx.graph.basic import Apply, Variable
from thx.rewriting.constants import const_value, scalar_value, tensor_constant
from thx.rewriting.engine import local_rewrite
from thx.rewriting.patterns import pattern
from thx.rewriting.utils import ALL_PHASES, CANON, apply_op, keep_shapes, n_clients, op_name
from thx.tensor import elemwise as E
from thx.tensor.basic import Alloc
from thx.tensor.elemwise import DimShuffle, Elemwise
from thx.tensor.type import upcast


# ------------------------------------------------------------------ fills, allocs, identities


@local_rewrite("second", phase=ALL_PHASES)
def local_useless_fill(fgraph, node):  # fill(a, b) -> b   (b already has the output's type)
    if node.inputs[1].type == node.outputs[0].type:
        return [node.inputs[1]]
    return None


@local_rewrite(Elemwise, phase=CANON)
def local_fill_sink(fgraph, node):  # f(fill(a, b), c) -> fill(a, f(b, c))
    if node.op.scalar_op.name == "second":
        return None
    models, ins = [], []
    for v in node.inputs:
        if op_name(v) == "second":
            models.append(v.owner.inputs[0])
            ins.append(v.owner.inputs[1])
        else:
            ins.append(v)
    if not models:
        return None
    return [keep_shapes(node.op(*ins), models)]


@local_rewrite(Alloc, phase=ALL_PHASES)
def local_useless_alloc(fgraph, node):  # alloc(x, *shape) -> x   (x already has the output's type)
    if node.inputs[0].type == node.outputs[0].type:
        return [node.inputs[0]]
    return None


pattern("local_useless_identity", ("identity", "x"), "x", phase=ALL_PHASES)  # identity(x) -> x


@local_rewrite(_ViewOp, phase=ALL_PHASES)
def local_remove_grad_ops(fgraph, node):  # consider_constant(x), zero_grad(x), grad_clip(x) ... -> x
    return [node.inputs[0]]


@local_rewrite("switch", phase=ALL_PHASES)
def local_useless_switch(fgraph, node):  # switch(1, a, b) -> a ; switch(c, a, a) -> a
    cond, a, b = node.inputs
    c = scalar_value(cond)
    if a is b:
        return [keep_shapes(a, [cond])]
    if c is None:
        return None
    return [keep_shapes(a if c else b, [cond, b if c else a])]


def _sink_into_switch(node, positions):
    """``op(.., switch(c, 0, a), ..) -> switch(c, 0, op(.., a, ..))`` (and the mirror case).

    Theano's switch sinks: the gradient of ``switch(x > 0, log(x), 0)`` holds
    ``switch(x > 0, g, 0) / x``, which is ``0 / 0`` at ``x = 0``; with the division
    inside the switch, the branch not taken is an exact 0 instead of a NaN.
    """
    for k in positions:
        v = node.inputs[k]
        if op_name(v) != "switch":
            continue
        cond, a, b = v.owner.inputs
        for zero_first, other in ((True, b), (False, a)):
            zero = a if zero_first else b
            if scalar_value(zero) != 0 or const_value(zero) is None:
                continue
            ins = list(node.inputs)
            ins[k] = other
            inner = node.op(*ins)
            out = E.switch(cond, zero, inner) if zero_first else E.switch(cond, inner, zero)
            old = node.outputs[0]
            if out.dtype != old.dtype:
                out = E.cast(out, old.dtype)
            if out.broadcastable != old.broadcastable:
                return None
            return [out]
    return None


@local_rewrite("mul", phase=CANON)
def local_mul_switch_sink(fgraph, node):  # mul(switch(c, 0, a), b) -> switch(c, 0, mul(a, b))
    return _sink_into_switch(node, range(len(node.inputs)))


@local_rewrite("true_div", phase=CANON)
def local_div_switch_sink(fgraph, node):  # switch(c, 0, a) / b -> switch(c, 0, a / b)
    return _sink_into_switch(node, [0])


# ------------------------------------------------------------------ casts


@local_rewrite("Cast", phase=ALL_PHASES)
def local_useless_cast(fgraph, node):  # Cast{float64}(x: float64) -> x
    if node.inputs[0].dtype == node.outputs[0].dtype:
        return [node.inputs[0]]
    return None


def _exact_cast(src: str, dst: str) -> bool:
    """Every value of dtype ``src`` is exactly representable in ``dst``."""
    s, d = np.dtype(src), np.dtype(dst)
    if s.kind in "iub" and d.kind == "f":
        return s.kind == "b" or s.itemsize < d.itemsize
    return upcast(src, dst) == dst


@local_rewrite("Cast", phase=CANON)
def local_cast_cast(fgraph, node):  # Cast{a}(Cast{b}(x)) -> Cast{a}(x)   (b holds every x exactly)
    inner = node.inputs[0]
    if op_name(inner) != "Cast":
        return None
    x = inner.owner.inputs[0]
    if not _exact_cast(x.dtype, inner.dtype):
        return None
    return [E.cast(x, node.outputs[0].dtype)]


# ------------------------------------------------------------------ DimShuffle


@local_rewrite(DimShuffle, phase=ALL_PHASES)
def local_useless_dimshuffle(fgraph, node):  # DimShuffle{0,1}(x) -> x
    if node.op.new_order == tuple(range(len(node.op.input_broadcastable))):
        return [node.inputs[0]]
    return None


@local_rewrite(DimShuffle, phase=ALL_PHASES)
def local_dimshuffle_merge(fgraph, node):  # DimShuffle{1,0}(DimShuffle{x,0}(v)) -> DimShuffle{0,x}(v)
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    order = ["x" if d == "x" else inner.op.new_order[d] for d in node.op.new_order]
    x = inner.inputs[0]
    if order == list(range(x.ndim)):
        return [x]
    return [DimShuffle(x.broadcastable, order)(x)]


@local_rewrite(DimShuffle, phase=CANON)
def local_dimshuffle_lift(fgraph, node):  # DimShuffle(f(x, y)) -> f(DimShuffle(x), DimShuffle(y))
    v = node.inputs[0]
    inner = v.owner
    if inner is None or not isinstance(inner.op, Elemwise) or n_clients(fgraph, v) != 1:
        return None
    order = node.op.new_order
    return [inner.op(*[DimShuffle(i.broadcastable, order)(i) for i in inner.inputs])]


# ------------------------------------------------------------------ powers


pattern("local_pow_zero", (E.pow, "x", 0), (E.second, "x", 1), phase=CANON)  # x ** 0 -> 1
pattern("local_pow_one", (E.pow, "x", 1), "x", phase=CANON)                  # x ** 1 -> x


# ------------------------------------------------------------------ products and sums
#
# A canonical form is described by a small spec: ("var", v) or (op name, [specs]).
# Comparing the spec with the node before building anything makes an
# already-canonical node cost one walk and no new nodes.


def _spec_of(name: str, vs: Sequence[Variable]) -> tuple | None:
    if not vs:
        return None
    return ("var", vs[0]) if len(vs) == 1 else (name, [("var", v) for v in vs])


def _spec_matches(v: Variable, spec: tuple) -> bool:
    if spec[0] == "var":
        return v is spec[1]
    n = v.owner
    return (n is not None and op_name(v) == spec[0] and len(n.inputs) == len(spec[1])
            and all(_spec_matches(i, s) for i, s in zip(n.inputs, spec[1])))


def _spec_build(spec: tuple) -> Variable:
    if spec[0] == "var":
        return spec[1]
    return apply_op(spec[0], *[_spec_build(s) for s in spec[1]])


def _retype_constant(spec: tuple, dtype: str, ndim: int) -> tuple:
    """A result that is a lone constant gets the dtype of the expression it replaces."""
    if spec[0] == "var" and spec[1].dtype != dtype:
        value = const_value(spec[1])
        if value is not None:
            return ("var", tensor_constant(np.asarray(value).astype(dtype), dtype, ndim))
    return spec


@dataclass(frozen=True)
class Family:
    """An operator family the canonicalizers flatten: ``combine`` (n-ary), its ``inverse``
    (binary) and ``neg``, which flips the sign (products) or moves a term to the other side (sums)."""

    combine: str
    inverse: str
    neg_flips_sign: bool

    @property
    def names(self) -> tuple[str, ...]:
        return (self.combine, self.inverse, "neg")


MUL_FAMILY = Family("mul", "true_div", neg_flips_sign=True)   # a * b / c, -a
ADD_FAMILY = Family("add", "sub", neg_flips_sign=False)       # a + b - c, -a


def _flatten(fgraph, node: Apply, family: Family) -> tuple[list[Variable], list[Variable], int]:
    """``(direct, inverse, sign)``: the terms of the nested ``family`` expression ``node``
    computes, left to right (``a * b / (c * d)``: ``[a, b], [c, d]``; ``a - (b + c)``:
    ``[a], [b, c]``), descending into same-dtype family nodes read only here."""
    dtype = node.outputs[0].dtype
    direct: list[Variable] = []
    inverse: list[Variable] = []
    sign = 1
    stack: list[tuple[Variable, bool]] = []

    def expand(n: Apply, inv: bool) -> None:
        nonlocal sign
        k = n.op.scalar_op.name
        if k == family.combine:
            stack.extend((i, inv) for i in reversed(n.inputs))
        elif k == family.inverse:
            stack.append((n.inputs[1], not inv))
            stack.append((n.inputs[0], inv))
        elif family.neg_flips_sign:
            sign = -sign
            stack.append((n.inputs[0], inv))
        else:
            stack.append((n.inputs[0], not inv))

    expand(node, False)
    while stack:
        v, inv = stack.pop()
        if _absorbable(fgraph, v, family.names, dtype):
            expand(v.owner, inv)
        else:
            (inverse if inv else direct).append(v)
    return direct, inverse, sign


def _parent_absorbs(fgraph, node: Apply, family: tuple[str, ...]) -> bool:
    """The only client is a same-dtype op of ``family``: it will canonicalize this node with it."""
    out = node.outputs[0]
    cl = fgraph.clients.get(out, ())
    if len(cl) != 1:
        return False
    parent = next(iter(cl))[0]
    if parent == "output":
        return False
    return (isinstance(parent.op, Elemwise) and parent.op.scalar_op.name in family
            and parent.outputs[0].dtype == out.dtype)


def _absorbable(fgraph, v: Variable, family: tuple[str, ...], dtype: str) -> bool:
    return op_name(v) in family and v.dtype == dtype and n_clients(fgraph, v) == 1


def _cancel(a: list[Variable], b: list[Variable]) -> list[Variable]:
    """Remove variables present in both lists (one occurrence each); return the removed ones."""
    count: dict[int, int] = {}
    for v in b:
        count[id(v)] = count.get(id(v), 0) + 1
    if not any(id(v) in count for v in a):
        return []
    removed, keep_a = [], []
    for v in a:
        if count.get(id(v), 0) > 0:
            count[id(v)] -= 1
            removed.append(v)
        else:
            keep_a.append(v)
    taken: dict[int, int] = {}
    for v in removed:
        taken[id(v)] = taken.get(id(v), 0) + 1
    keep_b = []
    for v in b:
        if taken.get(id(v), 0) > 0:
            taken[id(v)] -= 1
        else:
            keep_b.append(v)
    a[:], b[:] = keep_a, keep_b
    return removed


def _split_constants(vs: list[Variable]) -> tuple[list[Variable], list[Variable]]:
    consts, rest = [], []
    for v in vs:
        (consts if const_value(v) is not None else rest).append(v)
    return consts, rest


def _is_one_element(v: Variable) -> bool:
    d = const_value(v)
    return d is not None and np.size(d) == 1


@local_rewrite("mul", "true_div", "neg", phase=CANON)
def local_mul_canonizer(fgraph, node):  # (2 * (x * 3)) / (x * y) -> 6 / y
    if _parent_absorbs(fgraph, node, MUL_FAMILY.names):
        return None
    out = node.outputs[0]
    dtype = out.dtype
    if dtype == "bool":
        return None
    num, den, sign = _flatten(fgraph, node, MUL_FAMILY)
    cn, num = _split_constants(num)
    cd, den = _split_constants(den)
    cancelled = _cancel(num, den)
    # one constant factor c in front (or one constant divisor when only divisors are constant)
    c: Variable | None = None
    if len(cn) == 1 and not cd and sign > 0:
        c = cn[0]
    elif len(cd) == 1 and not cn and sign > 0:
        pass  # a single constant divisor stays a divisor
    elif cn or sign < 0 or (cd and dtype[0] in "fc"):
        with np.errstate(all="ignore"):
            val = np.asarray(sign, dtype=dtype)
            for v in cn:
                val = np.multiply(val, np.asarray(const_value(v), dtype=dtype), dtype=dtype)
            for v in cd:
                val = np.true_divide(val, np.asarray(const_value(v), dtype=dtype)).astype(dtype)
        cd = []
        c = tensor_constant(val, dtype, out.ndim)
    if c is not None and num and _is_one_element(c) and scalar_value(c) == 1:
        if upcast(*[v.dtype for v in num]) == dtype:
            c = None  # 1 * x -> x
    den = cd + den
    # the spec of the canonical form
    if c is not None and num and not den and len(num) == 1 and _is_one_element(c) and scalar_value(c) == -1:
        top = ("neg", [("var", num[0])])
    else:
        factors = ([c] if c is not None else []) + num
        if not factors:
            factors = [tensor_constant(1, dtype, out.ndim)]
        top = _spec_of("mul", factors)
    spec = top if not den else ("true_div", [top, _spec_of("mul", den)])
    if _spec_matches(out, spec):
        return None
    spec = _retype_constant(spec, dtype, out.ndim)
    result = keep_shapes(_spec_build(spec), cancelled)
    if result.dtype != dtype and spec[0] != "var":
        return None  # rebuilt arithmetic would run in a narrower dtype (a lone variable is just cast)
    return [result]


@local_rewrite("add", "sub", "neg", phase=CANON)
def local_add_canonizer(fgraph, node):  # (x + 1) - (2 - y) -> (-1 + x + y)
    if _parent_absorbs(fgraph, node, ADD_FAMILY.names):
        return None
    out = node.outputs[0]
    dtype = out.dtype
    if dtype == "bool":
        return None
    pos, negs, _ = _flatten(fgraph, node, ADD_FAMILY)
    cp, pos = _split_constants(pos)
    cm, negs = _split_constants(negs)
    cancelled = _cancel(pos, negs)
    single = (cp + cm)[0] if len(cp) + len(cm) == 1 else None
    if single is not None and not (scalar_value(single) == 0 and (pos or negs)
                                   and upcast(*[t.dtype for t in pos + negs]) == dtype):
        pos, negs = cp + pos, cm + negs  # a single constant stays where it is
    elif single is None and (cp or cm):
        with np.errstate(all="ignore"):
            val = np.zeros((), dtype=dtype)
            for v in cp:
                val = np.add(val, np.asarray(const_value(v), dtype=dtype), dtype=dtype)
            for v in cm:
                val = np.subtract(val, np.asarray(const_value(v), dtype=dtype), dtype=dtype)
        terms = pos or negs
        if np.size(val) == 1 and val.reshape(())[()] == 0 and terms and upcast(*[t.dtype for t in terms]) == dtype:
            pass  # + 0: dropped
        elif np.size(val) == 1 and dtype[0] in "if" and val.reshape(())[()] < 0:
            negs = [tensor_constant(np.negative(val), dtype, out.ndim)] + negs
        else:
            pos = [tensor_constant(val, dtype, out.ndim)] + pos
    p, m = _spec_of("add", pos), _spec_of("add", negs)
    if p is not None and m is not None:
        spec = ("sub", [p, m])
    elif p is not None:
        spec = p
    elif m is not None:
        spec = ("neg", [m])
    else:
        spec = ("var", tensor_constant(0, dtype, out.ndim))
    if _spec_matches(out, spec):
        return None
    spec = _retype_constant(spec, dtype, out.ndim)
    result = keep_shapes(_spec_build(spec), cancelled)
    if result.dtype != dtype and spec[0] != "var":
        return None  # rebuilt arithmetic would run in a narrower dtype (a lone variable is just cast)
    return [result]


