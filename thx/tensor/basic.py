"""Construction ops: alloc and fills (zeros, ones, full), arange, eye, join/split/stack, tile, repeat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor.elemwise import _zero_grad, cast, fill
from thx.tensor.type import TensorType, discrete_dtypes, upcast
from thx.tensor.var import as_tensor_variable, constant
from thx.tensor.shape import (_as_int_scalar, _disconnected, _shape_vector, _known_dims, Shape,
                              MakeVector, get_scalar_constant_value, NotScalarConstantError, shape,
                              reshape, flatten, patternbroadcast, shape_padleft, shape_padaxis)
# The shape ops lived here before thx/tensor/shape.py; older imports of them keep working.
from thx.tensor.shape import (Flatten, Rebroadcast, Reshape, SpecifyShape, addbroadcast,  # noqa: F401
                              shape_padright, specify_shape, transpose, unbroadcast)
# Theano defines these in theano.tensor.basic; thx builds them on the host-barrier op of
# data_sized.py (whose nonzero imports stack from here inside the function).
from thx.tensor.data_sized import flatnonzero, nonzero, nonzero_values  # noqa: F401


# ---------------------------------------------------------------------- alloc and fills


class Alloc(Op):
    """A tensor of the given shape filled with (a broadcast of) ``value``."""

    __props__ = ()

    def make_node(self, value, *shape):
        v = as_tensor_variable(value)
        sh = [_as_int_scalar(s, "alloc shape entry") for s in shape]
        if len(sh) < v.ndim:
            raise TypeError(f"alloc: the value has {v.ndim} dimensions, more than the {len(sh)} "
                            f"of the requested shape")
        bcast = []
        for s in sh:
            try:
                bcast.append(int(get_scalar_constant_value(s)) == 1)
            except NotScalarConstantError:
                bcast.append(False)
        return Apply(self, [v] + sh, [TensorType(v.dtype, bcast)()])

    def perform(self, node, inputs, out):
        v, *sh = inputs
        out[0][0] = np.broadcast_to(v, tuple(int(s) for s in sh)).copy()

    def L_op(self, inputs, outputs, grads):
        v = inputs[0]
        (gz,) = grads
        n_new = gz.ndim - v.ndim
        axes = list(range(n_new)) + [n_new + i for i, b in enumerate(v.broadcastable)
                                     if b and not gz.broadcastable[n_new + i]]
        from thx.tensor.math import sum as _sum
        gv = _sum(gz, axis=axes, keepdims=True) if axes else gz
        if n_new:
            gv = gv.dimshuffle(list(range(n_new, gz.ndim)))
        gv = patternbroadcast(gv, v.broadcastable)
        if v.dtype in discrete_dtypes:
            gv = _zero_grad(v)
        return [gv] + [_disconnected() for _ in inputs[1:]]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def pprint(self, node, ins):
        return f"Alloc({', '.join(ins)})"


alloc = Alloc()


def is_zeros(v: Variable) -> bool:
    """Is ``v`` zeros by construction: a zero constant, ``zeros_like`` (``fill(a, 0)``) or
    ``alloc(0, ...)``, under DimShuffles and casts?  (What ``T.grad`` builds for the rows a
    gradient does not reach.)"""
    from thx.tensor.shape import NotScalarConstantError, get_scalar_constant_value
    if v.owner is not None and isinstance(v.owner.op, Alloc):
        v = v.owner.inputs[0]
    try:
        return bool(get_scalar_constant_value(v) == 0)
    except NotScalarConstantError:
        return False


def _shape_list(shape: Any) -> list:
    if isinstance(shape, (int, np.integer)):
        return [shape]
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            return [shape]
        from thx.tensor.subtensor import getitem
        n = len(_known_dims(shape, 0)) if isinstance(shape, Constant) else None
        if n is None:
            if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
                return list(shape.owner.inputs)
            if shape.owner is not None and isinstance(shape.owner.op, Shape):
                return [getitem(shape, i) for i in range(shape.owner.inputs[0].ndim)]
            raise ValueError("zeros/ones: give the shape as a tuple")
        return [getitem(shape, i) for i in range(n)]
    return list(shape)


def zeros(shape: Any, dtype: str | None = None) -> Variable:
    """A tensor of zeros of the given shape (tuple of ints or scalar variables)."""
    return alloc(constant(0, dtype=dtype or config.floatX), *_shape_list(shape))


def ones(shape: Any, dtype: str | None = None) -> Variable:
    """A tensor of ones of the given shape."""
    return alloc(constant(1, dtype=dtype or config.floatX), *_shape_list(shape))


def full(shape: Any, fill_value: Any, dtype: str | None = None) -> Variable:
    """A tensor of ``fill_value`` of the given shape."""
    return alloc(as_tensor_variable(fill_value) if dtype is None else constant(fill_value, dtype=dtype),
                 *_shape_list(shape))


def zeros_like(model: Any, dtype: str | None = None) -> Variable:
    """Zeros with the shape of ``model``: ``fill(model, 0)``, as Theano builds it."""
    model = as_tensor_variable(model)
    return fill(model, constant(0.0, dtype=dtype or model.dtype))


def ones_like(model: Any, dtype: str | None = None) -> Variable:
    """Ones with the shape of ``model``: ``fill(model, 1.0)``, as Theano builds it."""
    model = as_tensor_variable(model)
    return fill(model, constant(1.0, dtype=dtype or model.dtype))


def full_like(model: Any, fill_value: Any, dtype: str | None = None) -> Variable:
    """``fill_value`` with the shape of ``model``."""
    model = as_tensor_variable(model)
    return fill(model, constant(fill_value, dtype=dtype or model.dtype))


class ARange(Op):
    """``arange(start, stop, step)`` of a given dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, start, stop, step):
        ins = [as_tensor_variable(v) for v in (start, stop, step)]
        for v in ins:
            if v.ndim != 0:
                raise TypeError(f"arange takes scalars, got {v.type}")
        return Apply(self, ins, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs, out):
        start, stop, step = (np.asarray(v)[()] for v in inputs)
        out[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def L_op(self, inputs, outputs, grads):
        return [_zero_grad(i) if i.dtype not in discrete_dtypes else _disconnected() for i in inputs]

    def connection_pattern(self, node):
        return [[i.dtype not in discrete_dtypes] for i in node.inputs]

    def R_op(self, inputs, eval_points):
        return [None]

    def infer_shape(self, fgraph, node, input_shapes):
        from thx.tensor.elemwise import ceil, maximum
        start, stop, step = node.inputs
        n = cast(ceil(maximum((stop - start) / step, 0)), "int64")
        return [(n,)]

    def pprint(self, node, ins):
        return f"ARange{{dtype='{self.dtype}'}}({', '.join(ins)})"


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: str | None = None) -> Variable:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.arange(3).eval()
    array([0, 1, 2])
    """
    if stop is None:
        start, stop = 0, start
    start, stop, step = (as_tensor_variable(v) for v in (start, stop, step))
    if dtype is None:
        dtype = upcast(start.dtype, stop.dtype, step.dtype)
        if dtype in discrete_dtypes:
            dtype = "int64"
    return ARange(str(np.dtype(dtype)))(start, stop, step)


class Eye(Op):
    """An ``n x m`` matrix with ones on diagonal ``k``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, n, m, k):
        ins = [_as_int_scalar(v, "eye argument") for v in (n, m, k)]
        return Apply(self, ins, [TensorType(self.dtype, (False, False))()])

    def perform(self, node, inputs, out):
        n, m, k = (int(v) for v in inputs)
        out[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def L_op(self, inputs, outputs, grads):
        return [_disconnected() for _ in inputs]

    def connection_pattern(self, node):
        return [[False]] * 3

    def R_op(self, inputs, eval_points):
        return [None]

    def infer_shape(self, fgraph, node, input_shapes):
        return [(cast(node.inputs[0], "int64"), cast(node.inputs[1], "int64"))]


def eye(n: Any, m: Any = None, k: int = 0, dtype: str | None = None) -> Variable:
    """Identity-like matrix (``numpy.eye``)."""
    return Eye(dtype or config.floatX)(n, n if m is None else m, k)


def identity_like(x: Any) -> Variable:
    """An identity matrix with the shape of the matrix ``x``."""
    x = as_tensor_variable(x)
    return eye(shape(x)[0], shape(x)[1], 0, dtype=x.dtype)


# ---------------------------------------------------------------------- join / split


class Join(Op):
    """Concatenate tensors along ``axis`` (Theano's Join, with the axis as a prop)."""

    __props__ = ("axis",)

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def __str__(self):
        return f"Join{{axis={self.axis}}}"

    def make_node(self, *tensors):
        ts = [as_tensor_variable(t) for t in tensors]
        if not ts:
            raise ValueError("join needs at least one tensor")
        nd = ts[0].ndim
        if nd == 0:
            raise TypeError("join: cannot join scalars (use stack)")
        for t in ts:
            if t.ndim != nd:
                raise TypeError(f"join: all tensors must have the same number of dimensions, got "
                                f"{[t.ndim for t in ts]}")
        axis = self.axis + nd if self.axis < 0 else self.axis
        if not 0 <= axis < nd:
            raise IndexError(f"join: axis {self.axis} out of range for {nd}-d tensors")
        dtype = upcast(*[t.dtype for t in ts])
        bcast = [any(t.broadcastable[d] for t in ts) for d in range(nd)]
        bcast[axis] = len(ts) == 1 and ts[0].broadcastable[axis]
        return Apply(self, ts, [TensorType(dtype, bcast)()])

    def perform(self, node, inputs, out):
        out[0][0] = np.concatenate(inputs, axis=self.axis).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (gz,) = grads
        axis = self.axis + gz.ndim if self.axis < 0 else self.axis
        sizes = MakeVector("int64")(*[shape(t)[axis] for t in inputs]) if len(inputs) > 1 else None
        if sizes is None:
            parts = [gz]
        else:
            parts = Split(len(inputs), axis)(gz, sizes)
        out = []
        for t, p in zip(inputs, parts):
            if t.dtype in discrete_dtypes:
                out.append(_zero_grad(t))
            else:
                p = patternbroadcast(p, t.broadcastable)
                out.append(p if p.dtype == t.dtype else cast(p, t.dtype))
        return out

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points):
            return [None]
        return [self(*[e if e is not None else zeros_like(i) for i, e in zip(inputs, eval_points)])]

    def infer_shape(self, fgraph, node, input_shapes):
        axis = self.axis % node.outputs[0].ndim
        out = list(input_shapes[0])
        from thx.tensor.elemwise import add
        out[axis] = add(*[s[axis] for s in input_shapes])
        return [tuple(out)]

    def pprint(self, node, ins):
        return f"join({self.axis}, {', '.join(ins)})"


