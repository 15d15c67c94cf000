"""Specialize: cheaper forms of canonical graphs.

``x * x -> sqr(x)``, ``x ** 2 -> sqr(x)``, ``x ** 0.5 -> sqrt(x)``,
``-1 * x -> -x``, ``1 * x -> x``, ``0 * x -> 0``, ``x + 0 -> x``,
``a + (-b) -> a - b``, sums of fills and of scalar multiples, dot with a
scalar factor.
"""

from __future__ import annotations

from thx.rewriting.constants import scalar_value, tensor_constant
from thx.rewriting.engine import local_rewrite
from thx.rewriting.patterns import pattern
from thx.rewriting.utils import apply_op, keep_shapes, n_clients, op_name
from thx.tensor import elemwise as E
from thx.tensor.basic import Alloc, shape
from thx.tensor.elemwise import DimShuffle
from thx.tensor.math import Dot, Prod, Sum
from thx.tensor.type import float_dtypes, upcast

SPEC = "specialize"

pattern("local_mul_to_sqr", (E.mul, "x", "x"), (E.sqr, "x"), phase=SPEC)     # x * x -> sqr(x)
pattern("local_pow_two", (E.pow, "x", 2), (E.sqr, "x"), phase=SPEC)         # x ** 2 -> sqr(x)
pattern("local_pow_half", (E.pow, "x", 0.5), (E.sqrt, "x"), phase=SPEC)     # x ** 0.5 -> sqrt(x)
pattern("local_pow_minus_one", (E.pow, "x", -1),                            # x ** -1 -> 1 / x
        lambda x: E.true_div(tensor_constant(1, x.dtype, 0), x), when=lambda x: x.dtype in float_dtypes,
        phase=SPEC)
pattern("local_add_neg_to_sub", (E.add, "a", (E.neg, "b")), (E.sub, "a", "b"), phase=SPEC,  # a + (-b) -> a - b
        when=lambda a, b: _neg_exact(b, upcast(a.dtype, b.dtype)))
pattern("local_neg_neg", (E.neg, (E.neg, "x")), "x", phase=SPEC)            # -(-x) -> x


def _neg_exact(x, dtype: str) -> bool:
    """Is ``-x`` computed in ``x``'s dtype the same as in ``dtype``?  Not for a narrower integer:
    -(-128) wraps to -128 in int8 (so ``int8 -x + int32 c`` is not ``c - x``)."""
    return x.dtype in float_dtypes or x.dtype == dtype


def _drop_constants(node, neutral, absorbing):
    """Inputs of an add/mul without its ``neutral`` constants; None if nothing to drop."""
    out = node.outputs[0]
    rest, dropped, sign = [], [], 1
    for v in node.inputs:
        val = scalar_value(v)
        if val is not None and absorbing is not None and val == absorbing:
            return "absorb", None, None
        if val is not None and val == neutral:
            dropped.append(v)
        elif val is not None and neutral == 1 and val == -1 and out.dtype[0] in "if":
            dropped.append(v)
            sign = -sign
        else:
            rest.append(v)
    if not dropped or not rest:
        return None, None, None
    if len(rest) > 1 and upcast(*[v.dtype for v in rest]) != out.dtype:
        return None, None, None  # the remaining product would be computed in a narrower dtype
    return rest, dropped, sign


@local_rewrite(E.mul, phase=SPEC)
def local_mul_specialize(fgraph, node):  # 1 * x -> x ; -1 * x -> -x ; 0 * x -> 0
    rest, dropped, sign = _drop_constants(node, 1, 0)
    out = node.outputs[0]
    if rest == "absorb":
        return [keep_shapes(tensor_constant(0, out.dtype, out.ndim), node.inputs)]
    if rest is None:
        return None
    y = rest[0] if len(rest) == 1 else E.mul(*rest)
    if y.dtype != out.dtype:
        y = E.cast(y, out.dtype)
    return [keep_shapes(E.neg(y) if sign < 0 else y, dropped)]


