"""Theano's ``theano.tensor.sort``: sort, argsort, and the k largest (or smallest) entries.

``T.sort`` is both Theano's function ``T.sort(a, axis)`` and this module
(``from theano.tensor.sort import argsort``, ``T.sort.argsort``): the module is callable
(``_SortModule`` at the end), so importing it under any name never hides the function.

Every sort is stable (JAX's): equal values keep their input order whatever ``kind`` says,
which is one of the orders NumPy's quicksort may give.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.basic import arange, zeros_like
from thx.tensor.elemwise import _zero_grad, cast
from thx.tensor.shape import NotScalarConstantError, _disconnected, flatten, get_scalar_constant_value, shape
from thx.tensor.subtensor import getitem, set_subtensor
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable

__all__ = ["SortOp", "sort", "ArgSortOp", "argsort", "TopKOp", "topk", "argtopk", "topk_and_argtopk"]

KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _axis_input(axis: Any, a: Variable, what: str) -> Variable:
    """``axis`` as an integer scalar input, checked against ``a`` when it is a constant."""
    axis = as_tensor_variable(axis)
    if axis.ndim != 0 or axis.dtype not in discrete_dtypes or axis.dtype == "bool":
        raise TypeError(f"{what}: axis must be an integer scalar or None, got {axis.type}")
    k = _constant_axis(axis)
    if k is not None and not -a.ndim <= k < a.ndim:
        raise ValueError(f"{what}: axis {k} is out of bounds for a tensor of {a.ndim} dimensions")
    return axis


def _constant_axis(axis: Variable) -> int | None:
    try:
        return int(get_scalar_constant_value(axis))
    except NotScalarConstantError:
        return None


def _along_axis(idx: Variable, axis: Variable | int) -> tuple[Variable, ...]:
    """The index tuple reading ``y[..., idx[..., k, ...], ...]``: ``idx`` on ``axis``, and on
    every other axis the positions ``0..n-1`` (broadcast), as ``numpy.take_along_axis``.

    A symbolic ``axis`` picks ``idx`` or the positions per dimension with a switch (Theano's way).
    """
    nd = idx.ndim
    k = axis if isinstance(axis, int) else _constant_axis(axis)
    out = []
    for d in range(nd):
        grid = arange(shape(idx)[d]).dimshuffle(["x"] * d + [0] + ["x"] * (nd - d - 1))
        if k is not None:
            out.append(idx if d == k % nd else grid)
        else:
            norm = E.switch(E.lt(axis, 0), axis + nd, axis)
            out.append(E.switch(E.eq(norm, d), idx, grid))
    return tuple(out)


class _SortBase:
    """Shared by SortOp and ArgSortOp: ``kind``/``order`` and the ``(a, axis)`` inputs (a mixin,
    not an op of its own)."""

    __props__ = ("kind", "order")

    def __init__(self, kind: str = "quicksort", order: Any = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"{type(self).__name__}: kind must be one of {', '.join(map(repr, KINDS))}, "
                             f"got {kind!r}")
        if order is not None:
            raise ValueError(f"{type(self).__name__}: order names fields of a structured array; thx "
                             f"tensors have no fields (NumPy: Cannot specify order when the array has "
                             f"no fields), got order={order!r}")
        self.kind = kind
        self.order = order

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{self.kind}, {self.order}}}"

    def _inputs(self, a: Any, axis: Any) -> list[Variable]:
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError(f"{type(self).__name__}: cannot sort a scalar ({a.type}); axis "
                             f"{axis} is out of bounds for a tensor of 0 dimensions")
        return [a, _axis_input(axis, a, type(self).__name__)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


class SortOp(_SortBase, Op):
    """A sorted copy of ``a`` along ``axis`` (``numpy.sort``); inputs ``[a, axis]``."""

    def make_node(self, input, axis=-1):
        a, axis = self._inputs(input, axis)
        return Apply(self, [a, axis], [a.type()])

    def perform(self, node, inputs, out):
        a, axis = inputs
        out[0][0] = np.sort(a, axis=int(axis), kind="stable")

    def L_op(self, inputs, outputs, grads):
        a, axis = inputs
        (gz,) = grads
        if a.dtype in discrete_dtypes:
            return [_zero_grad(a), _disconnected()]
        # out[..., k, ...] = a[..., p[k], ...] with p = argsort(a): the gradient is gz scattered
        # back through the permutation, ga[..., p[k], ...] = gz[..., k, ...]
        p = ArgSortOp(self.kind, self.order)(a, axis)
        ga = set_subtensor(getitem(zeros_like(a, dtype=gz.dtype), _along_axis(p, axis)), gz)
        return [ga if ga.dtype == a.dtype else cast(ga, a.dtype), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        a, axis = inputs
        if eval_points[0] is None:
            return [None]
        p = ArgSortOp(self.kind, self.order)(a, axis)
        return [getitem(eval_points[0], _along_axis(p, axis))]


def sort(a: Any, axis: Any = -1, kind: str = "quicksort", order: Any = None) -> Variable:
    """A sorted copy of ``a`` along ``axis`` (``numpy.sort``; Theano's ``T.sort``).

    Parameters
    ----------
    a : tensor
    axis : int, integer scalar or None
        The axis to sort along (default: the last); None sorts the flattened tensor.
    kind : {'quicksort', 'mergesort', 'heapsort', 'stable'}
        Accepted for NumPy's signature; thx always sorts stably.
    order : None
        Only for structured arrays, which thx does not have.

    Returns
    -------
    Variable
        Its gradient scatters the output gradient back through the sorting permutation.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.sort(m).eval({m: [[3., 1., 2.], [0., 5., 4.]]})
    array([[1., 2., 3.],
           [0., 4., 5.]])
    >>> T.sort(m, axis=None).eval({m: [[3., 1.], [0., 5.]]})
    array([0., 1., 3., 5.])
    """
    if axis is None:
        a, axis = flatten(a), 0
    return SortOp(kind, order)(a, axis)


class ArgSortOp(_SortBase, Op):
    """The indices sorting ``a`` along ``axis`` (``numpy.argsort``, int64); inputs ``[a, axis]``."""

    def make_node(self, input, axis=-1):
        a, axis = self._inputs(input, axis)
        return Apply(self, [a, axis], [TensorType("int64", a.broadcastable)()])

    def perform(self, node, inputs, out):
        a, axis = inputs
        out[0][0] = np.argsort(a, axis=int(axis), kind="stable").astype("int64")

    def L_op(self, inputs, outputs, grads):
        # piecewise constant: zero (Theano 1.0 returns zeros_like(a)); the axis is an integer
        return [_zero_grad(inputs[0]), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        return [None]


def argsort(a: Any, axis: Any = -1, kind: str = "quicksort", order: Any = None) -> Variable:
    """The int64 indices that sort ``a`` along ``axis`` (``numpy.argsort``; Theano's ``T.argsort``).

    ``axis=None`` works on the flattened tensor.  Ties keep their input order (stable).
    The gradient w.r.t. ``a`` is zero.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.argsort(v).eval({v: [0.3, 0.1, 0.2]})
    array([1, 2, 0])
    """
    if axis is None:
        a, axis = flatten(a), 0
    return ArgSortOp(kind, order)(a, axis)


# ---------------------------------------------------------------------- top k


def check_kth(k: int, n: int, axis: int) -> None:
    """Theano's errors for a ``kth`` that does not fit an axis of length ``n``."""
    if k == 0:
        raise ValueError("topk: kth cannot be zero")
    if abs(k) > n:
        raise ValueError(f"topk: kth cannot be larger than the size of specified axis {axis} "
                         f"(|kth| = {abs(k)}, size {n})")


def topk_numpy(x: np.ndarray, k: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``|k|`` largest (``k > 0``, descending) or smallest (``k < 0``, ascending) entries of
    ``x`` along ``axis`` and their indices; ties in input order (``jax.lax.top_k``'s order)."""
    n = x.shape[axis]
    check_kth(k, n, axis)
    if k > 0:  # descending, ties first-come: the stable ascending order of the reversed axis, reversed
        rev = np.flip(x, axis)
        idx = (n - 1) - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)
    else:
        idx = np.argsort(x, axis=axis, kind="stable")
    idx = np.take(idx, np.arange(abs(k)), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx


class TopKOp(Op):
    """The ``|kth|`` largest entries along ``axis`` (smallest for a negative ``kth``) and/or their
    indices; inputs ``[x, kth]``.  ``kth`` sets the output length, so it must be known when the
    function is compiled (a static input)."""

    __props__ = ("axis", "sorted", "return_values", "return_indices", "idx_dtype")

    def __init__(self, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64",  # noqa: A002
                 return_values: bool = True, return_indices: bool = True) -> None:
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f'topk: "axis" parameter must be integer, got "{type(axis).__name__}"')
        if idx_dtype not in discrete_dtypes or idx_dtype == "bool":
            raise TypeError(f'topk: "idx_dtype" parameter must be an integer dtype, got "{idx_dtype}"')
        if not (return_indices or return_values):
            raise ValueError("topk: neither return_values nor return_indices is True, this isn't allowed")
        self.axis = int(axis)
        self.sorted = bool(sorted)
        self.return_values = bool(return_values)
        self.return_indices = bool(return_indices)
        self.idx_dtype = idx_dtype

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axis={self.axis}, sorted={self.sorted}}}"

    def make_node(self, inp, kth):
        x = as_tensor_variable(inp)
        if x.ndim == 0:
            raise ValueError(f"topk: cannot take a scalar as input, got {x.type}")
        if not -x.ndim <= self.axis < x.ndim:
            raise IndexError(f'topk: "axis" parameter out of range, expected integer within '
                             f'[{-x.ndim}, {x.ndim - 1}], got {self.axis}')
        kth = as_tensor_variable(kth)
        if kth.ndim != 0 or kth.dtype not in discrete_dtypes or kth.dtype == "bool":
            raise ValueError(f"topk: kth is expected to be an integer scalar, got {kth.type}")
        bcast = list(x.broadcastable)
        bcast[self.axis] = False
        outs = []
        if self.return_values:
            outs.append(TensorType(x.dtype, bcast)())
        if self.return_indices:
            outs.append(TensorType(self.idx_dtype, bcast)())
        return Apply(self, [x, kth], outs)

    def perform(self, node, inputs, out):
        x, k = inputs
        vals, idx = topk_numpy(np.asarray(x), int(k), self.axis % np.ndim(x))
        res = ([vals] if self.return_values else []) + ([idx.astype(self.idx_dtype)] if self.return_indices else [])
        for o, r in zip(out, res):
            o[0] = r

    def L_op(self, inputs, outputs, grads):
        x, kth = inputs
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x), _disconnected()]
        if not self.return_indices:
            from thx.gradient import grad_undefined
            return [grad_undefined(self, 0, x, "topk: cannot get gradient without both indices and values"),
                    _disconnected()]
        # values = x[..., idx, ...] along axis: the gradient goes back to the entries chosen
        gz = grads[0]
        gx = set_subtensor(getitem(zeros_like(x, dtype=gz.dtype), _along_axis(outputs[-1], self.axis)), gz)
        return [gx if gx.dtype == x.dtype else cast(gx, x.dtype), _disconnected()]

    def connection_pattern(self, node):
        flags = ([True] if self.return_values else []) + ([False] if self.return_indices else [])
        return [flags, [False] * len(flags)]

    def R_op(self, inputs, eval_points):
        x, kth = inputs
        n_out = self.return_values + self.return_indices
        if eval_points[0] is None or not self.return_values:
            return [None] * n_out
        idx = TopKOp(self.axis, self.sorted, self.idx_dtype, False, True)(x, kth)
        return [getitem(eval_points[0], _along_axis(idx, self.axis))] + [None] * (n_out - 1)

    def infer_shape(self, fgraph, node, input_shapes):
        shp = list(input_shapes[0])
        shp[self.axis] = cast(abs(node.inputs[1]), "int64")
        return [tuple(shp)] * len(node.outputs)


