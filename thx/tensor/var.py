"""TensorVariable (operator overloads), TensorConstant, and literal conversion."""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Constant, Variable, _as_variable_hook, constant_text
from thx.tensor.type import TensorType


def _comparison(result):
    """Mark a comparison operator's result as having no truth value (Theano's rule)."""
    result._is_nonzero = False
    return result


def _host_only(v: Any) -> bool:
    return getattr(getattr(v, "type", None), "host_only", False)


class _TensorMethods:
    """The NumPy-like surface shared by tensor variables and constants."""

    type: TensorType

    # ------------------------------------------------------------ arithmetic
    # An operand of a host-only type (a sparse matrix) answers through its own reflected
    # method (sparse + dense is sparse.add), as Theano's tensors returned NotImplemented.
    def __add__(self, other): return NotImplemented if _host_only(other) else _E.add(self, other)
    def __radd__(self, other): return _E.add(other, self)
    def __sub__(self, other): return NotImplemented if _host_only(other) else _E.sub(self, other)
    def __rsub__(self, other): return _E.sub(other, self)
    def __mul__(self, other): return NotImplemented if _host_only(other) else _E.mul(self, other)
    def __rmul__(self, other): return _E.mul(other, self)
    def __truediv__(self, other): return _E.true_div(self, other)
    def __rtruediv__(self, other): return _E.true_div(other, self)
    def __floordiv__(self, other): return _E.int_div(self, other)
    def __rfloordiv__(self, other): return _E.int_div(other, self)
    def __mod__(self, other): return _E.mod(self, other)
    def __rmod__(self, other): return _E.mod(other, self)
    def __pow__(self, other): return _E.pow(self, other)
    def __rpow__(self, other): return _E.pow(other, self)
    def __neg__(self): return _E.neg(self)
    def __abs__(self): return _E.abs_(self)
    def __invert__(self): return _E.invert(self)
    def __and__(self, other): return _E.and_(self, other)
    def __rand__(self, other): return _E.and_(other, self)
    def __or__(self, other): return _E.or_(self, other)
    def __ror__(self, other): return _E.or_(other, self)
    def __xor__(self, other): return _E.xor(self, other)
    def __rxor__(self, other): return _E.xor(other, self)
    def __matmul__(self, other): return NotImplemented if _host_only(other) else _M.dot(self, other)
    def __rmatmul__(self, other): return _M.dot(other, self)

    __array_ufunc__ = None  # make NumPy defer: ndarray * variable -> variable.__rmul__

    # Theano overloads ordering comparisons but keeps == / != as identity.  Their results
    # refuse truthiness so that ``a < b < c`` (Python's ``(a < b) and (b < c)``) fails loudly.
    def __lt__(self, other): return NotImplemented if _host_only(other) else _comparison(_E.lt(self, other))
    def __le__(self, other): return NotImplemented if _host_only(other) else _comparison(_E.le(self, other))
    def __gt__(self, other): return NotImplemented if _host_only(other) else _comparison(_E.gt(self, other))
    def __ge__(self, other): return NotImplemented if _host_only(other) else _comparison(_E.ge(self, other))
    __hash__ = Variable.__hash__

    _is_nonzero = True

    def __bool__(self):
        # As Theano: any variable is true (real code writes ``if not W:`` for an optional
        # parameter) except a comparison operator's result.
        if self._is_nonzero:
            return True
        raise TypeError("Variables do not support boolean operations.")

    def __iter__(self):
        # a vector whose length the graph decides (x.shape, T.stack of scalars) unpacks:
        # rows, cols = X.shape
        from thx.tensor._static_length import static_length
        n = static_length(self) if self.ndim == 1 else None
        if n is None:
            raise TypeError(f"TensorType does not support iteration: {self} has a symbolic length. "
                            f"Index it, or use thx.scan to loop over it. (Maybe you are using "
                            f"builtins.sum instead of thx.tensor.sum?)")
        return iter([self[k] for k in range(n)])

    def __len__(self):
        raise TypeError("len() of a symbolic tensor is not defined (its shape is symbolic); "
                        "use x.shape[0]")

    # ------------------------------------------------------------ attributes
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def shape(self):
        return _B.shape(self)

    @property
    def size(self):
        return _M.prod(self.shape)

    @property
    def T(self):
        return _B.transpose(self)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return _B.transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return _E.DimShuffle(self.broadcastable, pattern)(self)

    def reshape(self, shape, ndim=None):
        return _B.reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _B.flatten(self, outdim if outdim is not None else ndim)

    def astype(self, dtype):
        return _E.cast(self, dtype)

    def patternbroadcast(self, broadcastable):
        """``T.patternbroadcast(self, broadcastable)`` (used by ``TensorType.convert_variable``)."""
        return _SH.patternbroadcast(self, broadcastable)

    def zeros_like(self, dtype=None):
        """``T.zeros_like(self, dtype)``: the gradient core builds its zeros with this."""
        return _B.zeros_like(self, dtype=dtype)

    def ones_like(self, dtype=None):
        """``T.ones_like(self, dtype)``: the gradient core builds its seed with this."""
        return _B.ones_like(self, dtype=dtype)

    def __getitem__(self, idx):
        return _S.getitem(self, idx)

    # ------------------------------------------------------------ reductions
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _M.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _M.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _M.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return _M.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return _M.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _M.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _M.min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _M.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _M.argmin(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        if L == 1:
            return _M.sum(_E.abs_(self), axis=axis, keepdims=keepdims)
        if L == 2:
            return _E.sqrt(_M.sum(_E.sqr(self), axis=axis, keepdims=keepdims))
        return _E.pow(_M.sum(_E.pow(_E.abs_(self), L), axis=axis, keepdims=keepdims), 1.0 / L)

    def dot(self, other):
        return _M.dot(self, other)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """``T.diagonal(self, offset, axis1, axis2)``: the ``offset`` diagonal (``numpy.diagonal``)."""
        return _D.diagonal(self, offset, axis1, axis2)

    def trace(self):
        """``nlinalg.trace(self)``: the sum of a matrix's diagonal."""
        return _NL.trace(self)

    def nonzero(self, return_matrix=False):
        """``T.nonzero(self, return_matrix)``: the indices of the non-zero entries, one vector per
        axis (a ``(ndim, n)`` matrix with ``return_matrix=True``)."""
        return _B.nonzero(self, return_matrix=return_matrix)

    def nonzero_values(self):
        """``T.nonzero_values(self)``: the non-zero entries, flattened (differentiable)."""
        return _B.nonzero_values(self)

    def clip(self, a_min, a_max):
        return _E.clip(self, a_min, a_max)

    def round(self, mode="half_to_even"):
        return _E.round(self, mode)

    def any(self, axis=None, keepdims=False):
        return _M.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _M.all(self, axis=axis, keepdims=keepdims)

    def fill(self, value):
        """``fill(self, value)``: ``value`` broadcast to this variable's shape (Theano's method)."""
        return _E.fill(self, value)

    def take(self, indices, axis=None, mode="raise"):
        """``numpy.take``: elements at ``indices`` along ``axis`` (flattened if None)."""
        return _S.take(self, indices, axis=axis, mode=mode)

    # ------------------------------------------------------------ extra_ops and sort (Theano's methods)
    def sort(self, axis=-1, kind="quicksort", order=None):
        return _SO.sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _SO.argsort(self, axis, kind, order)

    def cumsum(self, axis=None):
        return _X.cumsum(self, axis)

    def cumprod(self, axis=None):
        return _X.cumprod(self, axis)

    def searchsorted(self, v, side="left", sorter=None):
        return _X.searchsorted(self, v, side, sorter)

    def squeeze(self):
        return _X.squeeze(self)

    def compress(self, a, axis=None):
        """``compress(a, self, axis)``: the slices of this tensor where ``a`` is non-zero."""
        return _X.compress(a, self, axis=axis)

    def repeat(self, repeats, axis=None):
        return _B.repeat(self, repeats, axis)

    def exp(self): return _E.exp(self)
    def log(self): return _E.log(self)
    def sqrt(self): return _E.sqrt(self)


class TensorVariable(_TensorMethods, Variable):
    """A symbolic tensor: supports NumPy-like operators, indexing and methods.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> (x ** 2).sum().type
    TensorType(float64, scalar)
    """


class TensorConstant(_TensorMethods, Constant):
    """A tensor with a fixed value; prints as ``TensorConstant{2}`` (Theano 1.0)."""

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return f"TensorConstant{{{constant_text(self.data)}}}"

    @property
    def value(self):
        return self.data


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant


# -------------------------------------------------------------- conversion

def _autocast_int(x: int) -> str:
    for dt in ("int8", "int16", "int32", "int64"):
        info = np.iinfo(dt)
        if info.min <= x <= info.max:
            return dt
    raise OverflowError(f"integer {x} does not fit in int64")


def _autocast_float(x: float) -> str:
    if config.floatX == "float32" or config.cast_policy == "numpy+floatX":
        return config.floatX
    with np.errstate(all="ignore"):
        if float(np.float32(x)) == x or np.isnan(x):  # float(): NumPy 2 compares float32 == 0.9 in float32
            return "float32"
    return "float64"


def _literal_array(x: Any, dtype: str | None) -> np.ndarray:
    """Theano's literal autocasting: 2 -> int8, 300 -> int16, 2.5 -> float32, 0.1 -> float64."""
    if dtype is not None:
        return np.asarray(x, dtype=dtype)
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, (bool, np.bool_)):
        return np.asarray(x, dtype="bool")
    if isinstance(x, int) and config.cast_policy == "custom":
        return np.asarray(x, dtype=_autocast_int(x))
    if isinstance(x, float) and config.cast_policy == "custom":
        return np.asarray(x, dtype=_autocast_float(x))
    if isinstance(x, int):
        return np.asarray(x, dtype="int64")
    if isinstance(x, float):
        return np.asarray(x, dtype=config.floatX)
    if isinstance(x, complex):
        return np.asarray(x, dtype="complex128")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"Cannot convert {x!r} to a tensor constant: dtype {arr.dtype} is not numeric")
    if arr.size == 0 and not hasattr(x, "dtype"):
        arr = arr.astype(config.floatX)
    return arr