class Split(Op):
    """Split ``x`` along ``axis`` into pieces of the given sizes."""

    __props__ = ("len_splits", "axis")

    def __init__(self, len_splits: int, axis: int) -> None:
        self.len_splits = len_splits
        self.axis = axis

    def make_node(self, x, splits):
        x = as_tensor_variable(x)
        splits = _shape_vector(splits)
        bcast = list(x.broadcastable)
        bcast[self.axis] = False
        return Apply(self, [x, splits], [TensorType(x.dtype, bcast)() for _ in range(self.len_splits)])

    def perform(self, node, inputs, out):
        x, splits = inputs
        if int(np.sum(splits)) != x.shape[self.axis]:
            raise ValueError(f"Split: sizes {list(splits)} do not add up to {x.shape[self.axis]}")
        idx = np.cumsum(splits)[:-1]
        for o, piece in zip(out, np.split(x, idx, axis=self.axis)):
            o[0] = piece

    def L_op(self, inputs, outputs, grads):
        gs = [zeros_like(o) if isinstance(g.type, DisconnectedType) else g
              for o, g in zip(outputs, grads)]
        return [join(self.axis, *gs), _disconnected()]

    def connection_pattern(self, node):
        return [[True] * self.len_splits, [False] * self.len_splits]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None] * self.len_splits
        return self(eval_points[0], inputs[1])

    def pprint(self, node, ins):
        return f"Split{{{self.len_splits}}}({', '.join(ins)})"


