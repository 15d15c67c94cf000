"""Triangles and diagonals (Theano's ``T.tri``/``tril``/``triu``, ``ExtractDiag``, ``AllocDiag``,
``T.diagonal``, ``T.diag``; Theano defines them in ``theano.tensor.basic``, which re-exports them
from here).  Lowered in ``thx/lowering/diagonal.py``."""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor.basic import arange, zeros_like
from thx.tensor.elemwise import _zero_grad, cast
from thx.tensor.shape import shape
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable, constant

__all__ = ["tri", "tril", "triu", "ExtractDiag", "AllocDiag", "alloc_diag_numpy", "diagonal", "diag"]


def tri(N: Any, M: Any = None, k: Any = 0, dtype: str | None = None) -> Variable:
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix, zeros elsewhere
    (``numpy.tri``; Theano's ``T.tri``).

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.tri(3, 4, 1, dtype='int8').eval()
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 1]], dtype=int8)
    """
    rows = arange(N).dimshuffle(0, "x")
    cols = arange(N if M is None else M).dimshuffle("x", 0)
    from thx.tensor.elemwise import ge
    return cast(ge(rows + k, cols), dtype or config.floatX)


def _triangle(m: Any, keep_lower: bool, k: Any, name: str) -> Variable:
    m = as_tensor_variable(m)
    if m.ndim < 2:
        raise ValueError(f"{name}: input must be at least 2-d, got a tensor of {m.ndim} dimension(s)")
    from thx.tensor.elemwise import ge, switch
    rows = arange(shape(m)[-2]).dimshuffle(0, "x")
    cols = arange(shape(m)[-1]).dimshuffle("x", 0)
    keep = ge(rows + k, cols) if keep_lower else ge(cols, rows + k)
    # a switch, not a product with a 0/1 mask: an inf or NaN outside the triangle gives 0, as NumPy
    return switch(keep, m, constant(np.zeros((), m.dtype)))


def tril(m: Any, k: Any = 0) -> Variable:
    """``m`` with the entries above the ``k``-th diagonal zeroed, on the last two axes
    (``numpy.tril``; Theano's ``T.tril``).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.tril(np.arange(1., 7.).reshape(2, 3)).eval()
    array([[1., 0., 0.],
           [4., 5., 0.]])
    """
    return _triangle(m, True, k, "tril")


def triu(m: Any, k: Any = 0) -> Variable:
    """``m`` with the entries below the ``k``-th diagonal zeroed, on the last two axes
    (``numpy.triu``; Theano's ``T.triu``).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.triu(np.arange(1., 7.).reshape(2, 3), 1).eval()
    array([[0., 2., 3.],
           [0., 0., 6.]])
    """
    return _triangle(m, False, k, "triu")


def _diag_axes(ndim: int, axis1: int, axis2: int, who: str) -> tuple[int, int]:
    a1, a2 = int(axis1), int(axis2)
    for a in (a1, a2):
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of bounds for a tensor of {ndim} dimensions")
    a1, a2 = a1 % ndim, a2 % ndim
    if a1 == a2:
        raise ValueError(f"{who}: axis1 and axis2 cannot be the same")
    return a1, a2


def _diag_length(n: Any, m: Any, offset: int) -> Variable:
    """Length of the ``offset`` diagonal of an ``n x m`` matrix: ``max(0, min(n + min(offset, 0),
    m - max(offset, 0)))``."""
    from thx.tensor.elemwise import maximum, minimum
    return maximum(minimum(n + min(offset, 0), m - max(offset, 0)), 0)


class ExtractDiag(Op):
    """The ``offset`` diagonal of ``x`` over the axes ``axis1``, ``axis2``, as the output's last
    axis (``numpy.diagonal``; Theano's ``ExtractDiag``).  ``view`` is accepted for Theano's
    signature: thx's outputs never alias their inputs."""

    __props__ = ("offset", "axis1", "axis2", "view")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1, view: bool = False) -> None:
        self.offset, self.axis1, self.axis2, self.view = int(offset), int(axis1), int(axis2), bool(view)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"ExtractDiag needs an input with 2 or more dimensions, got {x.type}")
        a1, a2 = _diag_axes(x.ndim, self.axis1, self.axis2, "ExtractDiag")
        rest = [b for d, b in enumerate(x.broadcastable) if d not in (a1, a2)]
        return Apply(self, [x], [TensorType(x.dtype, rest + [False])()])

    def perform(self, node, inputs, out):
        out[0][0] = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2).copy()

    def infer_shape(self, fgraph, node, input_shapes):
        (sh,) = input_shapes
        a1, a2 = _diag_axes(len(sh), self.axis1, self.axis2, "ExtractDiag")
        rest = [s for d, s in enumerate(sh) if d not in (a1, a2)]
        return [tuple(rest) + (_diag_length(sh[a1], sh[a2], self.offset),)]

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        a1, a2 = _diag_axes(x.ndim, self.axis1, self.axis2, "ExtractDiag")
        # the gradient puts gz back on the diagonal: AllocDiag makes a square block holding it,
        # cut to x's extent on the two axes and written over zeros
        block = AllocDiag(self.offset, a1, a2)(gz)
        from thx.tensor.subtensor import getitem, set_subtensor
        cut = [slice(None)] * x.ndim
        cut[a1], cut[a2] = slice(None, shape(x)[a1]), slice(None, shape(x)[a2])
        block = getitem(block, tuple(cut))
        place = [slice(None)] * x.ndim
        place[a1], place[a2] = slice(None, shape(block)[a1]), slice(None, shape(block)[a2])
        return [set_subtensor(getitem(zeros_like(x, dtype=gz.dtype), tuple(place)), block)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


class AllocDiag(Op):
    """A tensor holding ``x``'s last axis on its ``offset`` diagonal over ``axis1``, ``axis2``
    and zeros elsewhere: the inverse of :class:`ExtractDiag` (Theano's ``AllocDiag``).  The output
    has one more dimension than ``x``; the diagonal axes have length ``len + |offset|``."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> None:
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 1:
            raise ValueError(f"AllocDiag needs an input with 1 or more dimensions, got {x.type}")
        _diag_axes(x.ndim + 1, self.axis1, self.axis2, "AllocDiag")
        return Apply(self, [x], [TensorType(x.dtype, [False] * (x.ndim + 1))()])

    def _placed(self, ndim_out: int) -> tuple[int, int]:
        return _diag_axes(ndim_out, self.axis1, self.axis2, "AllocDiag")

    def perform(self, node, inputs, out):
        (x,) = inputs
        out[0][0] = alloc_diag_numpy(np.asarray(x), self.offset, *self._placed(x.ndim + 1))

    def infer_shape(self, fgraph, node, input_shapes):
        (sh,) = input_shapes
        a1, a2 = self._placed(len(sh) + 1)
        side = sh[-1] + abs(self.offset)
        rest = iter(sh[:-1])
        return [tuple(side if d in (a1, a2) else next(rest) for d in range(len(sh) + 1))]

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        return [ExtractDiag(self.offset, *self._placed(x.ndim + 1))(gz)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def alloc_diag_numpy(x: np.ndarray, offset: int, axis1: int, axis2: int) -> np.ndarray:
    """NumPy reference of :class:`AllocDiag` (``axis1``, ``axis2`` nonnegative)."""
    k = x.shape[-1]
    side = k + abs(offset)
    out = np.zeros(x.shape[:-1] + (side, side), dtype=x.dtype)
    t = np.arange(k)
    out[..., t + max(-offset, 0), t + max(offset, 0)] = x
    # out's diagonal axes are last; move them to axis1, axis2 (in increasing order of position)
    order = sorted([(axis1, -2), (axis2, -1)])
    return np.moveaxis(out, [src for _, src in order], [dst for dst, _ in order])


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """The ``offset`` diagonal of ``a`` over ``axis1`` and ``axis2`` (``numpy.diagonal``;
    Theano's ``T.diagonal``; also ``a.diagonal(...)``).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.diagonal(np.arange(6.).reshape(2, 3), 1).eval()
    array([1., 5.])
    """
    return ExtractDiag(offset, axis1, axis2)(a)


def diag(v: Any, k: int = 0) -> Variable:
    """A vector's diagonal matrix, or a matrix's ``k``-th diagonal (``numpy.diag``; Theano's
    ``T.diag``).

    Raises
    ------
    ValueError
        If ``v`` is neither a vector nor a matrix.

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.diag(np.array([1., 2.])).eval()
    array([[1., 0.],
           [0., 2.]])
    """
    v = as_tensor_variable(v)
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim == 2:
        return ExtractDiag(k)(v)
    raise ValueError(f"diag: input must be 1- or 2-d, got a tensor of {v.ndim} dimensions")
