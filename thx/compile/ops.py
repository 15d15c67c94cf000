"""Theano's ``theano.compile.ops`` path: ``as_op``, a Python function as an op (and the shape
ops Theano kept there: ``Shape``, ``shape``, ``SpecifyShape``, ``specify_shape``).

``as_op(itypes, otypes, infer_shape=None)`` decorates a NumPy function; the result is a
``FromFunctionOp`` that calls it from ``perform``.  Like every op without a JAX lowering it
runs on the host between jitted segments (``thx/lowering/perform.py``; docs/extending.md).
It has no gradient, as in Theano.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from thx.graph.basic import Apply
from thx.graph.op import Op
from thx.graph.type import Type
from thx.tensor.shape import Shape, SpecifyShape, shape, specify_shape

__all__ = ["as_op", "FromFunctionOp", "Shape", "shape", "SpecifyShape", "specify_shape"]


class FromFunctionOp(Op):
    """An op that calls a Python function on NumPy values (built by ``as_op``).

    Parameters
    ----------
    fn : callable
        ``fn(*input_arrays)`` returns the output array, or a list/tuple of them.
    itypes, otypes : sequence of Type
        The exact types of the inputs and of the outputs.
    infer_shape : callable, optional
        ``infer_shape(node, input_shapes) -> output_shapes`` (Theano's signature): lets the
        optimizer answer ``out.shape`` without running ``fn``, and the op run inside a
        ``scan`` step.
    """

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn: Callable[..., Any], itypes: Sequence[Type], otypes: Sequence[Type],
                 infer_shape: Callable[[Apply, list], list] | None = None) -> None:
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.infer_shape_fn = infer_shape

    def __str__(self) -> str:
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', self.fn)}}}"

    def perform(self, node, inputs, outputs):
        outs = self.fn(*inputs)
        if not isinstance(outs, (list, tuple)):
            outs = (outs,)
        if len(outs) != len(outputs):
            raise ValueError(f"{self}: the function returned {len(outs)} values for "
                             f"{len(outputs)} outputs")
        for cell, value in zip(outputs, outs):
            cell[0] = value

    def infer_shape(self, node, input_shapes):
        if self.infer_shape_fn is None:
            raise NotImplementedError(f"{self} was made by as_op without infer_shape")
        return self.infer_shape_fn(node, input_shapes)


def _types(types: Any, what: str) -> list[Type]:
    types = list(types) if isinstance(types, (list, tuple)) else [types]
    if not all(isinstance(t, Type) for t in types):
        raise TypeError(f"{what} has to be a list of Theano types")
    return types


def as_op(itypes: Any, otypes: Any, infer_shape: Callable[[Apply, list], list] | None = None
          ) -> Callable[[Callable[..., Any]], FromFunctionOp]:
    """Decorator: turn a NumPy function into an op (Theano's ``theano.compile.ops.as_op``).

    Parameters
    ----------
    itypes : Type or list of Type
        The types of the inputs (e.g. ``[T.dmatrix, T.dmatrix]``); the op accepts exactly these.
    otypes : Type or list of Type
        The types of the outputs.
    infer_shape : callable, optional
        ``infer_shape(node, input_shapes)`` returning one shape tuple per output, built from the
        input shapes (tuples of symbolic scalars).

    Returns
    -------
    callable
        A decorator; ``as_op(...)(fn)`` is a ``FromFunctionOp`` to call on variables.

    Raises
    ------
    TypeError
        If ``itypes``/``otypes`` are not types, or ``infer_shape`` is not callable.

    Notes
    -----
    The function must return new arrays, not views of its inputs.  The op has no gradient;
    ``T.grad`` through it raises.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.compile.ops import as_op
    >>> @as_op(itypes=[T.dmatrix, T.dmatrix], otypes=[T.dmatrix],
    ...        infer_shape=lambda node, shapes: [shapes[0][:-1] + shapes[1][-1:]])
    ... def numpy_dot(a, b):
    ...     return np.dot(a, b)
    >>> x, y = T.dmatrix('x'), T.dmatrix('y')
    >>> thx.function([x, y], numpy_dot(x, y))(np.ones((2, 3)), np.ones((3, 1)))
    array([[3.],
           [3.]])
    """
    itypes, otypes = _types(itypes, "itypes"), _types(otypes, "otypes")
    if infer_shape is not None and not callable(infer_shape):
        raise TypeError("infer_shape needs to be a callable")

    def make(fn: Callable[..., Any]) -> FromFunctionOp:
        return FromFunctionOp(fn, itypes, otypes, infer_shape)
    return make