def split(x: Any, splits_size: Any, n_splits: int, axis: int = 0) -> list[Variable]:
    """Split ``x`` along ``axis`` into ``n_splits`` pieces of sizes ``splits_size``."""
    out = Split(n_splits, axis)(x, splits_size)
    return out if isinstance(out, list) else [out]


def join(axis: int, *tensors: Any) -> Variable:
    """Concatenate ``tensors`` along ``axis`` (Theano's argument order)."""
    if isinstance(axis, Variable):
        axis = int(get_scalar_constant_value(axis))
    if len(tensors) == 1:
        return as_tensor_variable(tensors[0])
    return Join(int(axis))(*tensors)


def concatenate(tensor_list: Sequence[Any], axis: int = 0) -> Variable:
    """Concatenate a list of tensors along ``axis``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> a = T.dvector('a')
    >>> T.concatenate([a, a]).eval({a: [1., 2.]})
    array([1., 2., 1., 2.])
    """
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate takes a list or tuple of tensors (the first argument); "
                        "call join(axis, *tensors) to give them one by one")
    return join(axis, *tensor_list)


def stack(tensors: Sequence[Any], axis: int = 0) -> Variable:
    """Stack tensors of one shape along a new ``axis``."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError("stack takes a list of tensors")
    if not tensors:
        raise ValueError("stack: no tensor to stack")
    ts = [as_tensor_variable(t) for t in tensors]
    if axis == 0 and all(t.ndim == 0 for t in ts):
        return MakeVector(upcast(*[t.dtype for t in ts]))(*ts)
    return join(axis, *[shape_padaxis(t, axis) for t in ts])


def roll(x: Any, shift: int, axis: int | None = None) -> Variable:
    """``numpy.roll`` built from slices and a join."""
    x = as_tensor_variable(x)
    if axis is None:
        return roll(flatten(x), shift, 0).reshape(shape(x), ndim=x.ndim)
    from thx.tensor.subtensor import getitem
    idx_a = [slice(None)] * x.ndim
    idx_b = [slice(None)] * x.ndim
    idx_a[axis] = slice(-shift, None)
    idx_b[axis] = slice(None, -shift)
    return join(axis, getitem(x, tuple(idx_a)), getitem(x, tuple(idx_b)))


def tile(x: Any, reps: Sequence[int]) -> Variable:
    """``numpy.tile`` for constant ``reps``."""
    x = as_tensor_variable(x)
    reps = list(reps)
    if len(reps) < x.ndim:
        reps = [1] * (x.ndim - len(reps)) + reps
    x = shape_padleft(x, len(reps) - x.ndim) if len(reps) > x.ndim else x
    for ax, r in enumerate(reps):
        if r != 1:
            x = join(ax, *([x] * int(r)))
    return x


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Variable:
    """Repeat each element of ``x`` along ``axis`` (``numpy.repeat``; Theano's ``T.repeat``).

    Parameters
    ----------
    x : tensor
        Flattened first when ``axis`` is None.
    repeats : int, integer scalar or integer vector (constant or symbolic)
        How many times each element is repeated: one count for all of them, or one per element
        of the axis (a vector of ``x.shape[axis]`` counts).
    axis : int, optional
        The axis along which to repeat.

    Returns
    -------
    Variable
        ``x`` with ``axis`` of length ``x.shape[axis] * repeats`` or ``sum(repeats)``.

    Raises
    ------
    TypeError
        If ``repeats`` does not hold integers.
    ValueError
        If ``repeats`` has more than one dimension (Theano's message), or, when the function
        runs, a negative count or a vector whose length is not ``x.shape[axis]`` (NumPy's).

    Notes
    -----
    A scalar count is a broadcast and a reshape (``alloc``), as in Theano; its gradient sums the
    copies.  A vector of counts is ``take(x, RepeatIndex()(x.shape[axis], repeats), axis)``:
    constant counts are folded into the graph, symbolic ones make the output's length a
    run-time value, computed on the host between jitted segments (docs/api.md, "Data-dependent
    lengths"; not inside a loop's step).  ``repeats`` has no gradient.

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.repeat(m, [1, 2], axis=0).eval({m: [[1., 2.], [3., 4.]]})
    array([[1., 2.],
           [3., 4.],
           [3., 4.]])
    """
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x), 0
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"repeat: axis {axis} is out of bounds for a tensor of {x.ndim} dimensions")
    axis = axis % x.ndim
    reps = repeats if isinstance(repeats, Variable) else np.asarray(repeats)
    if reps.dtype not in discrete_dtypes or str(reps.dtype) == "bool":
        raise TypeError(f"repeat: repeats must hold integers (Theano: repeats.dtype must be an "
                        f"integer.), got dtype {reps.dtype}")
    if reps.ndim > 1:
        raise ValueError(f"The dimension of repeats should not exceed 1. (repeat: repeats has "
                         f"{reps.ndim} dimensions)")
    if reps.ndim == 1 and not isinstance(reps, Variable) and reps.shape[0] == 1:
        reps = reps[0]  # one count for every element, as a scalar
    dims = [shape(x)[d] for d in range(x.ndim)]
    if reps.ndim == 1:
        from thx.tensor.data_sized import repeat_index
        from thx.tensor.subtensor import take
        return take(x, repeat_index(dims[axis], reps), axis=axis)
    if not isinstance(reps, Variable) and int(reps) < 0:
        raise ValueError(f"repeat: repeats may not contain negative values, got {int(reps)}")
    count = reps if isinstance(reps, Variable) else int(reps)
    y = alloc(shape_padaxis(x, axis + 1), *dims[:axis + 1], count, *dims[axis + 1:])
    new = list(dims)
    new[axis] = dims[axis] * count
    return reshape(y, tuple(new))




# ---------------------------------------------------------------------- index grids and choose


class _NdGrid:
    """``T.mgrid`` / ``T.ogrid``: ``T.mgrid[0:5, 0:3]`` is the list of dense index grids (as
    ``numpy.mgrid``, but a list of tensors); ``T.ogrid`` the open (broadcastable) ones."""

    def __init__(self, sparse: bool = False) -> None:
        self.sparse = sparse

    def __getitem__(self, key: Any) -> list[Variable]:
        slices = key if isinstance(key, tuple) else (key,)
        for sl in slices:
            if not isinstance(sl, slice):
                raise TypeError(f"{'ogrid' if self.sparse else 'mgrid'}: index with slices, got {sl!r}")
            if isinstance(sl.step, complex):
                raise NotImplementedError("Not implemented for slices whose step is complex")
        ndim = len(slices)
        ranges = [arange(0 if sl.start is None else sl.start, sl.stop, 1 if sl.step is None else sl.step)
                  for sl in slices]
        ranges = [r.dimshuffle(["x"] * j + [0] + ["x"] * (ndim - 1 - j)) for j, r in enumerate(ranges)]
        if self.sparse:
            return ranges
        grids = []
        for i in range(ndim):
            grid = ranges[i]
            for j in range(ndim):
                if j != i:
                    grid = grid * ones_like(ranges[j])
            grids.append(grid)
        return grids


mgrid = _NdGrid()
ogrid = _NdGrid(sparse=True)


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Variable:
    """``choices[a[I]][I]`` for every index ``I`` of the broadcast shape (``numpy.choose``).

    Parameters
    ----------
    a : integer tensor
        Which choice each entry takes.
    choices : sequence of tensors, or a tensor whose first axis enumerates the choices
    out : None
        Theano's signature; thx has no output arguments.
    mode : {'raise', 'wrap', 'clip'}
        An ``a`` out of range raises IndexError, wraps around, or is clipped.

    Differentiable with respect to the choices (built from advanced indexing).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.choose(np.array([2, 0, 1]), [np.array([1., 2., 3.]), np.array([10., 20., 30.]), 100.]).eval()
    array([100.,   2.,  30.])
    """
    if out is not None:
        raise ValueError("choose: thx has no output arguments (out must be None)")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    from thx.tensor.elemwise import clip as _clip
    from thx.tensor.subtensor import getitem
    a = as_tensor_variable(a)
    if a.dtype not in discrete_dtypes or a.dtype == "bool":
        raise TypeError(f"choose: a must hold integers, got dtype {a.dtype}")
    if isinstance(choices, (list, tuple)):
        items = [as_tensor_variable(c) for c in choices]
        if not items:
            raise ValueError("choose: choices must not be empty")
        dtype = upcast(*[c.dtype for c in items])
        nd = max([a.ndim] + [c.ndim for c in items])
        items = [shape_padleft(cast(c, dtype), nd - c.ndim) for c in items]
        zero = zeros_like(shape_padleft(a, nd - a.ndim), dtype=dtype)
        for c in items:
            zero = zero + zeros_like(c)  # the broadcast shape of a and every choice
        stacked = stack([c + zero for c in items])
    else:
        stacked = as_tensor_variable(choices)
        if stacked.ndim == 0:
            raise ValueError("choose: choices must be a sequence or a tensor whose first axis lists them")
        nd = max(a.ndim, stacked.ndim - 1)
        stacked = stacked.dimshuffle([0] + ["x"] * (nd - stacked.ndim + 1) + list(range(1, stacked.ndim)))
        zero = zeros_like(shape_padleft(a, nd - a.ndim), dtype=stacked.dtype) + zeros_like(stacked[0])
        stacked = stacked + shape_padleft(zero, 1)
    a = shape_padleft(a, nd - a.ndim) + zeros_like(stacked[0], dtype=a.dtype)
    k = shape(stacked)[0]
    if mode == "wrap":
        a = a % k
    elif mode == "clip":
        a = _clip(a, 0, k - 1)
    idx = [a] + [arange(shape(a)[d]).dimshuffle(["x"] * d + [0] + ["x"] * (a.ndim - d - 1))
                 for d in range(a.ndim)]
    return getitem(stacked, tuple(idx))
