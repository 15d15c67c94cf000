"""Reductions, dot products, and the nnet-style functions built on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import builtins

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor import elemwise as E
from thx.tensor.basic import _disconnected, patternbroadcast, reshape, shape
from thx.tensor.elemwise import DimShuffle, _zero_grad
from thx.tensor.type import TensorType, discrete_dtypes, upcast
from thx.tensor.var import as_tensor_variable


def _norm_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Variable):
        from thx.tensor.basic import get_scalar_constant_value
        axis = int(get_scalar_constant_value(axis))
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()  # sum(axis=np.array(1)) as Theano
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def _keep_dims(x: Variable, out: Variable, axis: tuple[int, ...]) -> Variable:
    """Reinsert reduced axes as broadcastable dims (Theano's keepdims)."""
    order: list[Any] = []
    i = 0
    for d in range(x.ndim):
        if d in axis:
            order.append("x")
        else:
            order.append(i)
            i += 1
    return out.dimshuffle(order)


def _expand_reduced(g: Variable, x: Variable, axis: tuple[int, ...]) -> Variable:
    """Broadcast a reduced gradient back to the rank of ``x``."""
    return _keep_dims(x, g, axis) if axis else g


class CAReduce(Op):
    """A reduction over ``axis`` (Sum, Prod, Max, Min, Any, All share this shell)."""

    __props__ = ("axis",)
    name = ""

    def __init__(self, axis: Sequence[int] | None = None) -> None:
        self.axis = None if axis is None else tuple(axis)

    def __str__(self) -> str:
        if self.axis is None:
            return type(self).__name__
        return f"{type(self).__name__}{{axis=[{', '.join(map(str, self.axis))}]}}"

    def _axes(self, ndim: int) -> tuple[int, ...]:
        return tuple(range(ndim)) if self.axis is None else self.axis

    def out_dtype(self, dtype: str) -> str:
        return dtype

    def make_node(self, x):
        x = as_tensor_variable(x)
        axes = self._axes(x.ndim)
        for a in axes:
            if a >= x.ndim:
                raise ValueError(f"{type(self).__name__}: axis {a} out of range for {x.type}")
        bcast = [b for d, b in enumerate(x.broadcastable) if d not in axes]
        return Apply(self, [x], [TensorType(self.out_dtype(x.dtype), bcast)()])

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        axes = self._axes(x.ndim)
        out[0][0] = np.asarray(self.numpy(x, axis=axes), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        axes = self._axes(node.inputs[0].ndim)
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in axes)]

    def pprint(self, node, ins):
        if self.axis is None or len(self.axis) == node.inputs[0].ndim:
            return f"{self.name}({ins[0]})"
        return f"{self.name}({ins[0]}, axis={list(self.axis)})"


class _AccumulatingReduce(CAReduce):
    """Sum and Prod: an optional output dtype and accumulator dtype (Theano's ``acc_dtype``).

    Integers accumulate and return in (u)int64; float16/float32 accumulate in float32/float64
    and are cast back, as in Theano (``float32([1e8, 1, -1e8]).sum()`` is 1).
    """

    __props__ = ("axis", "dtype", "acc_dtype")

    def __init__(self, axis=None, dtype: str | None = None, acc_dtype: str | None = None) -> None:
        super().__init__(axis)
        self.dtype = dtype
        self.acc_dtype = acc_dtype

    def out_dtype(self, dtype):
        if self.dtype is not None:
            return self.dtype
        if dtype in ("bool", "int8", "int16", "int32", "int64"):
            return "int64"
        if dtype.startswith("uint"):
            return "uint64"
        return dtype

    def accumulator_dtype(self, dtype: str) -> str:
        """The dtype the reduction runs in, for input dtype ``dtype``."""
        if self.acc_dtype is not None:
            return self.acc_dtype
        wider = {"float16": "float32", "float32": "float64", "complex64": "complex128"}
        out = self.out_dtype(dtype)
        return wider.get(out, out) if out in ("float16", "float32", "complex64") else upcast(dtype, out)

    def make_node(self, x):
        node = super().make_node(x)
        idtype = node.inputs[0].dtype
        if self.acc_dtype is not None and upcast(idtype, self.acc_dtype) != self.acc_dtype:
            raise TypeError(f"Cannot build {type(self).__name__} node with input dtype {idtype} and "
                            f"acc_dtype {self.acc_dtype}, as precision would be lost.")
        return node

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        acc = self.accumulator_dtype(x.dtype.name)
        out[0][0] = np.asarray(self.numpy(x.astype(acc), axis=self._axes(x.ndim)),
                               dtype=node.outputs[0].dtype)


