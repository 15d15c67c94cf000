"""Theano's ``theano.tensor.extra_ops``: cumulative sums and products, diff, bincount, unique,
compress, searchsorted, index conversions, diagonal fills, one-hot rows and the Bartlett window.

``bincount``, ``unique`` and ``compress`` give arrays whose length depends on their input's
values: their ops live in ``thx/tensor/data_sized.py`` (host barriers), re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.basic import arange, repeat, zeros, zeros_like
from thx.tensor.data_sized import (BinCount, FlatNonzero, RepeatIndex, Unique, bincount, compress,
                                   unique)
from thx.tensor.elemwise import _zero_grad, cast
from thx.tensor.shape import MakeVector, NotDifferentiable, Shape, _disconnected, reshape, shape
from thx.tensor.subtensor import getitem, set_subtensor
from thx.tensor.type import TensorType, discrete_dtypes, upcast
from thx.tensor.var import as_tensor_variable, constant

__all__ = ["CumOp", "cumsum", "cumprod", "diff", "BinCount", "bincount", "squeeze", "compress",
           "FlatNonzero", "repeat", "RepeatIndex", "Bartlett", "bartlett", "FillDiagonal", "fill_diagonal",
           "FillDiagonalOffset", "fill_diagonal_offset", "to_one_hot", "Unique", "unique",
           "RavelMultiIndex", "ravel_multi_index", "UnravelIndex", "unravel_index",
           "SearchsortedOp", "searchsorted", "cpu_contiguous"]

_INDEX_DTYPES = tuple(d for d in discrete_dtypes if d != "bool")


def _check_index_dtype(v: Variable, what: str) -> None:
    if v.dtype not in _INDEX_DTYPES:
        raise TypeError(f"{what}: '{v.dtype}' object cannot be interpreted as an index "
                        f"(expected an integer tensor, got {v.type})")


def _norm_axis(axis: int, ndim: int, what: str) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{what}: axis must be an integer or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of bounds for a tensor of {ndim} dimensions")
    return int(axis) % ndim


def _reverse(x: Variable, axis: int) -> Variable:
    idx: list[Any] = [slice(None)] * x.ndim
    idx[axis] = slice(None, None, -1)
    return getitem(x, tuple(idx))


# ---------------------------------------------------------------------- cumsum / cumprod


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along ``axis``
    (None: of the flattened tensor), Theano's ``CumOp``."""

    __props__ = ("axis", "mode")

    def __init__(self, axis: int | None = None, mode: str = "add") -> None:
        if mode not in ("add", "mul"):
            raise ValueError(f'{type(self).__name__}: Unknown mode "{mode}" (expected "add" or "mul")')
        self.axis = axis
        self.mode = mode

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{self.axis}, {self.mode}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        dtype = "int64" if x.dtype == "bool" else x.dtype  # NumPy counts booleans in int64
        if self.axis is None:
            return Apply(self, [x], [TensorType(dtype, (False,))()])
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis(={self.axis}) out of bounds for {x.type} "
                             f"({x.ndim} dimensions)")
        return Apply(self, [x], [TensorType(dtype, x.broadcastable)()])

    def perform(self, node, inputs, out):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        out[0][0] = np.asarray(fn(inputs[0], axis=self.axis), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        # out[i] = sum_{j <= i} x[j]  =>  gx[j] = sum_{i >= j} gz[i]: a cumsum of the reversed gz.
        # cumprod (Theano's formula, exact where x has no zero): gx[j] = sum_{i >= j} gz[i] out[i] / x[j]
        axis = 0 if self.axis is None else self.axis % x.ndim
        g = gz if self.mode == "add" else outputs[0] * gz
        g = _reverse(CumOp(axis, "add")(_reverse(g, axis)), axis)
        if self.axis is None:
            g = reshape(g, shape(x), ndim=x.ndim)
        if self.mode == "mul":
            g = g / x
        return [g if g.dtype == x.dtype else cast(g, x.dtype)]

    def R_op(self, inputs, eval_points):
        (x,), (ex,) = inputs, eval_points
        if ex is None:
            return [None]
        if self.mode == "add":
            return [self(ex)]
        # d(prod_{j <= i} x[j]) = out[i] * sum_{j <= i} dx[j] / x[j]
        return [self(x) * CumOp(self.axis, "add")(ex / x)]

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            dims = list(input_shapes[0])
            size = E.mul(*dims) if len(dims) > 1 else dims[0] if dims else constant(1, dtype="int64")
            return [(cast(size, "int64"),)]
        return [tuple(input_shapes[0])]


def cumsum(x: Any, axis: int | None = None) -> Variable:
    """Cumulative sum of ``x`` along ``axis`` (``numpy.cumsum``; Theano's ``extra_ops.cumsum``).

    ``axis=None`` (default) accumulates over the flattened tensor and gives a vector.  The
    result has ``x``'s dtype (int64 for booleans, as NumPy); its gradient is the reversed
    cumulative sum of the output gradient.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.cumsum(m, axis=1).eval({m: [[1., 2., 3.], [4., 5., 6.]]})
    array([[ 1.,  3.,  6.],
           [ 4.,  9., 15.]])
    >>> T.cumsum(m).eval({m: [[1., 2.], [3., 4.]]})
    array([ 1.,  3.,  6., 10.])
    """
    return CumOp(axis=axis, mode="add")(x)


def cumprod(x: Any, axis: int | None = None) -> Variable:
    """Cumulative product of ``x`` along ``axis`` (``numpy.cumprod``; Theano's ``extra_ops.cumprod``).

    ``axis=None`` (default) works on the flattened tensor.  The gradient is Theano's
    formula ``reversed_cumsum(out * gz) / x``, which divides by ``x`` (not finite where
    ``x`` has zeros, as in Theano).

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.cumprod(v).eval({v: [1., 2., 3., 4.]})
    array([ 1.,  2.,  6., 24.])
    """
    return CumOp(axis=axis, mode="mul")(x)


# ---------------------------------------------------------------------- diff


def diff(x: Any, n: int = 1, axis: int = -1) -> Variable:
    """The ``n``-th discrete difference along ``axis`` (``numpy.diff``; Theano's ``extra_ops.diff``).

    ``out[i] = x[i + 1] - x[i]`` along ``axis``, applied ``n`` times.  It is built from two
    slices and a subtraction, so gradients (any order, any ``axis``) come from those.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.diff(v).eval({v: [1., 4., 9., 16.]})
    array([3., 5., 7.])
    >>> T.diff(v, n=2).eval({v: [1., 4., 9., 16.]})
    array([2., 2.])
    """
    x = as_tensor_variable(x)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"diff: n must be a Python integer, got {n!r}")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got n={n}")
    if x.ndim == 0:
        raise ValueError(f"diff: x must be at least one dimensional, got {x.type}")
    axis = _norm_axis(axis, x.ndim, "diff")
    upper: list[Any] = [slice(None)] * x.ndim
    lower: list[Any] = [slice(None)] * x.ndim
    upper[axis], lower[axis] = slice(1, None), slice(None, -1)
    for _ in range(int(n)):
        a, b = getitem(x, tuple(upper)), getitem(x, tuple(lower))
        x = E.neq(a, b) if x.dtype == "bool" else a - b  # NumPy's diff of booleans is !=
    return x


