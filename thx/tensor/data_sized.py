"""Ops whose output length depends on the values of their inputs, not only on their shapes:
``bincount`` (``max(x) + 1`` bins), ``unique`` (the number of distinct values) and
``FlatNonzero`` (the positions of the non-zero entries, read by ``extra_ops.compress`` and by
Theano's ``nonzero``, ``flatnonzero`` and ``nonzero_values``, which live here too) and
``RepeatIndex`` (the positions ``repeat`` reads for a vector of repeats).

XLA compiles static shapes only, so these ops are *host barriers* (``host_barrier = True``, as
an ``until`` scan): a function holding one runs as jitted segments, the op runs between them on
concrete values (its NumPy function, shared with ``perform``) and the segment after it is
compiled for the length it found (``thx/lowering/segments.py``; docs/api.md, "Data-dependent
lengths").  Inside a loop's step there is no host between segments: ``bincount`` then needs
``minlength`` as a constant bound, and ``unique``/``compress``/``nonzero`` & co. raise a clear
error.  Theano's names for them live in ``thx.tensor.extra_ops``, which re-exports this module,
and (``nonzero``, ``flatnonzero``, ``nonzero_values``) in ``thx.tensor`` and ``thx.tensor.basic``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.tensor.elemwise import _zero_grad, cast, int_div, mod
from thx.tensor.shape import NotDifferentiable, _disconnected, flatten, unbroadcast
from thx.tensor.subtensor import getitem, take
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable, constant

__all__ = ["BinCount", "bincount", "FlatNonzero", "compress", "flatnonzero", "nonzero",
           "nonzero_values", "RepeatIndex", "repeat_index", "Unique", "unique"]

_INDEX_DTYPES = tuple(d for d in discrete_dtypes if d != "bool")

# ---------------------------------------------------------------------- bincount


# the errors for negative values in x: Theano's assertion (assert_nonneg=True), else NumPy's refusal
NEGATIVE_ASSERT = "Input to bincount has negative values!"
NEGATIVE_VALUE = ("bincount: x holds the negative value {}; bincount counts non-negative integers "
                  "(assert_nonneg=True checks this with Theano's AssertionError)")


def bincount_numpy(x: Any, weights: Any, minlength: Any, assert_nonneg: bool, dtype: str) -> np.ndarray:
    """``bincount``'s value with NumPy (its ``perform`` and its lowering's host step)."""
    x = np.asarray(x)
    if x.size and x.min() < 0:
        if assert_nonneg:
            raise AssertionError(NEGATIVE_ASSERT)
        raise ValueError(NEGATIVE_VALUE.replace("{}", str(int(x.min()))))
    if weights is not None and np.shape(weights) != x.shape:
        raise ValueError(f"bincount: weights and x must have the same length, got "
                         f"{np.shape(weights)[0]} weights for {x.shape[0]} values")
    n = max(int(np.asarray(minlength)), 0)
    out = np.bincount(x.astype(np.int64), weights=None if weights is None else np.asarray(weights),
                      minlength=n)
    return out.astype(dtype)


class BinCount(Op):
    """``bincount(x, weights, minlength)``: counts (or summed weights) of each non-negative integer.

    Inputs are ``[x, minlength]`` or ``[x, weights, minlength]``.  The output's length,
    ``max(max(x) + 1, minlength)``, is only known at run time: a host barrier (module docstring).
    """

    __props__ = ("assert_nonneg",)
    host_barrier = True  # its length is a run-time value: the linker runs it between jitted segments

    def __init__(self, assert_nonneg: bool = False) -> None:
        self.assert_nonneg = bool(assert_nonneg)

    def make_node(self, x, *rest):
        x = as_tensor_variable(x)
        if x.ndim != 1:
            raise TypeError(f"bincount: x must be a vector (Inputs must be of dimension 1.), got {x.type}")
        if x.dtype not in discrete_dtypes:
            raise TypeError(f"bincount: x must hold integers, got {x.type}")
        if x.dtype == "bool":
            x = cast(x, "int64")
        *w, minlength = rest
        ins = [x]
        dtype = x.dtype
        if w:
            weights = as_tensor_variable(w[0])
            if weights.ndim != 1:
                raise TypeError(f"bincount: weights must be a vector like x, got {weights.type}")
            ins.append(weights)
            dtype = weights.dtype
        minlength = as_tensor_variable(minlength)
        if minlength.ndim != 0 or minlength.dtype not in _INDEX_DTYPES:
            raise TypeError(f"bincount: minlength must be an integer scalar or None, got {minlength.type}")
        return Apply(self, ins + [minlength], [TensorType(dtype, (False,))()])

    def perform(self, node, inputs, out):
        x, *w, minlength = inputs
        out[0][0] = bincount_numpy(x, w[0] if w else None, minlength, self.assert_nonneg,
                                   node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        # out[x[i]] += weights[i]  =>  g_weights[i] = gz[x[i]]; x and minlength are integers
        x, *w, _ = inputs
        if not w:
            return [_disconnected(), _disconnected()]
        weights = w[0]
        gw = _zero_grad(weights) if weights.dtype in discrete_dtypes else getitem(grads[0], x)
        gw = gw if gw.dtype == weights.dtype or weights.dtype in discrete_dtypes else cast(gw, weights.dtype)
        return [_disconnected(), gw, _disconnected()]

    def connection_pattern(self, node):
        return [[len(node.inputs) == 3 and k == 1] for k in range(len(node.inputs))]

    def R_op(self, inputs, eval_points):
        if len(inputs) == 2 or eval_points[1] is None:
            return [None]
        return [self(inputs[0], eval_points[1], inputs[2])]

    # No infer_shape: max(x) + 1 written as a graph would move the length back into the jitted
    # segment, where XLA cannot use it; Shape(bincount(x)) stays, and is concrete after the barrier.


def bincount(x: Any, weights: Any = None, minlength: Any = None, assert_nonneg: bool = False) -> Variable:
    """Count the occurrences of each value of a vector of non-negative integers (``numpy.bincount``).

    Parameters
    ----------
    x : integer vector
        Non-negative values (a negative one raises ``ValueError``; with ``assert_nonneg=True``
        Theano's ``AssertionError('Input to bincount has negative values!')``).
    weights : vector, optional
        Summed per bin instead of counting ones (``out[x[i]] += weights[i]``); differentiable.
    minlength : int or integer scalar, optional
        The least number of bins.
    assert_nonneg : bool
        Check that ``x`` has no negative value (Theano's flag).

    Returns
    -------
    Variable
        A vector of length ``max(max(x) + 1, minlength)``, of ``x``'s dtype (``weights``'
        dtype with weights), as Theano builds it.

    Notes
    -----
    The length is only known once ``x`` is: the function runs as jitted segments and this
    node runs between them on the host (docs/api.md, "Data-dependent lengths").  Inside a
    scan step, give ``minlength`` as a constant upper bound: the output then has exactly
    ``minlength`` bins and a larger value raises ``ValueError``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.lvector('x')
    >>> f = thx.function([x], T.bincount(x))
    >>> f([0, 1, 1, 3])
    array([1, 2, 0, 1])
    >>> T.bincount(x, minlength=6).eval({x: [0, 1, 1, 3]})
    array([1, 2, 0, 1, 0, 0])
    """
    x = as_tensor_variable(x)
    minlength = constant(0, dtype="int64") if minlength is None else minlength
    op = BinCount(assert_nonneg)
    return op(x, minlength) if weights is None else op(x, weights, minlength)


class FlatNonzero(NotDifferentiable, Op):
    """The positions of the non-zero entries of the flattened input (``numpy.flatnonzero``).

    The input may have any number of dimensions (NumPy flattens it in C order).  The number of
    positions is a run-time value: a host barrier (module docstring).  ``compress`` reads ``x``
    at them; ``flatnonzero``, ``nonzero`` and ``nonzero_values`` are built on it.
    """

    __props__ = ()
    host_barrier = True  # its length is a run-time value: the linker runs it between jitted segments

    def make_node(self, a):
        a = as_tensor_variable(a)
        return Apply(self, [a], [TensorType("int64", (False,))()])

    def perform(self, node, inputs, out):
        out[0][0] = np.flatnonzero(inputs[0]).astype("int64")


def compress(condition: Any, x: Any, axis: int | None = None) -> Variable:
    """The slices of ``x`` along ``axis`` where ``condition`` is non-zero (``numpy.compress``).

    ``axis=None`` works on the flattened ``x``.  Built as Theano does, ``x.take(flatnonzero(condition),
    axis)``, so the gradient w.r.t. ``x`` is the take's.  The number of slices is only known
    at run time: the positions are computed on the host between jitted segments (docs/api.md,
    "Data-dependent lengths"), which a loop's step cannot do.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.extra_ops.compress([1, 0, 1], m, axis=1).eval({m: [[1., 2., 3.], [4., 5., 6.]]})
    array([[1., 3.],
           [4., 6.]])
    """
    condition = as_tensor_variable(condition)
    x = as_tensor_variable(x)
    if condition.ndim != 1:
        raise ValueError(f"compress: condition must be a 1-d array, got {condition.type}")
    if axis is not None and not -x.ndim <= axis < x.ndim:
        raise ValueError(f"compress: axis {axis} is out of bounds for a tensor of {x.ndim} dimensions")
    return take(x, FlatNonzero()(condition), axis=axis)


# ---------------------------------------------------------------------- nonzero & co.

SCALAR_NONZERO = ("{}: the input must have at least one dimension, got a scalar {} (Theano: "
                  "'Nonzero only supports non-scalar arrays.'); use T.neq(a, 0) for a 0-d tensor")


def _non_scalar(a: Any, what: str) -> Variable:
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError(SCALAR_NONZERO.format(what, a.type))
    return a


def flatnonzero(a: Any) -> Variable:
    """The indices of the non-zero entries of the flattened ``a`` (``numpy.flatnonzero``).

    Parameters
    ----------
    a : tensor
        Of at least one dimension, any dtype (bool: its true entries).

    Returns
    -------
    Variable
        An int64 vector of positions into ``a.flatten()`` (C order), increasing.

    Raises
    ------
    ValueError
        For a 0-d ``a``, as Theano.

    Notes
    -----
    The number of positions is only known at run time: they are computed on the host between
    jitted segments (``FlatNonzero``; docs/api.md, "Data-dependent lengths").  Inside a
    ``scan``/``map`` step this raises an error when the function is compiled.  The positions
    have no gradient (they are disconnected from ``a``).

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.flatnonzero(m).eval({m: [[0., 2.], [3., 0.]]})
    array([1, 2])
    """
    return FlatNonzero()(_non_scalar(a, "flatnonzero"))


def _nonzero_coordinates(a: Variable, what: str) -> list[Variable]:
    """One int64 vector of coordinates per axis of ``a``: its flat non-zero positions unravelled
    (C order) by integer division and remainder by ``a``'s shape, in the segment after the host
    step (where that shape is a compile-time value)."""
    flat = FlatNonzero()(_non_scalar(a, what))
    coords: list[Variable] = []
    stride: Any = None  # the product of the dimensions after axis k
    for k in reversed(range(a.ndim)):
        q = flat if stride is None else int_div(flat, stride)
        coords.append(q if k == 0 else mod(q, a.shape[k]))
        stride = a.shape[k] if stride is None else stride * a.shape[k]
    return coords[::-1]


def nonzero(a: Any, return_matrix: bool = False) -> tuple[Variable, ...] | Variable:
    """The indices of the non-zero entries of ``a``, one vector per axis (``numpy.nonzero``).

    Parameters
    ----------
    a : tensor
        Of at least one dimension, any dtype (bool: its true entries).
    return_matrix : bool
        False (the default, as NumPy): a tuple of ``a.ndim`` int64 vectors, the ``j``-th entry
        of the ``i``-th being the index along axis ``i`` of the ``j``-th non-zero entry (C
        order).  True (Theano's ``Nonzero`` op): those vectors as the rows of one int64 matrix
        of shape ``(a.ndim, number of non-zero entries)``.

    Returns
    -------
    tuple of Variable, or Variable
        ``a[nonzero(a)]`` reads the non-zero entries (as ``nonzero_values(a)``).

    Raises
    ------
    ValueError
        For a 0-d ``a``, as Theano (NumPy >= 2.1 refuses it too).

    Notes
    -----
    Built on ``FlatNonzero``: the flat positions are computed on the host between jitted
    segments (docs/api.md, "Data-dependent lengths"), then unravelled by integer division by
    ``a``'s shape in the next segment.  Inside a ``scan``/``map`` step this raises an error
    when the function is compiled.  The indices have no gradient.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> f = thx.function([m], list(T.nonzero(m)))
    >>> f([[0., 2., 0.], [3., 0., 4.]])
    [array([0, 1, 1]), array([1, 0, 2])]
    >>> T.nonzero(m, return_matrix=True).eval({m: [[0., 2., 0.], [3., 0., 4.]]})
    array([[0, 1, 1],
           [1, 0, 2]])
    """
    a = as_tensor_variable(a)
    coords = _nonzero_coordinates(a, "nonzero")
    if not return_matrix:
        return tuple(coords)
    from thx.tensor.basic import stack  # basic re-exports this module's nonzero functions
    # Theano's Nonzero gives a (False, False) matrix, whatever a.ndim
    return unbroadcast(stack(coords), 0) if a.ndim == 1 else stack(coords)


def nonzero_values(a: Any) -> Variable:
    """The non-zero entries of ``a``, flattened (NumPy's ``a[a != 0]``, in C order).

    Built as Theano does, ``a.flatten()[flatnonzero(a)]``: an advanced index, so the gradient
    w.r.t. ``a`` is the index's (the output gradient scattered back to the non-zero entries,
    zero elsewhere).

    Parameters
    ----------
    a : tensor
        Of at least one dimension, any dtype.

    Returns
    -------
    Variable
        A vector of ``a``'s dtype, as long as ``a`` has non-zero entries.

    Raises
    ------
    ValueError
        For a 0-d ``a``, as Theano.

    Notes
    -----
    The length is only known at run time (``flatnonzero``; docs/api.md, "Data-dependent
    lengths"); inside a ``scan``/``map`` step this raises an error when the function is compiled.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.nonzero_values(m).eval({m: [[0., 2., 0.], [3., 0., 4.]]})
    array([2., 3., 4.])
    >>> g = T.grad(T.sum(T.nonzero_values(m) ** 2), m)
    >>> g.eval({m: [[0., 2., 0.], [3., 0., 4.]]})
    array([[0., 4., 0.],
           [6., 0., 8.]])
    """
    a = _non_scalar(a, "nonzero_values")
    return getitem(flatten(a), FlatNonzero()(a))


# ---------------------------------------------------------------------- repeat


def repeat_index_numpy(n: Any, repeats: Any) -> np.ndarray:
    """``numpy.repeat(numpy.arange(n), repeats)`` as int64, with NumPy's errors (``RepeatIndex``'s
    ``perform`` and its lowering's host step)."""
    n = int(np.asarray(n))
    repeats = np.asarray(repeats)
    if repeats.ndim == 1 and repeats.shape[0] not in (1, n):  # one entry counts for every position
        raise ValueError(f"repeat: repeats has {repeats.shape[0]} entries for an axis of length {n} "
                         f"(NumPy: operands could not be broadcast together with shape ({n},) "
                         f"({repeats.shape[0]},))")
    if repeats.size and repeats.min() < 0:
        raise ValueError(f"repeat: repeats may not contain negative values, got {int(repeats.min())}")
    return np.repeat(np.arange(n, dtype=np.int64), repeats.astype(np.int64))


class RepeatIndex(NotDifferentiable, Op):
    """The positions ``numpy.repeat`` reads along an axis of length ``n``:
    ``numpy.repeat(numpy.arange(n), repeats)``, for a vector (or scalar) of ``repeats``.

    ``repeat(x, repeats, axis)`` is ``take(x, RepeatIndex()(x.shape[axis], repeats), axis)``,
    so its gradient w.r.t. ``x`` is the take's (the gradient of each copy summed into its
    source); ``repeats`` is disconnected, as in Theano's ``RepeatOp``.

    With ``repeats`` given to the constructor (a constant, a tuple of ints) the only input is
    ``n`` and the length is ``sum(repeats)``, known when the graph is built: the op lowers into
    the jitted program (checking ``n == len(repeats)``) and works inside a loop's step.  With
    ``repeats`` a symbolic input the length is a run-time value: a host barrier (module
    docstring).
    """

    __props__ = ("repeats",)

    def __init__(self, repeats: Sequence[int] | None = None) -> None:
        self.repeats = None if repeats is None else tuple(int(r) for r in repeats)
        if self.repeats is not None and any(r < 0 for r in self.repeats):
            raise ValueError(f"repeat: repeats may not contain negative values, got {min(self.repeats)}")

    @property
    def host_barrier(self) -> bool:
        """A symbolic ``repeats`` makes the output's length a run-time value."""
        return self.repeats is None

    def make_node(self, n, *rest):
        n = as_tensor_variable(n)
        if n.ndim != 0 or n.dtype not in _INDEX_DTYPES:
            raise TypeError(f"RepeatIndex: n must be an integer scalar, got {n.type}")
        if (self.repeats is None) != (len(rest) == 1) or len(rest) > 1:
            raise TypeError("RepeatIndex: give repeats either to the constructor or as the second input")
        inputs = [n]
        if rest:
            r = as_tensor_variable(rest[0])
            if r.ndim > 1 or r.dtype not in _INDEX_DTYPES:
                raise TypeError(f"RepeatIndex: repeats must be an integer scalar or vector, got {r.type}")
            inputs.append(r)
        return Apply(self, inputs, [TensorType("int64", (False,))()])

    def perform(self, node, inputs, out):
        reps = self.repeats if self.repeats is not None else inputs[1]
        out[0][0] = repeat_index_numpy(inputs[0], reps)

    def infer_shape(self, fgraph, node, input_shapes):
        if self.repeats is None:
            raise NotImplementedError("RepeatIndex: the length is a run-time value")
        return [(constant(sum(self.repeats), dtype="int64"),)]


def repeat_index(n: Any, repeats: Any) -> Variable:
    """``numpy.repeat(numpy.arange(n), repeats)`` for a vector of counts: the positions ``repeat``
    takes along an axis of length ``n`` (``RepeatIndex``); constant counts are folded into the op."""
    if isinstance(repeats, Variable) and not isinstance(repeats, Constant):
        return RepeatIndex()(n, repeats)
    counts = np.asarray(repeats.data if isinstance(repeats, Constant) else repeats)
    return RepeatIndex(tuple(counts.astype(np.int64).reshape(-1).tolist()))(n)


# ---------------------------------------------------------------------- unique


class Unique(Op):
    """``numpy.unique``: the sorted distinct values, and optionally the index of each one's first
    occurrence, the inverse indices and the counts (``axis``: distinct slices along it).

    The number of distinct values is a run-time value: a host barrier (module docstring).
    """

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")
    host_barrier = True  # its length is a run-time value: the linker runs it between jitted segments

    def __init__(self, return_index: bool = False, return_inverse: bool = False,
                 return_counts: bool = False, axis: int | None = None) -> None:
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            bcast: Sequence[bool] = (False,)
        else:
            axis = self.axis + x.ndim if self.axis < 0 else self.axis
            if not 0 <= axis < x.ndim:
                raise RuntimeError(f"Unique axis `{self.axis}` is outside of input ndim = {x.ndim}.")
            bcast = [False if d == axis else b for d, b in enumerate(x.broadcastable)]
        n_int = self.return_index + self.return_inverse + self.return_counts
        return Apply(self, [x], [TensorType(x.dtype, bcast)()]
                     + [TensorType("int64", (False,))() for _ in range(n_int)])

    def perform(self, node, inputs, out):
        for o, v in zip(out, unique_numpy(self, inputs[0])):
            o[0] = v

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        from thx.gradient import grad_not_implemented
        return [grad_not_implemented(self, 0, x, "Theano's Unique has no gradient either.")]

    def connection_pattern(self, node):
        return [[True] + [False] * (len(node.outputs) - 1)]

    def R_op(self, inputs, eval_points):
        raise NotImplementedError("Unique does not implement R_op (Theano's has none either)")


def unique_numpy(op: Unique, x: Any) -> list[np.ndarray]:
    """``Unique``'s outputs with NumPy (its ``perform`` and its lowering's host step)."""
    res = np.unique(np.asarray(x), return_index=op.return_index, return_inverse=op.return_inverse,
                    return_counts=op.return_counts, axis=op.axis)
    res = list(res) if isinstance(res, tuple) else [res]
    # Theano's types: every integer output is an int64 vector (NumPy >= 2 shapes the inverse like x)
    return [res[0]] + [np.asarray(r, dtype="int64").reshape(-1) for r in res[1:]]


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None) -> Variable | list[Variable]:
    """The sorted distinct values of ``ar`` (``numpy.unique``; Theano's ``extra_ops.unique``).

    Parameters
    ----------
    ar : tensor
        Flattened when ``axis`` is None.
    return_index, return_inverse, return_counts : bool
        Also return (int64 vectors) the index of each value's first occurrence, the index of
        each element's value in the result, and each value's count.
    axis : int, optional
        Distinct slices along ``axis`` instead of distinct values.

    Returns
    -------
    Variable or list of Variable
        The values, then the requested integer vectors in that order.

    Notes
    -----
    The number of distinct values is only known at run time: the op runs on the host between
    jitted segments (docs/api.md, "Data-dependent lengths"); inside a loop's step it raises.
    The values have no gradient (Theano defines none).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> v = T.dvector('v')
    >>> f = thx.function([v], T.extra_ops.unique(v, return_counts=True))
    >>> f([3., 1., 3., 2., 1., 3.])
    [array([1., 2., 3.]), array([2, 1, 3])]
    """
    return Unique(return_index, return_inverse, return_counts, axis)(ar)
