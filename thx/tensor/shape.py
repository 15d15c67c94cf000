"""Shape ops: shape, MakeVector, reshape, flatten, specify_shape, broadcast patterns, transpose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor.elemwise import DimShuffle, _zero_grad, cast
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable, constant


def _disconnected() -> Variable:
    return DisconnectedType()()


class NotDifferentiable:
    """Mixin of an op whose outputs do not depend differentiably on any input (a shape, a count,
    positions, a window of a given length): every input is disconnected from every output, and
    there is no R_op."""

    def L_op(self, inputs, outputs, grads):
        return [_disconnected() for _ in inputs]

    def connection_pattern(self, node):
        return [[False] * len(node.outputs) for _ in node.inputs]

    def R_op(self, inputs, eval_points):
        return [None]


def _as_int_scalar(v: Any, what: str) -> Variable:
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in discrete_dtypes:
        raise TypeError(f"{what} must be an integer scalar, got {v.type}")
    return v


def get_scalar_constant_value(v: Any) -> Any:
    """The value of ``v`` if it is a scalar known when the graph is built, else raise.

    Raises
    ------
    NotScalarConstantError
    """
    if isinstance(v, (int, float, np.integer, np.floating)):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    if isinstance(v, Constant):
        d = np.asarray(v.data)
        if d.size == 1:
            return d.reshape(())[()]
    if isinstance(v, Variable) and v.owner is not None:
        op = v.owner.op
        if isinstance(op, DimShuffle):
            return get_scalar_constant_value(v.owner.inputs[0])
        from thx.tensor.elemwise import Elemwise
        if isinstance(op, Elemwise) and op.scalar_op.name in ("second", "identity", "Cast"):
            val = get_scalar_constant_value(v.owner.inputs[-1])
            return np.asarray(val, dtype=v.dtype)[()]
    raise NotScalarConstantError(f"{v} is not a scalar constant")


class NotScalarConstantError(Exception):
    """The variable's value is not known when the graph is built."""


# ---------------------------------------------------------------------- shape