@local_rewrite(E.add, phase=SPEC)
def local_add_specialize(fgraph, node):  # x + 0 -> x
    rest, dropped, _ = _drop_constants(node, 0, None)
    if rest is None:
        return None
    out = node.outputs[0]
    y = rest[0] if len(rest) == 1 else E.add(*rest)
    if y.dtype != out.dtype:
        y = E.cast(y, out.dtype)
    return [keep_shapes(y, dropped)]


def _scalar(v):
    """A variable whose every dim broadcasts, as a 0-d variable."""
    while v.ndim and v.owner is not None and isinstance(v.owner.op, DimShuffle) and all(
            d == "x" for d in v.owner.op.new_order):
        v = v.owner.inputs[0]  # a broadcast scalar: take the scalar
    return v if v.ndim == 0 else DimShuffle(v.broadcastable, [])(v)


def _full_sum(node) -> bool:
    return node.op.axis is None or len(node.op.axis) == node.inputs[0].ndim


@local_rewrite(Sum, phase=SPEC)
def local_sum_of_fill(fgraph, node):  # sum(fill(x, c)) -> c * size(x) ; sum(alloc(c, *shape)) -> c * prod(shape)
    v = node.inputs[0]
    out = node.outputs[0]
    if not _full_sum(node) or v.owner is None:
        return None
    if op_name(v) == "second":
        model, c = v.owner.inputs
        n = Prod()(shape(model))
    elif isinstance(v.owner.op, Alloc):
        c, dims = v.owner.inputs[0], v.owner.inputs[1:]
        n = E.mul(*[E.cast(d, "int64") for d in dims]) if dims else tensor_constant(1, "int64", 0)
    else:
        return None
    if not all(c.broadcastable):
        return None
    return [E.mul(_scalar(E.cast(c, out.dtype) if c.dtype != out.dtype else c), E.cast(n, out.dtype))]


@local_rewrite(Sum, phase=SPEC)
def local_sum_mul_by_scalar(fgraph, node):  # sum(s * x) -> s * sum(x)   (s a scalar)
    v = node.inputs[0]
    if op_name(v) != "mul" or n_clients(fgraph, v) != 1:
        return None
    scal = [i for i in v.owner.inputs if all(i.broadcastable)]
    rest = [i for i in v.owner.inputs if not all(i.broadcastable)]
    if not scal or not rest or upcast(*[r.dtype for r in rest]) != v.dtype:
        return None
    x = rest[0] if len(rest) == 1 else E.mul(*rest)
    return [E.mul(*[_scalar(s) for s in scal], node.op(x))]


@local_rewrite(Sum, phase=SPEC)
def local_sum_neg(fgraph, node):  # sum(-x) -> -sum(x)
    v = node.inputs[0]
    if op_name(v) != "neg" or n_clients(fgraph, v) != 1 or not _neg_exact(v, node.outputs[0].dtype):
        return None
    return [E.neg(node.op(v.owner.inputs[0]))]


@local_rewrite(Dot, phase=SPEC)
def local_dot_scalar(fgraph, node):  # dot(s * x, y) -> s * dot(x, y)   (s a scalar)
    for k, v in enumerate(node.inputs):
        if op_name(v) != "mul" or n_clients(fgraph, v) != 1:
            continue
        scal = [i for i in v.owner.inputs if all(i.broadcastable)]
        rest = [i for i in v.owner.inputs if not all(i.broadcastable)]
        if not scal or not rest or upcast(*[r.dtype for r in rest]) != v.dtype:
            continue
        ins = list(node.inputs)
        ins[k] = rest[0] if len(rest) == 1 else E.mul(*rest)
        if ins[k].broadcastable != v.broadcastable:
            continue
        return [E.mul(*[_scalar(s) for s in scal], node.op(*ins))]
    return None


_ = (apply_op,)


@local_rewrite(E.mul, phase=SPEC)
def local_mul_neg(fgraph, node):  # (-a) * (-b) -> a * b
    negs = [v for v in node.inputs if op_name(v) == "neg"]
    if len(negs) < 2 or not all(_neg_exact(v, node.outputs[0].dtype) for v in negs):
        return None
    out = E.mul(*[v.owner.inputs[0] if op_name(v) == "neg" else v for v in node.inputs])
    return [E.neg(out) if len(negs) % 2 else out]
