"""Indexing: basic (``x[1:3, i]``) and advanced (``x[[0, 2]]``, ``x[idx_vec, :]``),
and their in-place-looking counterparts ``set_subtensor`` / ``inc_subtensor``.

An index is stored in the op's props as a tuple of entries:

* an ``int``: a constant integer index (drops the dimension);
* ``"?"``: a scalar integer taken from the node's next index input;
* ``("slice", start, stop, step)``: each part None, an int, or ``"?"``;
* ``"a"`` (advanced ops only): an integer array taken from the next input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor.elemwise import _zero_grad
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable


def _disc():
    return DisconnectedType()()


def _is_int_like(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _parse(x: Variable, idx: Any) -> tuple[tuple, list[Variable], bool]:
    """Split a Python index into (entries, index inputs, is_advanced)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    # Expand Ellipsis; None (newaxis) is applied afterwards by a DimShuffle.
    n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if sum(1 for i in idx if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single Ellipsis")
    expanded: list[Any] = []
    for i in idx:
        if i is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - n_real))
        else:
            expanded.append(i)
    if n_real > x.ndim:
        raise IndexError(f"too many indices for {x.type}: {n_real} indices, {x.ndim} dimensions")
    entries: list[Any] = []
    inputs: list[Variable] = []
    advanced = False
    for i in expanded:
        if i is None:
            entries.append(None)
        elif isinstance(i, slice):
            parts: list[Any] = []
            for p in (i.start, i.stop, i.step):
                if p is None or _is_int_like(p):
                    parts.append(None if p is None else int(p))
                else:
                    v = as_tensor_variable(p)
                    if v.ndim != 0 or v.dtype not in discrete_dtypes:
                        raise TypeError(f"slice bounds must be integer scalars, got {v.type}")
                    parts.append("?")
                    inputs.append(v)
            entries.append(("slice",) + tuple(parts))
        elif _is_int_like(i):
            entries.append(int(i))
        else:
            v = as_tensor_variable(i)
            if v.dtype == "bool":
                raise TypeError(  # Theano 1.0's error class and advice (library/tensor/basic)
                    "TensorType does not support boolean mask for indexing such as tensor[x==0]. "
                    "Instead you can use nonzero() such as tensor[(x == 0).nonzero()] (its "
                    "positions are computed on the host between jitted segments; "
                    "T.nonzero_values(x) gives x[x != 0]), or T.switch(mask, x, 0) to keep the "
                    "shape: a boolean mask gives a result whose shape depends on the data, which "
                    "XLA cannot compile inside one function.")
            if v.dtype not in discrete_dtypes:
                raise TypeError(f"index must be integers, got {v.type} ({i!r})")
            if v.ndim == 0:
                entries.append("?")
            else:
                entries.append("a")
                advanced = True
            inputs.append(v)
    return tuple(entries), inputs, advanced


def _pad_entries(entries: tuple, ndim: int) -> tuple:
    real = [e for e in entries if e is not None]
    return entries + (("slice", None, None, None),) * (ndim - len(real))


def _build_index(entries: tuple, values: Sequence[Any]) -> tuple:
    """The Python index tuple, given the values of the index inputs."""
    it = iter(values)
    out: list[Any] = []
    for e in entries:
        if e is None:
            out.append(None)
        elif isinstance(e, tuple):
            out.append(slice(*[next(it) if p == "?" else p for p in e[1:]]))
        elif e in ("?", "a"):
            out.append(next(it))
        else:
            out.append(e)
    return tuple(out)


def _entries_str(entries: tuple, ins: list[str]) -> str:
    it = iter(ins)
    parts = []
    for e in entries:
        if e is None:
            parts.append("None")
        elif isinstance(e, tuple):
            s = [("" if p is None else (next(it) if p == "?" else str(p))) for p in e[1:]]
            parts.append(":".join(s[:2]) + (f":{s[2]}" if s[2] else ""))
        elif e in ("?", "a"):
            parts.append(next(it))
        else:
            parts.append(str(e))
    return ", ".join(parts)


def _basic_out_bcast(x: Variable, entries: tuple) -> list[bool]:
    out = []
    d = 0
    for e in entries:
        if e is None:
            out.append(True)
            continue
        if isinstance(e, tuple):
            out.append(x.broadcastable[d] and e[1:] == (None, None, None))
        d += 1
    return out