# ---------------------------------------------------------------------- squeeze


def squeeze(x: Any) -> Variable:
    """``x`` without its broadcastable dimensions (Theano's ``extra_ops.squeeze``: a DimShuffle).

    Only dimensions known to have length 1 (broadcastable) are removed.

    Examples
    --------
    >>> import thx.tensor as T
    >>> r = T.drow('r')
    >>> T.squeeze(r).type
    TensorType(float64, vector)
    """
    x = as_tensor_variable(x)
    return x.dimshuffle([d for d in range(x.ndim) if not x.broadcastable[d]])


# ---------------------------------------------------------------------- bartlett


class Bartlett(NotDifferentiable, Op):
    """The Bartlett window of ``M`` points (``numpy.bartlett``); ``M`` sets the length, so it
    must be known when the function is compiled (a static input, as ``arange``'s bounds)."""

    __props__ = ()

    def make_node(self, M):
        M = as_tensor_variable(M)
        if M.ndim != 0:
            raise TypeError(f"{type(self).__name__} only works on scalar input, got {M.type}")
        if M.dtype not in _INDEX_DTYPES:
            raise TypeError(f"{type(self).__name__} only works on integer input, got {M.type}")
        return Apply(self, [M], [TensorType("float64", (False,))()])

    def perform(self, node, inputs, out):
        out[0][0] = np.bartlett(int(inputs[0])).astype("float64")

    def infer_shape(self, fgraph, node, input_shapes):
        M = node.inputs[0]
        return [(cast(E.maximum(M, 0), "int64"),)]