class Shape(NotDifferentiable, Op):
    """The shape of a tensor, as an int64 vector."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (False,))()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(np.shape(inputs[0]), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [(constant(node.inputs[0].ndim, dtype="int64"),)]

    def pprint(self, node, ins):
        return f"Shape({ins[0]})"


_shape = Shape()


def shape(x: Any) -> Variable:
    """Symbolic shape of ``x`` (an int64 vector); ``x.shape`` is the same."""
    return _shape(x)


class MakeVector(Op):
    """Stack scalars into a vector."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64") -> None:
        self.dtype = dtype

    def make_node(self, *inputs):
        ins = [as_tensor_variable(i) for i in inputs]
        for i in ins:
            if i.ndim != 0:
                raise TypeError(f"MakeVector takes scalars, got {i.type}")
        ins = [i if i.dtype == self.dtype else cast(i, self.dtype) for i in ins]
        bcast = (len(ins) == 1,)
        return Apply(self, ins, [TensorType(self.dtype, bcast)()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def L_op(self, inputs, outputs, grads):
        (gz,) = grads
        if self.dtype in discrete_dtypes:
            return [_zero_grad(i) for i in inputs]
        return [gz[k] for k in range(len(inputs))]

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points):
            return [None]
        return [self(*[e if e is not None else i.zeros_like() for i, e in zip(inputs, eval_points)])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [(constant(len(node.inputs), dtype="int64"),)]

    def pprint(self, node, ins):
        return f"[{', '.join(ins)}]"


def _shape_vector(shape: Any) -> Variable:
    """A shape given as a tuple/list (of ints and scalar variables) or a vector."""
    if isinstance(shape, (list, tuple)):
        if all(isinstance(s, (int, np.integer)) for s in shape):
            return constant(np.asarray(shape, dtype="int64"))
        return MakeVector("int64")(*[_as_int_scalar(s, "shape entry") for s in shape])
    if isinstance(shape, (int, np.integer)):
        return constant(np.asarray([shape], dtype="int64"))
    v = as_tensor_variable(shape)
    if v.ndim == 0:
        v = MakeVector("int64")(v)
    if v.ndim != 1 or v.dtype not in discrete_dtypes:
        raise TypeError(f"shape must be a vector of integers, got {v.type}")
    return v if v.dtype == "int64" else cast(v, "int64")


def _known_dims(shape_vec: Variable, n: int) -> list[int | None]:
    """The entries of a shape vector that are known when the graph is built."""
    if isinstance(shape_vec, Constant):
        return [int(s) for s in shape_vec.data]
    if shape_vec.owner is not None and isinstance(shape_vec.owner.op, MakeVector):
        out: list[int | None] = []
        for s in shape_vec.owner.inputs:
            try:
                out.append(int(get_scalar_constant_value(s)))
            except NotScalarConstantError:
                out.append(None)
        return out
    return [None] * n


# ---------------------------------------------------------------------- reshape


class Reshape(Op):
    """Reshape ``x`` to the shape vector ``shp`` (one entry may be -1)."""

    __props__ = ("ndim",)

    def __init__(self, ndim: int) -> None:
        self.ndim = ndim

    def __str__(self):
        return f"Reshape{{{self.ndim}}}"

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = _shape_vector(shp)
        known = _known_dims(shp, self.ndim)
        if len(known) != self.ndim:
            raise ValueError(f"Reshape{{{self.ndim}}}: shape has {len(known)} entries")
        if sum(k == -1 for k in known) > 1 or any(k is not None and k < -1 for k in known):
            raise ValueError(f"reshape: invalid new shape {known}: at most one entry may be -1 "
                             f"and the others must be non-negative")
        bcast = tuple(k == 1 for k in known)
        return Apply(self, [x, shp], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, out):
        x, shp = inputs
        out[0][0] = np.reshape(x, tuple(int(s) for s in shp))

    def L_op(self, inputs, outputs, grads):
        x, shp = inputs
        return [reshape(grads[0], shape(x), ndim=x.ndim), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]

    def infer_shape(self, fgraph, node, input_shapes):
        x, shp = node.inputs
        known = _known_dims(shp, self.ndim)
        if all(k is not None and k >= 0 for k in known):
            return [tuple(constant(k, dtype="int64") for k in known)]
        raise NotImplementedError("Reshape with a -1 or symbolic entry")

    def pprint(self, node, ins):
        return f"Reshape{{{self.ndim}}}({ins[0]}, {ins[1]})"


def reshape(x: Any, newshape: Any, ndim: int | None = None) -> Variable:
    """``x`` with a new shape (a tuple of ints/scalar variables, or an int vector).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> x.reshape((2, -1)).eval({x: [1., 2., 3., 4.]})
    array([[1., 2.],
           [3., 4.]])
    """
    x = as_tensor_variable(x)
    shp = _shape_vector(newshape)
    if ndim is None:
        if isinstance(newshape, (list, tuple)):
            ndim = len(newshape)
        else:
            try:
                ndim = int(get_scalar_constant_value(shape(shp)[0]))  # pragma: no cover
            except Exception:
                from thx.tensor._static_length import static_length
                ndim = static_length(shp)
                if ndim is None:
                    raise ValueError("reshape: give ndim when the new shape is a symbolic vector") from None
    return Reshape(ndim)(x, shp)


class Flatten(Op):
    """Collapse the trailing dimensions of ``x`` so it has ``outdim`` dimensions."""

    __props__ = ("outdim",)

    def __init__(self, outdim: int = 1) -> None:
        self.outdim = outdim

    def __str__(self):
        return f"Flatten{{{self.outdim}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 1 <= self.outdim <= max(x.ndim, 1):
            raise ValueError(f"flatten: outdim={self.outdim} is invalid for a {x.ndim}-d input")
        bcast = x.broadcastable[: self.outdim - 1] + (all(x.broadcastable[self.outdim - 1:]),)
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        out[0][0] = x.reshape(x.shape[: self.outdim - 1] + (-1,))

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        return [reshape(grads[0], shape(x), ndim=x.ndim)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]

    def pprint(self, node, ins):
        return f"Flatten{{{self.outdim}}}({ins[0]})"


def flatten(x: Any, ndim: int = 1, outdim: int | None = None) -> Variable:
    """``x`` reshaped to ``ndim`` dimensions, the last one collecting the rest."""
    return Flatten(outdim if outdim is not None else ndim)(x)


class SpecifyShape(Op):
    """``x``, asserting at run time that its shape is ``shape``."""

    __props__ = ()

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = _shape_vector(shp)
        known = _known_dims(shp, x.ndim)
        if len(known) != x.ndim:
            raise ValueError(f"specify_shape: {x} has {x.ndim} dimensions, shape has {len(known)}")
        bcast = tuple(b or k == 1 for b, k in zip(x.broadcastable, known))
        return Apply(self, [x, shp], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, out):
        x, shp = inputs
        if tuple(np.shape(x)) != tuple(int(s) for s in shp):
            raise AssertionError(f"SpecifyShape: got shape {np.shape(x)}, expected {tuple(shp)}")
        out[0][0] = x

    def L_op(self, inputs, outputs, grads):
        return [specify_shape(grads[0], inputs[1]), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]

    def infer_shape(self, fgraph, node, input_shapes):
        from thx.tensor.subtensor import getitem
        return [tuple(getitem(node.inputs[1], i) for i in range(node.inputs[0].ndim))]

    def pprint(self, node, ins):
        return f"SpecifyShape({ins[0]}, {ins[1]})"


def specify_shape(x: Any, shape: Any) -> Variable:
    """Tell thx the shape of ``x`` (checked when the function runs)."""
    return SpecifyShape()(x, shape)


class Rebroadcast(Op):
    """Change the broadcastable flags of ``x`` (checked at run time)."""

    __props__ = ("axis",)

    def __init__(self, *axis: tuple[int, bool]) -> None:
        self.axis = tuple(sorted((int(a), bool(b)) for a, b in axis))

    def make_node(self, x):
        x = as_tensor_variable(x)
        b = list(x.broadcastable)
        for a, v in self.axis:
            if a >= x.ndim:
                raise ValueError(f"Rebroadcast: axis {a} out of range for {x.type}")
            b[a] = v
        return Apply(self, [x], [TensorType(x.dtype, b)()])

    def perform(self, node, inputs, out):
        x = inputs[0]
        for a, v in self.axis:
            if v and np.shape(x)[a] != 1:
                raise ValueError(f"Rebroadcast: dimension {a} has length {np.shape(x)[a]}, expected 1")
        out[0][0] = x

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        return [Rebroadcast(*[(a, x.broadcastable[a]) for a, _ in self.axis])(grads[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pprint(self, node, ins):
        return ins[0]


def patternbroadcast(x: Any, broadcastable: Sequence[bool]) -> Variable:
    """``x`` with the broadcastable pattern ``broadcastable``."""
    x = as_tensor_variable(x)
    if tuple(broadcastable) == x.broadcastable:
        return x
    return Rebroadcast(*[(i, b) for i, b in enumerate(broadcastable) if b != x.broadcastable[i]])(x)


def addbroadcast(x: Any, *axes: int) -> Variable:
    """``x`` with ``axes`` marked broadcastable."""
    x = as_tensor_variable(x)
    b = list(x.broadcastable)
    for a in axes:
        b[a] = True
    return patternbroadcast(x, b)


def unbroadcast(x: Any, *axes: int) -> Variable:
    """``x`` with ``axes`` marked not broadcastable."""
    x = as_tensor_variable(x)
    b = list(x.broadcastable)
    for a in axes:
        b[a] = False
    return patternbroadcast(x, b)


def shape_padleft(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable dimensions added in front."""
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable dimensions added at the end."""
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x: Any, axis: int) -> Variable:
    """``x`` with a broadcastable dimension inserted at ``axis``."""
    x = as_tensor_variable(x)
    if axis < 0:
        axis += x.ndim + 1
    order: list[Any] = list(range(x.ndim))
    order.insert(axis, "x")
    return x.dimshuffle(order)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Variable:
    """``x`` with its axes permuted (reversed by default); ``x.T`` is the same."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = list(range(x.ndim))[::-1]
    return DimShuffle(x.broadcastable, list(axes))(x)