class _ReadIndex(Op):
    """Shared shell of Subtensor and AdvancedSubtensor: ``x[idx]``."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list: tuple) -> None:
        self.idx_list = tuple(idx_list)

    def _inc_class(self) -> type:
        raise NotImplementedError

    def L_op(self, inputs, outputs, grads):
        x, *rest = inputs
        if x.dtype in discrete_dtypes:
            gx = _zero_grad(x)
        else:
            from thx.tensor.basic import zeros_like
            gx = self._inc_class()(self.idx_list)(zeros_like(x), grads[0], *rest)
        return [gx] + [_disc() for _ in rest]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]

    def pprint(self, node, ins):
        return f"{ins[0]}[{_entries_str(self.idx_list, ins[1:])}]"


class _WriteIndex(Op):
    """Shared shell of IncSubtensor and AdvancedIncSubtensor: ``x`` with ``x[idx]`` changed by ``y``."""

    __props__ = ("idx_list", "set_instead_of_inc")

    def __init__(self, idx_list: tuple, set_instead_of_inc: bool = False) -> None:
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = set_instead_of_inc

    def _read_class(self) -> type:
        raise NotImplementedError

    def make_node(self, x, y, *index_inputs):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        ins = [as_tensor_variable(i) for i in index_inputs]
        if y.dtype != x.dtype:
            from thx.tensor.elemwise import cast
            from thx.tensor.type import upcast
            # Theano stores with NumPy's casting: a set downcasts (float64 into int8 truncates);
            # an increment (``x[i] += y``) downcasts only within a kind (float64 into float32)
            if (not self.set_instead_of_inc and upcast(x.dtype, y.dtype) != x.dtype
                    and not np.can_cast(y.dtype, x.dtype, casting="same_kind")):
                raise TypeError(f"{self}: cannot add a {y.dtype} value to a {x.dtype} tensor "
                                f"in place (NumPy's same_kind casting); cast it first")
            y = cast(y, x.dtype)
        return Apply(self, [x, y] + ins, [x.type()])

    def L_op(self, inputs, outputs, grads):
        x, y, *rest = inputs
        (gz,) = grads
        sub = self._read_class()(self.idx_list)
        if self.set_instead_of_inc:
            gx = type(self)(self.idx_list, True)(gz, _zeros_of(sub(gz, *rest)), *rest)
        else:
            gx = gz
        gy = _sum_to(sub(gz, *rest), y)
        if x.dtype in discrete_dtypes:
            gx, gy = _zero_grad(x), _zero_grad(y)
        return [gx, gy] + [_disc() for _ in rest]

    def connection_pattern(self, node):
        return [[True], [True]] + [[False] for _ in node.inputs[2:]]

    def R_op(self, inputs, eval_points):
        ex, ey = eval_points[:2]
        if ex is None and ey is None:
            return [None]
        from thx.tensor.basic import zeros_like
        x, y, *rest = inputs
        return [self(ex if ex is not None else zeros_like(x), ey if ey is not None else zeros_like(y), *rest)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pprint(self, node, ins):
        fn = "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"
        return f"{fn}({ins[0]}[{_entries_str(self.idx_list, ins[2:])}], {ins[1]})"


class Subtensor(_ReadIndex):
    """Basic indexing with integers and slices (a view in NumPy)."""

    def __str__(self):
        return f"Subtensor{{{_entries_str(self.idx_list, ['?'] * 99)}}}"

    def _inc_class(self) -> type:
        return IncSubtensor

    def make_node(self, x, *index_inputs):
        x = as_tensor_variable(x)
        ins = [as_tensor_variable(i) for i in index_inputs]
        return Apply(self, [x] + ins, [TensorType(x.dtype, _basic_out_bcast(x, self.idx_list))()])

    def perform(self, node, inputs, out):
        x, *vals = inputs
        out[0][0] = np.asarray(np.asarray(x)[_build_index(self.idx_list, [int(v) for v in vals])])

    def infer_shape(self, fgraph, node, input_shapes):
        from thx.tensor import elemwise as E
        from thx.tensor.var import constant
        x, *rest = node.inputs
        it = iter(rest)
        out = []
        d = 0
        for e in self.idx_list:
            if e is None:
                out.append(constant(1, dtype="int64"))
                continue
            n = input_shapes[0][d]
            if isinstance(e, tuple):
                start, stop, step = [next(it) if p == "?" else p for p in e[1:]]
                if start is None and stop is None and step is None:
                    out.append(n)
                elif (step is None or (isinstance(step, int) and step == 1)) and all(
                        isinstance(p, int) and p >= 0 for p in (start or 0, stop) if p is not None):
                    lo = start or 0
                    hi = n if stop is None else E.minimum(n, stop)
                    out.append(E.cast(E.maximum(hi - lo, 0), "int64"))
                else:
                    raise NotImplementedError("shape of a general slice")
            elif e == "?":
                next(it)
            d += 1
        return [tuple(out)]


class IncSubtensor(_WriteIndex):
    """``x`` with ``x[idx]`` increased by (or set to) ``y``; a new array, not in place."""

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_entries_str(self.idx_list, ['?'] * 99)}}}"

    def _read_class(self) -> type:
        return Subtensor

    def perform(self, node, inputs, out):
        x, y, *vals = inputs
        z = np.array(x, copy=True)
        idx = _build_index(self.idx_list, [int(v) if np.ndim(v) == 0 else v for v in vals])
        if self.set_instead_of_inc:
            z[idx] = y
        else:
            z[idx] += y
        out[0][0] = z


def _zeros_of(v):
    from thx.tensor.basic import zeros_like
    return zeros_like(v)


def _sum_to(g: Variable, y: Variable) -> Variable:
    """Reduce the gradient of a broadcast ``y`` back to ``y``'s shape."""
    from thx.tensor.math import sum as _sum
    if g.ndim > y.ndim:
        g = _sum(g, axis=list(range(g.ndim - y.ndim)))
    axes = [d for d in range(y.ndim) if y.broadcastable[d] and not g.broadcastable[d]]
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    from thx.tensor.basic import patternbroadcast
    return patternbroadcast(g, y.broadcastable)