bartlett_ = Bartlett()


def bartlett(M: Any) -> Variable:
    """The Bartlett (triangular) window of ``M`` points, zero at both ends (``numpy.bartlett``).

    ``M`` is an integer scalar; zero or less gives an empty vector.  The result is float64.
    A symbolic ``M`` becomes a static argument of the compiled function (one compilation
    per value), since it sets the length.

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.bartlett(5).eval()
    array([0. , 0.5, 1. , 0.5, 0. ])
    """
    return bartlett_(M)


# ---------------------------------------------------------------------- diagonals


def _fill_value(op: Op, a: Variable, val: Any) -> Variable:
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"{type(op).__name__}: second parameter must be a scalar, got {val.type}")
    val = cast(val, upcast(a.dtype, val.dtype))
    if val.dtype != a.dtype:
        raise TypeError(f"{type(op).__name__}: type of second parameter must be the same as the "
                        f"first's (a is {a.dtype}, val would upcast it to {val.dtype})")
    return val


class FillDiagonal(Op):
    """A copy of ``a`` with its main diagonal ``a[i, i, ..., i]`` set to the scalar ``val``.

    Matrices may be rectangular (``min(rows, columns)`` entries, no wrapping); more
    dimensions must all have the same length, as ``numpy.fill_diagonal``.
    """

    __props__ = ()

    def make_node(self, a, val):
        a = as_tensor_variable(a)
        if a.ndim < 2:
            raise TypeError(f"{type(self).__name__}: first parameter must have at least two "
                            f"dimensions, got {a.type}")
        return Apply(self, [a, _fill_value(self, a, val)], [a.type()])

    def perform(self, node, inputs, out):
        a, val = inputs
        a = np.array(a, copy=True)
        if a.ndim > 2 and len(set(a.shape)) > 1:
            raise ValueError(f"fill_diagonal: all dimensions of a tensor of more than two "
                             f"dimensions must have equal length, got shape {a.shape}")
        k = np.arange(min(a.shape))
        a[(k,) * a.ndim] = val
        out[0][0] = a

    def L_op(self, inputs, outputs, grads):
        a, val = inputs
        (gz,) = grads
        if a.dtype in discrete_dtypes:
            return [_zero_grad(a), _zero_grad(val)]
        ga = fill_diagonal(gz, 0)
        return [ga, _diagonal_sum(gz, ga)]

    def R_op(self, inputs, eval_points):
        a, val = inputs
        ea, ev = eval_points
        if ea is None and ev is None:
            return [None]
        return [self(zeros_like(a) if ea is None else ea, zeros_like(val) if ev is None else ev)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


def _diagonal_sum(gz: Variable, without_diagonal: Variable) -> Variable:
    """The sum of ``gz`` over the filled entries: ``gz`` minus ``gz`` with them zeroed is
    exactly ``gz`` there and exactly 0 elsewhere."""
    from thx.tensor.math import sum as _sum
    return _sum(gz - without_diagonal)


fill_diagonal_ = FillDiagonal()


def fill_diagonal(a: Any, val: Any) -> Variable:
    """A copy of ``a`` with the main diagonal set to the scalar ``val`` (Theano's ``fill_diagonal``).

    ``val`` must not upcast ``a`` (a float into an integer matrix raises ``TypeError``).
    The gradient w.r.t. ``a`` is the output gradient with its diagonal zeroed, w.r.t.
    ``val`` the sum of its diagonal.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.fill_diagonal(m, 5.).eval({m: [[1., 2., 3.], [4., 5., 6.]]})
    array([[5., 2., 3.],
           [4., 5., 6.]])
    """
    return fill_diagonal_(a, val)


class FillDiagonalOffset(Op):
    """A copy of the matrix ``a`` with the diagonal ``offset`` (above the main one if positive,
    below if negative) set to the scalar ``val``; no wrapping for tall matrices."""

    __props__ = ()

    def make_node(self, a, val, offset):
        a = as_tensor_variable(a)
        if a.ndim != 2:
            raise TypeError(f"{type(self).__name__}: first parameter must have exactly two "
                            f"dimensions, got {a.type}")
        val = _fill_value(self, a, val)
        offset = as_tensor_variable(offset)
        if offset.ndim != 0:
            raise TypeError(f"{type(self).__name__}: third parameter must be a scalar, got {offset.type}")
        if offset.dtype not in _INDEX_DTYPES:
            raise TypeError(f"{type(self).__name__}: type of third parameter must be an integer, got "
                            f"{offset.type}; use thx.tensor.cast(offset, 'int64')")
        return Apply(self, [a, val, offset], [a.type()])

    def perform(self, node, inputs, out):
        a, val, offset = inputs
        a = np.array(a, copy=True)
        rows, cols = np.indices(a.shape)
        a[cols - rows == int(offset)] = val
        out[0][0] = a

    def L_op(self, inputs, outputs, grads):
        a, val, offset = inputs
        (gz,) = grads
        if a.dtype in discrete_dtypes:
            return [_zero_grad(a), _zero_grad(val), _disconnected()]
        ga = fill_diagonal_offset(gz, 0, offset)
        return [ga, _diagonal_sum(gz, ga), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def R_op(self, inputs, eval_points):
        a, val, offset = inputs
        ea, ev, _ = eval_points
        if ea is None and ev is None:
            return [None]
        return [self(zeros_like(a) if ea is None else ea, zeros_like(val) if ev is None else ev, offset)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


fill_diagonal_offset_ = FillDiagonalOffset()


def fill_diagonal_offset(a: Any, val: Any, offset: Any) -> Variable:
    """A copy of the matrix ``a`` with the diagonal ``offset`` set to ``val`` (Theano's function).

    ``offset`` is an integer scalar (constant or symbolic): positive above the main
    diagonal, negative below.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.extra_ops.fill_diagonal_offset(m, 0., -1).eval({m: [[1., 2.], [3., 4.], [5., 6.]]})
    array([[1., 2.],
           [0., 4.],
           [5., 0.]])
    """
    return fill_diagonal_offset_(a, val, offset)


# ---------------------------------------------------------------------- one-hot


def to_one_hot(y: Any, nb_class: Any, dtype: str | None = None) -> Variable:
    """A matrix whose row ``i`` is the one-hot encoding of ``y[i]`` (Theano's ``to_one_hot``).

    Parameters
    ----------
    y : integer vector
        Values in ``[0, nb_class)`` (others raise ``IndexError``, as Theano's ``set_subtensor``).
    nb_class : int or integer scalar
        The number of classes (columns).
    dtype : str, optional
        The result's dtype, ``config.floatX`` by default.

    Examples
    --------
    >>> import thx.tensor as T
    >>> y = T.lvector('y')
    >>> T.extra_ops.to_one_hot(y, 3).eval({y: [2, 0]})
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    y = as_tensor_variable(y)
    if y.ndim != 1 or y.dtype not in _INDEX_DTYPES:
        raise TypeError(f"to_one_hot: y must be a vector of integers, got {y.type}")
    n = shape(y)[0]
    out = zeros((n, nb_class), dtype=dtype or config.floatX)
    return set_subtensor(out[arange(n), y], 1)


# ---------------------------------------------------------------------- index conversions


def _vector_length(v: Variable, what: str) -> int:
    """The number of entries of a vector, when it is known as the graph is built."""
    if isinstance(v, Constant):
        return int(np.asarray(v.data).shape[0])
    if v.owner is not None and isinstance(v.owner.op, MakeVector):
        return len(v.owner.inputs)
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return v.owner.inputs[0].ndim
    if v.broadcastable[0]:
        return 1
    raise ValueError(f"{what}: the length of dims must be known when the graph is built (a tuple, "
                     f"a constant or a shape), got {v}")


def _dims_vector(dims: Any, what: str) -> Variable:
    if isinstance(dims, (list, tuple)) and all(isinstance(d, (int, np.integer)) for d in dims):
        dims = constant(np.asarray(dims, dtype="int64").reshape(-1))
    dims = as_tensor_variable(dims)
    _check_index_dtype(dims, f"{what}: dims")
    if dims.ndim != 1:
        raise TypeError(f"{what}: dims must be a 1D array, got {dims.type}")
    return dims if dims.dtype == "int64" else cast(dims, "int64")


class UnravelIndex(NotDifferentiable, Op):
    """``numpy.unravel_index``: flat indices into a tensor of shape ``dims`` -> one coordinate
    tensor per dimension (int64, shaped like ``indices``)."""

    __props__ = ("order",)

    def __init__(self, order: str = "C") -> None:
        if order not in ("C", "F"):
            raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
        self.order = order

    def make_node(self, indices, dims):
        indices = as_tensor_variable(indices)
        _check_index_dtype(indices, "unravel_index: indices")
        dims = _dims_vector(dims, "unravel_index")
        n = _vector_length(dims, "unravel_index")
        return Apply(self, [indices, dims],
                     [TensorType("int64", indices.broadcastable)() for _ in range(n)])

    def perform(self, node, inputs, out):
        indices, dims = inputs
        for o, r in zip(out, np.unravel_index(indices, tuple(int(d) for d in dims), order=self.order)):
            o[0] = np.array(r, dtype="int64")

    def R_op(self, inputs, eval_points):
        return [None] * _vector_length(inputs[1], "unravel_index")  # one per coordinate output

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])] * len(node.outputs)


def unravel_index(indices: Any, dims: Any, order: str = "C") -> tuple[Variable, ...]:
    """Flat indices -> a tuple of coordinate tensors for a tensor of shape ``dims`` (``numpy.unravel_index``).

    Parameters
    ----------
    indices : integer tensor
        Indices into the flattened tensor (out-of-range ones raise ``ValueError``).
    dims : tuple of ints, or integer vector of known length
    order : {'C', 'F'}
        Row-major (default) or column-major flattening.

    Returns
    -------
    tuple of Variable
        One int64 tensor per dimension, shaped like ``indices``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> i = T.lvector('i')
    >>> rows, cols = T.unravel_index(i, (3, 4))
    >>> rows.eval({i: [1, 5, 11]}), cols.eval({i: [1, 5, 11]})
    (array([0, 1, 2]), array([1, 1, 3]))
    """
    res = UnravelIndex(order)(indices, dims)
    return tuple(res) if isinstance(res, list) else (res,)


class RavelMultiIndex(Op):
    """``numpy.ravel_multi_index``: one index tensor per dimension of ``dims`` -> flat indices.

    Inputs are the index tensors then ``dims``; ``mode`` handles out-of-range indices
    ('raise', 'wrap', 'clip').
    """

    __props__ = ("mode", "order")

    def __init__(self, mode: str = "raise", order: str = "C") -> None:
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
        if order not in ("C", "F"):
            raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
        self.mode = mode
        self.order = order

    def make_node(self, *inputs):
        if len(inputs) < 2:
            raise TypeError("ravel_multi_index: give at least one index tensor and dims")
        idx = [as_tensor_variable(i) for i in inputs[:-1]]
        for k, i in enumerate(idx):
            _check_index_dtype(i, f"ravel_multi_index: multi_index[{k}]")
        dims = _dims_vector(inputs[-1], "ravel_multi_index")
        try:
            n = _vector_length(dims, "ravel_multi_index")
        except ValueError:
            n = len(idx)
        if n != len(idx):
            raise ValueError(f"ravel_multi_index: parameter multi_index must be a sequence of length "
                             f"{n} (the length of dims), got {len(idx)}")
        nd = max(i.ndim for i in idx)
        bcast = [all(i.broadcastable[d - (nd - i.ndim)] for i in idx if d >= nd - i.ndim)
                 for d in range(nd)]
        return Apply(self, idx + [dims], [TensorType("int64", bcast)()])

    def perform(self, node, inputs, out):
        *idx, dims = inputs
        out[0][0] = np.asarray(np.ravel_multi_index(tuple(idx), tuple(int(d) for d in dims),
                                                    mode=self.mode, order=self.order), dtype="int64")

    def L_op(self, inputs, outputs, grads):
        return [_disconnected() for _ in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]

    def R_op(self, inputs, eval_points):
        return [None]


def ravel_multi_index(multi_index: Sequence[Any], dims: Any, mode: str = "raise",
                      order: str = "C") -> Variable:
    """A tuple of index tensors -> flat indices into a tensor of shape ``dims`` (``numpy.ravel_multi_index``).

    Parameters
    ----------
    multi_index : tuple or list of integer tensors
        One per dimension (they broadcast together).
    dims : tuple of ints, or integer vector
    mode : {'raise', 'wrap', 'clip'}
        Out-of-range indices raise ``ValueError`` (default), wrap around, or are clipped.
    order : {'C', 'F'}

    Examples
    --------
    >>> import thx.tensor as T
    >>> r, c = T.lvectors('r', 'c')
    >>> T.ravel_multi_index((r, c), (3, 4)).eval({r: [0, 1, 2], c: [1, 1, 3]})
    array([ 1,  5, 11])
    """
    if not isinstance(multi_index, (tuple, list)):
        raise TypeError(f"ravel_multi_index: multi_index must be a tuple or a list, got "
                        f"{type(multi_index).__name__}")
    return RavelMultiIndex(mode, order)(*multi_index, dims)


# ---------------------------------------------------------------------- searchsorted


class SearchsortedOp(Op):
    """``numpy.searchsorted``: where each value of ``v`` goes in the sorted vector ``x``
    (inputs ``[x, v]`` or ``[x, v, sorter]``)."""

    __props__ = ("side",)

    def __init__(self, side: str = "left") -> None:
        if side not in ("left", "right"):
            raise ValueError(f"'{side}' is an invalid value for keyword 'side' (expected 'left' or 'right')")
        self.side = side

    def make_node(self, x, v, sorter=None):
        x = as_tensor_variable(x)
        if x.ndim != 1:
            raise TypeError(f"searchsorted: x must be a sorted vector, got {x.type}")
        v = as_tensor_variable(v)
        ins = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.ndim != 1 or sorter.dtype not in _INDEX_DTYPES:
                raise TypeError(f"searchsorted: sorter must be an integer vector, got {sorter.type}")
            ins.append(sorter)
        return Apply(self, ins, [TensorType("int64", v.broadcastable)()])

    def perform(self, node, inputs, out):
        x, v, *sorter = inputs
        out[0][0] = np.asarray(np.searchsorted(x, v, side=self.side, sorter=sorter[0] if sorter else None),
                               dtype="int64")

    def L_op(self, inputs, outputs, grads):
        # piecewise constant in x and v (Theano: float zeros); sorter is an integer permutation
        return [_zero_grad(inputs[0]), _zero_grad(inputs[1])] + [_disconnected()] * (len(inputs) - 2)

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)

    def R_op(self, inputs, eval_points):
        return [None]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]


def searchsorted(x: Any, v: Any, side: str = "left", sorter: Any = None) -> Variable:
    """Indices where the values ``v`` would be inserted into the sorted vector ``x`` (``numpy.searchsorted``).

    Parameters
    ----------
    x : vector
        Sorted ascending, or put in order by ``sorter``.
    v : tensor
        The values to place; the result has its shape.
    side : {'left', 'right'}
        The first suitable position (default) or the last.
    sorter : integer vector, optional
        Indices sorting ``x`` (typically ``argsort(x)``).

    Returns
    -------
    Variable
        int64 insertion points; the gradient w.r.t. ``x`` and ``v`` is zero.

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.extra_ops.searchsorted([1, 2, 3, 4, 5], [-10, 10, 2, 3]).eval()
    array([0, 5, 1, 2])
    >>> T.extra_ops.searchsorted([1, 2, 3, 4, 5], 3, side='right').eval()
    array(3)
    """
    return SearchsortedOp(side=side)(x, v, sorter)


def cpu_contiguous(x: Any) -> Variable:
    """``x`` (Theano's ``cpu_contiguous`` made a C-contiguous copy for C code; XLA's arrays have no
    strides, so it is an identity, which the optimizer removes)."""
    return E.identity(as_tensor_variable(x))
