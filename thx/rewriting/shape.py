"""Shapes, reshapes and indexing: ``Shape(f(x, y))`` from ``f``'s ``infer_shape``
(so ``(x + y).shape`` does not compute ``x + y``, Theano's shape_info behaviour),
``[a, b, c][1] -> b``, and useless reshapes, flattens, subtensors and rebroadcasts.

Registered in canonicalize and specialize; shape inference (tag ``shape``) is
not part of FAST_COMPILE, as in Theano.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Constant, Variable
from thx.graph.op import call_infer_shape
from thx.rewriting.constants import make_constant, scalar_value
from thx.rewriting.engine import local_rewrite
from thx.rewriting.utils import ALL_PHASES, CANON
from thx.tensor.basic import Flatten, MakeVector, Rebroadcast, Reshape, Shape, patternbroadcast, shape
from thx.tensor.subtensor import Subtensor, getitem
from thx.tensor.var import constant


class _LazyShape(Sequence):
    """The symbolic shape of a variable, built one dimension at a time when asked."""

    def __init__(self, var: Variable) -> None:
        self.var = var
        self.dims: list[Variable | None] = [None] * var.ndim

    def __len__(self) -> int:
        return len(self.dims)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        d = self.dims[i]
        if d is None:
            d = constant(1, dtype="int64") if self.var.broadcastable[i] else getitem(shape(self.var), i)
            self.dims[i] = d
        return d


def _shape_entry(v: Variable) -> tuple[Variable, int] | None:
    """``(x, i)`` if ``v`` is ``x.shape[i]``."""
    n = v.owner
    if n is None or not isinstance(n.op, Subtensor) or len(n.op.idx_list) != 1:
        return None
    src = n.inputs[0].owner
    if src is None or not isinstance(src.op, Shape):
        return None
    (e,) = n.op.idx_list
    if e == "?":
        e = scalar_value(n.inputs[1])
    if e is None or isinstance(e, tuple):
        return None
    x = src.inputs[0]
    return x, int(e) % max(x.ndim, 1)


def _shape_source(dims: Sequence[Variable]) -> Variable | None:
    """``x`` if ``dims`` is exactly ``x.shape`` (broadcastable dims may be the constant 1)."""
    x = None
    for i, d in enumerate(dims):
        e = _shape_entry(d)
        if e is not None:
            if e[1] != i or (x is not None and e[0] is not x):
                return None
            x = e[0]
    if x is None or x.ndim != len(dims):
        return None
    for i, d in enumerate(dims):
        if _shape_entry(d) is None and not (x.broadcastable[i] and scalar_value(d) == 1):
            return None
    return x


def _new_graph_uses(fgraph, outs: Sequence[Variable], forbidden: set[Variable]) -> bool:
    """Do the new nodes computing ``outs`` read a variable of ``forbidden``?"""
    seen: set[int] = set()
    stack = list(outs)
    while stack:
        v = stack.pop()
        if v in forbidden:
            return True
        n = v.owner
        if n is None or id(n) in seen or n in fgraph.apply_nodes:
            continue
        seen.add(id(n))
        stack.extend(n.inputs)
    return False


@local_rewrite(Shape, phase=ALL_PHASES, tags=("shape",), fast_compile=False)
def local_shape_of_broadcastable(fgraph, node):  # Shape(x) -> [1, 1]   (every dim of x broadcasts)
    x = node.inputs[0]
    if all(x.broadcastable):
        return [make_constant(np.ones(x.ndim, dtype="int64"), node.outputs[0])]
    return None


@local_rewrite(Shape, phase=ALL_PHASES, tags=("shape",), fast_compile=False)
def local_shape_infer(fgraph, node):  # Shape(x + y) -> Shape(x)   (the op's infer_shape)
    v = node.inputs[0]
    inner = v.owner
    if inner is None:
        return None
    try:
        shapes = call_infer_shape(inner.op, fgraph, inner, [_LazyShape(i) for i in inner.inputs])
        dims = [d if isinstance(d, Variable) else constant(int(d), dtype="int64")
                for d in shapes[v.index]]
    except Exception:  # no infer_shape, or one that cannot say
        return None
    if len(dims) != v.ndim or _new_graph_uses(fgraph, dims, set(inner.outputs)):
        return None
    src = _shape_source(dims)
    if src is not None:
        return [shape(src)]
    return [patternbroadcast(MakeVector("int64")(*dims), node.outputs[0].broadcastable)]


@local_rewrite(MakeVector, phase=ALL_PHASES, tags=("shape",), fast_compile=False)
def local_make_vector_of_shape(fgraph, node):  # [x.shape[0], x.shape[1]] -> x.shape
    if node.op.dtype != "int64" or len(node.inputs) < 2:
        return None
    src = _shape_source(node.inputs)
    return None if src is None else [shape(src)]


@local_rewrite(Subtensor, phase=ALL_PHASES, tags=("shape",), fast_compile=False)
def local_shape_i_of_broadcastable(fgraph, node):  # x.shape[i] -> 1   (dim i of x broadcasts)
    e = _shape_entry(node.outputs[0])
    if e is not None and e[0].broadcastable[e[1]]:
        return [constant(1, dtype="int64")]
    return None


@local_rewrite(Subtensor, phase=ALL_PHASES)
def local_subtensor_make_vector(fgraph, node):  # [a, b, c][1] -> b ; [a, b, c][1:] -> [b, c]
    vec = node.inputs[0]
    if vec.owner is None or not isinstance(vec.owner.op, MakeVector) or len(node.op.idx_list) != 1:
        return None
    elems = vec.owner.inputs
    (e,) = node.op.idx_list
    if e == "?":
        e = scalar_value(node.inputs[1])
        if e is None:
            return None
    if isinstance(e, tuple):
        if "?" in e[1:]:
            return None
        part = elems[slice(*e[1:])]
        return [vec.owner.op(*part)] if part else None
    k = int(e)
    if -len(elems) <= k < len(elems):
        return [elems[k]]
    return None


# ------------------------------------------------------------------ useless reshapes and views


@local_rewrite(Subtensor, phase=ALL_PHASES)
def local_useless_subtensor(fgraph, node):  # x[:, 0:] -> x
    if all(isinstance(e, tuple) and e[1] in (None, 0) and e[2] is None and e[3] in (None, 1)
           for e in node.op.idx_list):
        return [node.inputs[0]]
    return None


@local_rewrite(Rebroadcast, phase=ALL_PHASES)
def local_useless_rebroadcast(fgraph, node):  # Rebroadcast(x) -> x   (x has the pattern already)
    x = node.inputs[0]
    target = node.outputs[0].broadcastable
    if x.broadcastable == target:
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, Rebroadcast):  # Rebroadcast(Rebroadcast(y)) -> Rebroadcast(y)
        return [patternbroadcast(inner.inputs[0], target)]
    return None


@local_rewrite(Reshape, phase=ALL_PHASES)
def local_useless_reshape(fgraph, node):  # reshape(x, x.shape) -> x
    x, shp = node.inputs
    n = node.op.ndim
    if x.ndim != n:
        return None
    if n <= 1:  # a valid reshape of a vector to one dimension keeps it as it is
        return [x]
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        return [x]
    if shp.owner is not None and isinstance(shp.owner.op, MakeVector):
        entries = shp.owner.inputs
    elif isinstance(shp, Constant):
        entries = [constant(int(s), dtype="int64") for s in shp.data]
    else:
        return None
    unknown = 0
    for i, d in enumerate(entries):
        e = _shape_entry(d)
        if e is not None and e[0] is x and e[1] == i:
            continue
        if x.broadcastable[i] and scalar_value(d) == 1:
            continue
        unknown += 1
    # all dims but (at most) one are known equal: the sizes match, so the last one does too
    return [x] if unknown <= 1 else None


@local_rewrite(Reshape, phase=CANON)
def local_reshape_chain(fgraph, node):  # reshape(reshape(x, s1), s2) -> reshape(x, s2)
    inner = node.inputs[0].owner
    if inner is not None and isinstance(inner.op, Reshape):
        return [node.op(inner.inputs[0], node.inputs[1])]
    return None


@local_rewrite(Flatten, phase=ALL_PHASES)
def local_useless_flatten(fgraph, node):  # flatten(x, outdim=x.ndim) -> x
    if node.inputs[0].ndim == node.op.outdim:
        return [node.inputs[0]]
    return None