class AdvancedSubtensor(_ReadIndex):
    """NumPy advanced indexing with integer arrays (mixed with slices and integers)."""

    def __str__(self):
        return "AdvancedSubtensor"

    def _inc_class(self) -> type:
        return AdvancedIncSubtensor

    def _out_ndim(self, x, index_inputs) -> int:
        # a dummy just long enough for the constant integer entries (x[idx, 3] needs 4 columns)
        dims, d = [1] * x.ndim, 0
        for e in self.idx_list:
            if e is None:
                continue
            if isinstance(e, int) and d < x.ndim:
                dims[d] = e + 1 if e >= 0 else -e
            d += 1
        dummy = np.zeros(dims)
        vals = [np.zeros([1] * i.ndim, dtype="int64") for i in index_inputs]
        return np.asarray(dummy[_build_index(self.idx_list, vals)]).ndim

    def make_node(self, x, *index_inputs):
        x = as_tensor_variable(x)
        ins = [as_tensor_variable(i) for i in index_inputs]
        ndim = self._out_ndim(x, ins)
        return Apply(self, [x] + ins, [TensorType(x.dtype, (False,) * ndim)()])

    def perform(self, node, inputs, out):
        x, *vals = inputs
        out[0][0] = np.asarray(np.asarray(x)[_build_index(self.idx_list, vals)])


class AdvancedIncSubtensor(_WriteIndex):
    """``x`` with ``x[idx]`` increased by (repeated indices accumulate) or set to ``y``."""

    def __str__(self):
        return "AdvancedSetSubtensor" if self.set_instead_of_inc else "AdvancedIncSubtensor"

    def _read_class(self) -> type:
        return AdvancedSubtensor

    def perform(self, node, inputs, out):
        x, y, *vals = inputs
        z = np.array(x, copy=True)
        idx = _build_index(self.idx_list, vals)
        if self.set_instead_of_inc:
            z[idx] = y
        else:
            np.add.at(z, idx, y)
        out[0][0] = z


# ---------------------------------------------------------------------- user API