def _flat_if_none(x: Any, axis: int | None) -> tuple[Variable, int]:
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x), 0
    return x, axis


def topk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True,  # noqa: A002
         idx_dtype: str = "int64") -> Variable:
    """The ``kth`` largest entries of ``x`` along ``axis`` (the ``-kth`` smallest if ``kth < 0``).

    Parameters
    ----------
    x : tensor
    kth : int or integer scalar
        Not 0 and at most the length of ``axis``; it sets the output's length, so a symbolic
        one becomes a static argument of the compiled function.
    axis : int or None
        None works on the flattened tensor.
    sorted : bool
        Theano 1.0 had only ``sorted=False`` (any order); thx always returns the largest in
        descending order (the smallest ascending), which both settings accept.
    idx_dtype : str
        The integer dtype of the indices (``argtopk``).

    Returns
    -------
    Variable
        Of ``x``'s dtype; its gradient goes back to the chosen entries.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.topk(v, 2).eval({v: [0.3, 0.9, 0.1, 0.5]})
    array([0.9, 0.5])
    >>> T.topk(v, -2).eval({v: [0.3, 0.9, 0.1, 0.5]})
    array([0.1, 0.3])
    """
    x, axis = _flat_if_none(x, axis)
    return TopKOp(axis, sorted, idx_dtype)(x, kth)[0]


