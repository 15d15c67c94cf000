"""Theano's ``theano.scalar`` names, mapped onto 0-d tensors (thx has no separate scalar IR).

Theano keeps a second graph language for scalars (``Scalar`` types, scalar
ops fused inside ``Elemwise``).  thx compiles whole graphs with XLA, so a
Theano scalar is simply a 0-d tensor: ``Scalar('float64')`` *is*
``TensorType('float64', ())``, ``float64('x')`` makes a 0-d tensor variable,
and ``as_scalar``/``constant`` give 0-d tensors.  ``isinstance(t, Scalar)``
is true for every 0-d TensorType.
"""

from __future__ import annotations

import builtins
import copy
from typing import Any

from thx.graph.basic import Variable
from thx.tensor.elemwise import SCALAR_OPS, ScalarOp, elemwise_op
from thx.tensor.type import TensorType, upcast
from thx.tensor.var import TensorConstant, TensorVariable, as_tensor_variable
from thx.tensor.var import constant as _tensor_constant

__all__ = ["Scalar", "get_scalar_type", "upcast", "as_scalar", "constant", "ScalarVariable",
           "ScalarConstant", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
           "uint32", "uint64", "float16", "float32", "float64", "complex64", "complex128",
           "int_types", "uint_types", "integer_types", "float_types", "complex_types",
           "discrete_types", "continuous_types", "all_types", "abs_"]


class _ScalarMeta(type):
    def __instancecheck__(cls, obj: Any) -> builtins.bool:
        return isinstance(obj, TensorType) and obj.ndim == 0


class Scalar(metaclass=_ScalarMeta):
    """Theano's scalar type: here the 0-d ``TensorType`` of ``dtype``.

    Parameters
    ----------
    dtype : str
        A NumPy dtype name (``'float64'``, ``'int32'`` ...).

    Examples
    --------
    >>> import thx.scalar as scal
    >>> scal.Scalar('float64')
    TensorType(float64, scalar)
    >>> isinstance(scal.float64, scal.Scalar), scal.float64('x').ndim
    (True, 0)
    """

    def __new__(cls, dtype: str) -> TensorType:  # type: ignore[misc]
        return get_scalar_type(dtype)

    @staticmethod
    def upcast(*dtypes: Any) -> str:
        """Theano's ``Scalar.upcast``: the dtype holding all ``dtypes`` (types or names)."""
        return upcast(*[getattr(d, "dtype", d) for d in dtypes])


_TYPES: dict[str, TensorType] = {}


def get_scalar_type(dtype: str) -> TensorType:
    """The (cached) scalar type of ``dtype``: a 0-d TensorType.

    Examples
    --------
    >>> from thx.scalar import get_scalar_type
    >>> get_scalar_type('int32') is get_scalar_type('int32')
    True
    """
    t = _TYPES.get(dtype)
    if t is None:
        t = TensorType(dtype, ())
        t = _TYPES.setdefault(t.dtype, t)
        _TYPES[dtype] = t
    return t


ScalarVariable = TensorVariable
ScalarConstant = TensorConstant


def as_scalar(x: Any, name: str | None = None) -> Variable:
    """``x`` as a scalar: a 0-d tensor variable (literals become constants).

    Raises
    ------
    TypeError
        If ``x`` has dimensions.

    Examples
    --------
    >>> import thx.scalar as scal, thx.tensor as T
    >>> scal.as_scalar(2.5).eval()
    array(2.5, dtype=float32)
    >>> scal.as_scalar(T.dvector('v'))
    Traceback (most recent call last):
    ...
    TypeError: as_scalar: v has 1 dimension(s); a scalar has none
    """
    v = as_tensor_variable(x, name=name)
    if v.ndim != 0:
        raise TypeError(f"as_scalar: {v} has {v.ndim} dimension(s); a scalar has none")
    return v


def constant(x: Any, name: str | None = None, dtype: str | None = None) -> Variable:
    """A scalar constant (a 0-d TensorConstant) holding ``x``.

    Examples
    --------
    >>> import thx.scalar as scal
    >>> c = scal.constant(3, dtype='float64')
    >>> c.dtype, c.ndim, float(c.value)
    ('float64', 0, 3.0)
    """
    c = _tensor_constant(x, name=name, dtype=dtype)
    if c.ndim != 0:
        raise TypeError(f"scalar constant: {x!r} has {c.ndim} dimension(s); a scalar has none")
    return c


bool = get_scalar_type("bool")  # noqa: A001 (Theano's name)
int8, int16, int32, int64 = (get_scalar_type(d) for d in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (get_scalar_type(d) for d in ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = (get_scalar_type(d) for d in ("float16", "float32", "float64"))
complex64, complex128 = get_scalar_type("complex64"), get_scalar_type("complex128")
int_types = (int8, int16, int32, int64)
uint_types = (uint8, uint16, uint32, uint64)
integer_types = int_types + uint_types
float_types = (float16, float32, float64)
complex_types = (complex64, complex128)
discrete_types = (bool,) + integer_types
continuous_types = float_types + complex_types
all_types = discrete_types + continuous_types


class _CallableScalarOp(ScalarOp):
    """A row of the elementwise table that can also be applied directly (``scal.add(a, b)``).

    It equals (and pickles as) its table row, so ``T.Elemwise(scal.add)`` is ``T.add``'s op.
    """

    def __call__(self, *args: Any) -> Variable:
        return elemwise_op(SCALAR_OPS[self.name])(*args)


def _scalar_op(row: ScalarOp) -> _CallableScalarOp:
    op = copy.copy(row)
    op.__class__ = _CallableScalarOp
    return op


# Theano's scalar ops (``theano.scalar.add``, ``exp`` ...): the rows of thx's elementwise table.
_OPS = {name: _scalar_op(row) for name, row in SCALAR_OPS.items() if name not in __all__}
globals().update(_OPS)
abs_ = _OPS["abs"]
__all__ += sorted(_OPS)