class Sum(_AccumulatingReduce):
    """Sum over ``axis``."""

    name = "sum"
    numpy = staticmethod(np.sum)

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        (gz,) = grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        axes = self._axes(x.ndim)
        gx = E.second(x, _expand_reduced(gz, x, axes))
        return [gx if gx.dtype == x.dtype else E.cast(gx, x.dtype)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


class Prod(_AccumulatingReduce):
    """Product over ``axis``; its gradient handles zeros exactly."""

    name = "prod"
    numpy = staticmethod(np.prod)

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        (gz,) = grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        axes = self._axes(x.ndim)
        # Product of the other elements of each group, exact when there are zeros:
        #   no zero in the group  -> prod / x
        #   one zero              -> prod of the non-zeros, at the zero only
        #   two or more zeros     -> 0
        is_zero = E.eq(x, 0)
        n_zero = _expand_reduced(Sum(self.axis)(is_zero), x, axes)
        nonzero_prod = _expand_reduced(Prod(self.axis)(E.switch(is_zero, 1, x)), x, axes)
        prod_b = _expand_reduced(outputs[0], x, axes)
        gz_b = _expand_reduced(gz, x, axes)
        others = E.switch(E.eq(n_zero, 0), prod_b / E.switch(is_zero, 1, x),
                          E.switch(E.and_(E.eq(n_zero, 1), is_zero), nonzero_prod, 0))
        gx = gz_b * others
        return [gx if gx.dtype == x.dtype else E.cast(gx, x.dtype)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        (x,) = inputs
        g = self.L_op(inputs, [self(x)], [E.fill(self(x), 1.0)])[0]
        return [sum(g * eval_points[0], axis=self.axis)]


class Max(CAReduce):
    """Maximum over ``axis``; the gradient goes to every maximal element (Theano)."""

    name = "max"
    numpy = staticmethod(np.max)

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        axes = self._axes(x.ndim)
        gz_b = _expand_reduced(grads[0], x, axes)
        out_b = _expand_reduced(outputs[0], x, axes)
        return [E.eq(out_b, x) * gz_b]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        (x,) = inputs
        axes = self._axes(x.ndim)
        mask = E.eq(_expand_reduced(self(x), x, axes), x)
        r = sum(mask * eval_points[0], axis=self.axis) / sum(mask, axis=self.axis)
        return [r if r.dtype == x.dtype else E.cast(r, x.dtype)]  # bool counts upcast to float64


class Min(Max):
    """Minimum over ``axis``."""

    name = "min"
    numpy = staticmethod(np.min)


class Any(CAReduce):
    """Logical or over ``axis``."""

    name = "any"
    numpy = staticmethod(np.any)

    def out_dtype(self, dtype):
        return "bool"

    def L_op(self, inputs, outputs, grads):
        return [_zero_grad(inputs[0])]

    def R_op(self, inputs, eval_points):
        return [None]


class All(Any):
    """Logical and over ``axis``."""

    name = "all"
    numpy = staticmethod(np.all)


class Argmax(Op):
    """Index of the maximum along one axis (or of the flattened tensor)."""

    __props__ = ("axis",)
    numpy = staticmethod(np.argmax)
    name = "argmax"

    def __init__(self, axis: int | None) -> None:
        self.axis = axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            bcast: list[bool] = []
        else:
            bcast = [b for d, b in enumerate(x.broadcastable) if d != self.axis]
        return Apply(self, [x], [TensorType("int64", bcast)()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(self.numpy(inputs[0], axis=self.axis), dtype="int64")

    def L_op(self, inputs, outputs, grads):
        return [_zero_grad(inputs[0])]

    def connection_pattern(self, node):
        return [[False]]

    def R_op(self, inputs, eval_points):
        return [None]

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d != self.axis)]

    def pprint(self, node, ins):
        return f"{self.name}({ins[0]}, axis={self.axis})"


class Argmin(Argmax):
    """Index of the minimum along one axis."""

    numpy = staticmethod(np.argmin)
    name = "argmin"


# ---------------------------------------------------------------------- user reductions

def sum(x: Any, axis: Any = None, dtype: str | None = None, keepdims: bool = False,  # noqa: A001
        acc_dtype: str | None = None) -> Variable:
    """Sum of ``x`` over ``axis`` (all axes by default).

    ``dtype`` is the result's dtype; ``acc_dtype`` the accumulator's (by default, as in
    Theano, float16/float32 accumulate in float32/float64 and integers in int64).

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.sum(m, axis=0).eval({m: [[1., 2.], [3., 4.]]})
    array([4., 6.])
    """
    x = as_tensor_variable(x)
    axes = _norm_axis(axis, x.ndim)
    out = Sum(None if axis is None else axes, dtype, acc_dtype)(x)
    return _keep_dims(x, out, axes) if keepdims else out


def prod(x: Any, axis: Any = None, dtype: str | None = None, keepdims: bool = False,
         acc_dtype: str | None = None, no_zeros_in_input: bool = False) -> Variable:
    """Product of ``x`` over ``axis``."""
    x = as_tensor_variable(x)
    axes = _norm_axis(axis, x.ndim)
    out = Prod(None if axis is None else axes, dtype, acc_dtype)(x)
    return _keep_dims(x, out, axes) if keepdims else out


def _reduce(cls, x, axis, keepdims):
    x = as_tensor_variable(x)
    axes = _norm_axis(axis, x.ndim)
    out = cls(None if axis is None else axes)(x)
    return _keep_dims(x, out, axes) if keepdims else out


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Maximum of ``x`` over ``axis``."""
    return _reduce(Max, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Minimum of ``x`` over ``axis``."""
    return _reduce(Min, x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """True if any element over ``axis`` is non-zero."""
    return _reduce(Any, x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """True if every element over ``axis`` is non-zero."""
    return _reduce(All, x, axis, keepdims)


def _arg(cls, x, axis, keepdims):
    x = as_tensor_variable(x)
    if axis is None:
        out = cls(None)(x)
        if keepdims:
            out = out.dimshuffle(["x"] * x.ndim)
        return out
    axes = tuple(sorted(_norm_axis(axis, x.ndim)))
    if len(axes) == 1:
        out = cls(axes[0])(x)
    else:  # Theano: the index into the reduced axes flattened together (C order)
        keep = [d for d in range(x.ndim) if d not in axes]
        moved = x.dimshuffle(keep + list(axes))
        out = cls(None if not keep else len(keep))(
            moved if not keep else reshape(moved, [x.shape[d] for d in keep] + [-1]))
    return _keep_dims(x, out, axes) if keepdims else out


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Index of the maximum along ``axis`` (of the flattened tensor if None)."""
    return _arg(Argmax, x, axis, keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Index of the minimum along ``axis``."""
    return _arg(Argmin, x, axis, keepdims)


def max_and_argmax(x: Any, axis: Any = None, keepdims: bool = False) -> tuple[Variable, Variable]:
    """``(max(x, axis), argmax(x, axis))``."""
    return max(x, axis, keepdims), argmax(x, axis, keepdims)


def mean(x: Any, axis: Any = None, dtype: str | None = None, keepdims: bool = False,
         acc_dtype: str | None = None) -> Variable:
    """Mean of ``x`` over ``axis``: the sum divided by each reduced length (Theano's graph)."""
    x = as_tensor_variable(x)
    axes = _norm_axis(axis, x.ndim)
    s = sum(x, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    shp = E.cast(shape(x), "float32" if s.dtype in ("float16", "float32", "complex64") else "float64")
    for a in axes:
        s = E.true_div(s, shp[a])
    if dtype is not None and s.dtype != dtype:
        s = E.cast(s, dtype)
    return s


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Variable:
    """Variance of ``x`` over ``axis`` (``ddof=1`` or ``corrected=True`` for the unbiased one)."""
    x = as_tensor_variable(x)
    axes = _norm_axis(axis, x.ndim)
    centered = x - mean(x, axis=axis, keepdims=True)
    v = mean(E.sqr(centered), axis=axis, keepdims=keepdims)
    if corrected:
        ddof = 1
    if ddof:
        n = E.cast(prod(shape(x)[list(axes)] if axes else shape(x)[:0]), v.dtype)
        v = v * (n / (n - ddof))
    return v


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Variable:
    """Standard deviation of ``x`` over ``axis``."""
    return E.sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


# ---------------------------------------------------------------------- dot


class Dot(Op):
    """Matrix/vector product of two tensors of rank 1 or 2."""

    __props__ = ()

    def __str__(self):
        return "dot"

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise TypeError(f"Dot takes vectors and matrices, got {x.type} and {y.type}")
        bcast = x.broadcastable[:-1] + y.broadcastable[1:]
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), bcast)()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(np.dot(*inputs), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        x, y = inputs
        (gz,) = grads
        if gz.ndim == 0:
            gx, gy = gz * y, gz * x
        elif x.ndim == 1 and y.ndim == 2:
            gx, gy = dot(gz, y.T), outer(x.T, gz)
        elif x.ndim == 2 and y.ndim == 1:
            gx, gy = outer(gz, y.T), dot(x.T, gz)
        else:
            gx, gy = dot(gz, y.T), dot(x.T, gz)
        out = []
        for inp, g in ((x, gx), (y, gy)):
            if inp.dtype in discrete_dtypes:
                out.append(_zero_grad(inp))
                continue
            g = patternbroadcast(g, inp.broadcastable)
            out.append(g if g.dtype == inp.dtype else E.cast(g, inp.dtype))
        return out

    def R_op(self, inputs, eval_points):
        x, y = inputs
        ex, ey = eval_points
        terms = []
        if ex is not None:
            terms.append(self(ex, y))
        if ey is not None:
            terms.append(self(x, ey))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]

    def pprint(self, node, ins):
        return f"({ins[0]} \\dot {ins[1]})"


_dot = Dot()


class RowwiseDot(Dot):
    """``dot(x, y)`` of two matrices whose shared axis is a scan's steps, computed without a
    GEMM's workspace.

    The value, gradient and shape are :class:`Dot`'s; the op tells the lowering
    (``thx/lowering/math.py``, ``rowwise_plan``) that one GEMM of the whole
    ``[m, k] x [k, n]`` would pack both operands into a workspace of
    ``(m + n) * k`` elements beside XLA's buffers (Eigen's, which
    ``memory_analysis()`` does not count; 0.5 MB for a 128 x 512 weight
    gradient over 100 steps, 3.3 MB over 1,000).  Short products are computed
    one output row at a time, a matrix-vector product per row written in
    place, which packs nothing; long ones in blocks of steps; small ones as
    one GEMM.  Made by the scan push-out rewrite
    (``local_scan_pushout_outputs``) for the weight gradients it moves out of
    a loop (``sum_t outer(a_t, b_t)``), where the program it replaces, rank-1
    updates in the loop, packed nothing.
    """

    def __str__(self):
        return "RowwiseDot"

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim != 2 or y.ndim != 2:
            raise TypeError(f"RowwiseDot takes two matrices, got {x.type} and {y.type}")
        return super().make_node(x, y)


rowwise_dot = RowwiseDot()


def dot(a: Any, b: Any) -> Variable:
    """Generalised dot product: scalars multiply, vectors/matrices use Dot, higher ranks tensordot.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x, W = T.dvector('x'), T.dmatrix('W')
    >>> T.dot(x, W).eval({x: [0., 1.], W: [[1., 2.], [3., 4.]]})
    array([3., 4.])
    """
    for v, other, method in ((a, b, "__dot__"), (b, a, "__rdot__")):
        if getattr(getattr(v, "type", None), "host_only", False):  # a sparse operand: its own dot
            return getattr(v, method)(other)
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [np.maximum(0, b.ndim - 2)]])


def outer(x: Any, y: Any) -> Variable:
    """Outer product of two vectors (flattened first if needed)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = x.flatten()
    if y.ndim != 1:
        y = y.flatten()
    return dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def tensordot(a: Any, b: Any, axes: Any = 2) -> Variable:
    """Sum of products over the given axes (``numpy.tensordot``), built from transposes,
    reshapes and one Dot, as Theano does."""
    from thx.tensor.basic import reshape
    from thx.tensor.elemwise import mul
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes_a = list(range(a.ndim - int(axes), a.ndim))
        axes_b = list(range(int(axes)))
    else:
        axes_a, axes_b = ([int(v)] if np.ndim(v) == 0 else [int(w) for w in v] for v in axes)
    axes_a = [d % a.ndim for d in axes_a]
    axes_b = [d % b.ndim for d in axes_b]
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: axes {axes_a} and {axes_b} differ in length")
    free_a = [d for d in range(a.ndim) if d not in axes_a]
    free_b = [d for d in range(b.ndim) if d not in axes_b]
    at = a.dimshuffle(free_a + axes_a)
    bt = b.dimshuffle(axes_b + free_b)
    sa, sb = shape(a), shape(b)

    def _prod(idx, sh):
        return mul(*[sh[i] for i in idx]) if idx else 1

    a2 = reshape(at, (_prod(free_a, sa), _prod(axes_a, sa)))
    b2 = reshape(bt, (_prod(axes_b, sb), _prod(free_b, sb)))
    out = _dot(a2, b2)
    out_shape = [sa[d] for d in free_a] + [sb[d] for d in free_b]
    return reshape(out, tuple(out_shape)) if out_shape else reshape(out, ())


def batched_dot(a: Any, b: Any) -> Variable:
    """Dot of matching slices along the first axis: ``out[i] = dot(a[i], b[i])``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 2 and b.ndim == 2:
        return sum(a * b, axis=1)
    if a.ndim == 3 and b.ndim == 3:
        return sum(a.dimshuffle(0, 1, 2, "x") * b.dimshuffle(0, "x", 1, 2), axis=2)
    if a.ndim == 3 and b.ndim == 2:
        return sum(a * b.dimshuffle(0, "x", 1), axis=2)
    if a.ndim == 2 and b.ndim == 3:
        return sum(a.dimshuffle(0, 1, "x") * b, axis=1)
    raise TypeError(f"batched_dot: unsupported ranks {a.ndim} and {b.ndim}")


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """``log(sum(exp(x)))`` over ``axis`` (the optimizer makes it stable)."""
    return E.log(sum(E.exp(x), axis=axis, keepdims=keepdims))


def relu(x: Any, alpha: float = 0) -> Variable:
    """Rectified linear unit, ``max(x, 0)`` (leaky with ``alpha``)."""
    x = as_tensor_variable(x)
    if alpha == 0:
        return 0.5 * (x + E.abs_(x))
    f1 = 0.5 * (1 + alpha)
    f2 = 0.5 * (1 - alpha)
    return f1 * x + f2 * E.abs_(x)


def hard_sigmoid(x: Any) -> Variable:
    """Piecewise-linear approximation of the sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    x = as_tensor_variable(x)
    return E.clip(0.2 * x + 0.5, 0, 1)


def ultra_fast_sigmoid(x: Any) -> Variable:
    """The sigmoid (thx computes it exactly; XLA makes it fast)."""
    return E.sigmoid(x)


def binary_crossentropy(output: Any, target: Any) -> Variable:
    """``-(target * log(output) + (1 - target) * log(1 - output))``."""
    return -(target * E.log(output) + (1.0 - target) * E.log(1.0 - output))


def sigmoid_binary_crossentropy(output: Any, target: Any) -> Variable:
    """Binary cross-entropy of ``sigmoid(output)``, computed stably from the logits."""
    return E.softplus(-output) * target + E.softplus(output) * (1.0 - target)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Variable:
    """Cross-entropy of each row: ``true_dist`` one-hot rows or integer labels."""
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -sum(true_dist * E.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype in discrete_dtypes:
        from thx.tensor.basic import arange
        from thx.tensor.subtensor import getitem
        return -E.log(getitem(coding_dist, (arange(shape(coding_dist)[0]), true_dist)))
    raise TypeError(f"categorical_crossentropy: true_dist must be one-hot rows or int labels, got {true_dist.type}")


def elu(x: Any, alpha: float = 1.0) -> Variable:
    """Exponential linear unit."""
    return E.switch(E.gt(x, 0), x, alpha * E.expm1(x))


def l1(x: Any) -> Variable:
    return sum(E.abs_(x))


def l2_sqr(x: Any) -> Variable:
    return sum(E.sqr(x))


_ = (DimShuffle, DisconnectedType, _disconnected)


# The softmax ops live in softmax.py (they build reductions from this module); re-exported here
# for Theano's import path and thx's older one.
from thx.tensor.softmax import LogSoftmax, Softmax, logsoftmax, softmax  # noqa: E402,F401