def argtopk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True,  # noqa: A002
            idx_dtype: str = "int64") -> Variable:
    """The indices of the ``kth`` largest entries of ``x`` along ``axis`` (smallest if ``kth < 0``).

    Same arguments as ``topk``; ties are listed in input order.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.argtopk(v, 2).eval({v: [0.3, 0.9, 0.1, 0.5]})
    array([1, 3])
    """
    x, axis = _flat_if_none(x, axis)
    return TopKOp(axis, sorted, idx_dtype)(x, kth)[1]


def topk_and_argtopk(x: Any, kth: Any, axis: int | None = -1, sorted: bool = True,  # noqa: A002
                     idx_dtype: str = "int64") -> tuple[Variable, Variable]:
    """``(topk(x, kth, axis), argtopk(x, kth, axis))`` computed by one op.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> vals, idx = T.topk_and_argtopk(v, 1)
    >>> idx.eval({v: [0.3, 0.9, 0.1]})
    array([1])
    """
    x, axis = _flat_if_none(x, axis)
    vals, idx = TopKOp(axis, sorted, idx_dtype)(x, kth)
    return vals, idx


class _SortModule(types.ModuleType):
    """This module, callable as Theano's ``T.sort(a, axis, kind, order)``.

    Theano's ``theano.tensor`` binds the name ``sort`` to the function, and an import of the
    module ``theano.tensor.sort`` under the ``theano`` alias would rebind it to the module (the
    import system sets a package attribute for every new submodule name): a callable module
    is right either way.
    """

    def __call__(self, a: Any, axis: Any = -1, kind: str = "quicksort", order: Any = None) -> Variable:
        return sort(a, axis, kind, order)


sys.modules[__name__].__class__ = _SortModule
