"""Constants for rewrites: values seen through broadcasting, new constants, folding.

Constant folding replaces a node whose inputs are all constants by its
value, computed by the op's NumPy ``perform``; huge outputs are skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable

FOLD_LIMIT = 100_000  # constant folding skips outputs with more elements than this


def const_value(v: Variable) -> np.ndarray | None:
    """The value of a constant, seen through broadcasting DimShuffles, else None.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> const_value((x + 2).owner.inputs[1])   # the DimShuffle{x} of the constant 2
    array([2], dtype=int8)
    >>> const_value(x) is None
    True
    """
    if isinstance(v, Constant):
        return v.data
    node = v.owner
    if node is not None and isinstance(node.inputs[0], Constant) and len(node.inputs) == 1:
        from thx.tensor.elemwise import DimShuffle
        if isinstance(node.op, DimShuffle):
            data = np.asarray(node.inputs[0].data)
            return np.transpose(data, node.op.shuffle + node.op.drop).reshape(
                [1 if d == "x" else data.shape[d] for d in node.op.new_order])
    return None


def scalar_value(v: Variable) -> Any:
    """The single value of a one-element constant (seen through DimShuffles), else None."""
    data = const_value(v)
    if data is None or np.size(data) != 1:
        return None
    return np.asarray(data).reshape(())[()]


def tensor_constant(value: Any, dtype: str, ndim: int) -> Variable:
    """A constant of ``ndim`` dimensions; one element becomes a broadcast scalar.

    The scalar form (``DimShuffle{x,x}(TensorConstant{2.0})``) prints as ``2.0``.

    Examples
    --------
    >>> c = tensor_constant(2, "float64", 2)
    >>> c.broadcastable, str(c.owner.inputs[0])
    ((True, True), 'TensorConstant{2.0}')
    """
    from thx.tensor.elemwise import DimShuffle
    from thx.tensor.type import TensorType
    from thx.tensor.var import TensorConstant
    arr = np.asarray(value, dtype=dtype)
    if arr.size == 1:
        scalar = TensorConstant(TensorType(dtype, ()), arr.reshape(()))
        return scalar if ndim == 0 else DimShuffle((), ["x"] * ndim)(scalar)
    arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    return TensorConstant(TensorType(dtype, [s == 1 for s in arr.shape]), arr)


def make_constant(value: Any, out: Variable) -> Variable:
    """A constant replacing ``out``: its exact type, or a broadcast scalar when it has one element."""
    from thx.tensor.type import TensorType
    from thx.tensor.var import TensorConstant
    ttype = out.type
    if not isinstance(ttype, TensorType):
        ctor = getattr(ttype, "constant_type", None) or Constant
        return ctor(ttype, value)
    arr = np.asarray(value, dtype=ttype.dtype)
    if all(ttype.broadcastable) and arr.size == 1:
        return tensor_constant(arr, ttype.dtype, ttype.ndim)
    return TensorConstant(ttype, arr)


def _foldable(node: Apply) -> list[np.ndarray] | None:
    """Input values if ``node`` can be folded (all inputs constant, output not huge)."""
    op = node.op
    if getattr(op, "nondeterministic", False):
        return None
    flag = getattr(op, "do_constant_folding", True)
    if callable(flag):
        flag = flag(None, node)
    if not flag:
        return None
    from thx.tensor.basic import Alloc
    from thx.tensor.elemwise import DimShuffle, Elemwise
    if isinstance(op, DimShuffle) and isinstance(node.inputs[0], Constant):
        return None  # a broadcast constant stays one: it prints and matches as a scalar
    values = []
    for v in node.inputs:
        d = const_value(v)
        if d is None:
            return None
        values.append(d)
    if isinstance(op, Elemwise):
        try:
            size = int(np.prod(np.broadcast_shapes(*[np.shape(d) for d in values])))
        except ValueError:  # shapes that do not broadcast: an error for run time
            return None
        if size > FOLD_LIMIT:
            return None
    elif isinstance(op, Alloc):
        if int(np.prod([int(s) for s in values[1:]])) > FOLD_LIMIT:
            return None
    return values


def fold(node: Apply) -> list[Variable] | None:
    """Constants replacing the outputs of ``node``, computed by its NumPy ``perform``.

    None if an input is not constant, the output would be huge, the op
    opts out (``do_constant_folding = False``, ``nondeterministic = True``)
    or its ``perform`` fails (the error is then left to run time).

    Examples
    --------
    >>> import thx.tensor as T
    >>> fold((T.constant(2) - T.constant(0.5)).owner)
    [TensorConstant{1.5}]
    """
    values = _foldable(node)
    if values is None:
        return None
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    try:
        with np.errstate(all="ignore"):
            node.op.perform(node, values, storage)
    except Exception:  # NotImplementedError, or a value error that must surface when run
        return None
    outs = []
    for o, (r,) in zip(node.outputs, storage):
        if np.size(r) > FOLD_LIMIT:
            return None
        outs.append(make_constant(r, o))
    return outs