def getitem(x: Any, idx: Any) -> Variable:
    """``x[idx]`` with NumPy semantics (basic and integer-array indexing).

    Examples
    --------
    >>> import thx.tensor as T
    >>> m = T.dmatrix('m')
    >>> m[1, ::-1].eval({m: [[1., 2.], [3., 4.]]})
    array([4., 3.])
    """
    x = as_tensor_variable(x)
    entries, inputs, advanced = _parse(x, idx)
    if advanced:
        entries = _pad_entries(entries, x.ndim)
        return AdvancedSubtensor(entries)(x, *inputs)
    # newaxis entries become a DimShuffle after the basic indexing
    core = tuple(e for e in entries if e is not None)
    if not core:
        out = x
    else:
        out = Subtensor(_pad_entries(core, x.ndim))(x, *inputs)
    if any(e is None for e in entries):
        order: list[Any] = []
        d = 0
        for e in entries:
            if e is None:
                order.append("x")
            elif isinstance(e, tuple):
                order.append(d)
                d += 1
        order.extend(range(d, out.ndim))
        out = out.dimshuffle(order)
    return out


def _subtensor_parts(x: Variable):
    if x.owner is None or not isinstance(x.owner.op, (Subtensor, AdvancedSubtensor)):
        raise TypeError("set_subtensor/inc_subtensor: the first argument must be an indexed tensor, "
                        "e.g. inc_subtensor(x[1:3], y)")
    return x.owner.op, x.owner.inputs[0], x.owner.inputs[1:]


def inc_subtensor(x: Variable, y: Any, inplace: bool = False, set_instead_of_inc: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> Variable:
    """The base tensor of ``x = base[idx]`` with ``base[idx]`` increased by ``y``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.inc_subtensor(v[1:], 10.).eval({v: [1., 2., 3.]})
    array([ 1., 12., 13.])
    """
    op, base, idx = _subtensor_parts(x)
    y = as_tensor_variable(y)
    if y.ndim > x.ndim:  # Theano checks when the graph is built (NumPy would broadcast the error away)
        raise TypeError(f"Trying to increment a {x.ndim}-dimensional subtensor with a "
                        f"{y.ndim}-dimensional value.")
    if isinstance(op, Subtensor):
        return IncSubtensor(op.idx_list, set_instead_of_inc)(base, y, *idx)
    return AdvancedIncSubtensor(op.idx_list, set_instead_of_inc)(base, y, *idx)


def set_subtensor(x: Variable, y: Any, inplace: bool = False, tolerate_inplace_aliasing: bool = False) -> Variable:
    """The base tensor of ``x = base[idx]`` with ``base[idx]`` replaced by ``y``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> v = T.dvector('v')
    >>> T.set_subtensor(v[0], 5.).eval({v: [1., 2.]})
    array([5., 2.])
    """
    return inc_subtensor(x, y, set_instead_of_inc=True)


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> Variable:
    """``numpy.take``: elements of ``a`` at ``indices`` along ``axis`` (Theano's signature).

    ``mode`` is ``'raise'`` (out-of-range indices are an error), ``'wrap'``
    (indices taken modulo the length) or ``'clip'`` (clipped to the range).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> T.take(T.constant(np.array([[1, 2], [3, 4]])), [1, -1], axis=1).eval()
    array([[2, 2],
           [4, 4]])
    """
    a = as_tensor_variable(a)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if axis is None:
        a, axis = a.flatten(), 0
    if axis < 0:
        axis += a.ndim
    if mode != "raise":
        from thx.tensor import elemwise as E
        n = a.shape[axis]
        indices = as_tensor_variable(indices)
        indices = E.mod(indices, n) if mode == "wrap" else E.clip(indices, 0, n - 1)
    idx: list[Any] = [slice(None)] * a.ndim
    idx[axis] = indices
    return getitem(a, tuple(idx))


def sparse_grad(var: Variable) -> Variable:
    """``var``, an advanced-indexing read (``x[idx]``) whose gradient Theano would keep sparse.

    thx has no sparse tensors: the gradient of ``x[idx]`` is a dense scatter-add into zeros,
    which XLA fuses; the variable is returned as it is.

    Raises
    ------
    TypeError
        If ``var`` is not the result of advanced indexing (Theano's condition).
    """
    if var.owner is None or not isinstance(var.owner.op, AdvancedSubtensor):
        raise TypeError("Sparse gradient is only implemented for AdvancedSubtensor1 "
                        "(advanced indexing with an integer vector)")
    return var