def constant(x: Any, name: str | None = None, ndim: int | None = None, dtype: str | None = None):
    """A TensorConstant holding ``x``, with Theano's dtype autocasting for literals.

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.constant(2).dtype, T.constant(2.5).dtype, T.constant(0.1).dtype
    ('int8', 'float32', 'float64')
    """
    arr = _literal_array(x, dtype)
    if ndim is not None:
        if arr.ndim < ndim:
            arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
        elif arr.ndim > ndim:
            raise ValueError(f"constant {x!r} has {arr.ndim} dimensions, more than ndim={ndim}")
    bcast = tuple(s == 1 for s in arr.shape)
    return TensorConstant(TensorType(str(arr.dtype), bcast), arr, name=name)


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None):
    """Turn ``x`` into a tensor variable (variables pass through, literals become constants).

    Raises
    ------
    TypeError
        If ``x`` is a variable of a non-tensor type or cannot be converted.
    """
    if isinstance(x, (TensorVariable, TensorConstant)) or (
            isinstance(x, Variable) and isinstance(x.type, TensorType)):  # e.g. tensor shared variables
        v = x
    elif isinstance(x, Variable):
        if hasattr(x, "_as_tensor_variable"):
            v = x._as_tensor_variable()
        else:
            raise TypeError(f"Variable type field must be a TensorType, got {x.type} for {x}")
    elif hasattr(x, "_as_tensor_variable"):
        v = x._as_tensor_variable()
    elif isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in _flat(x)):
        v = _B.stack([as_tensor_variable(e) for e in x])
    else:
        try:
            v = constant(x, name=name)
        except (TypeError, ValueError, OverflowError) as e:
            raise TypeError(f"Cannot convert {x!r} to TensorType: {e}") from None
    if ndim is not None and v.ndim != ndim:
        if v.ndim > ndim and all(v.broadcastable[: v.ndim - ndim]):
            v = v.dimshuffle(*range(v.ndim - ndim, v.ndim))
        else:
            raise ValueError(f"TensorType could not be cast to have {ndim} dimensions: {v} has {v.ndim}")
    return v


def _flat(x):
    stack = [x]
    while stack:
        e = stack.pop()
        if isinstance(e, (list, tuple)):
            stack.extend(e)
        else:
            yield e


class _LazyModule:
    """Module reference resolved on first use (the op modules import this one)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib
        return getattr(importlib.import_module(self._name), attr)


_as_variable_hook.append(as_tensor_variable)  # literals in the gradient core (graph.basic.as_variable)
_B = _LazyModule("thx.tensor.basic")
_SH = _LazyModule("thx.tensor.shape")
_E = _LazyModule("thx.tensor.elemwise")
_M = _LazyModule("thx.tensor.math")
_S = _LazyModule("thx.tensor.subtensor")
_X = _LazyModule("thx.tensor.extra_ops")
_SO = _LazyModule("thx.tensor.sort")
_NL = _LazyModule("thx.tensor.nlinalg")
_D = _LazyModule("thx.tensor.diagonal")
