"""TensorType, Theano's dtype rules, and the typed variable constructors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.config import config
from thx.graph.type import Type

int_dtypes = ("int8", "int16", "int32", "int64")
uint_dtypes = ("uint8", "uint16", "uint32", "uint64")
discrete_dtypes = ("bool",) + int_dtypes + uint_dtypes
float_dtypes = ("float16", "float32", "float64")
complex_dtypes = ("complex64", "complex128")
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes


def upcast(dtype: str, *dtypes: str) -> str:
    """The dtype that holds values of all ``dtypes`` (Theano's ``scalar.upcast``)."""
    key = (dtype,) + dtypes
    out = _UPCAST.get(key)  # memoised: every elementwise node asks, and NumPy's answer is slow
    if out is None:
        res = np.dtype(dtype)
        for d in dtypes:
            res = np.promote_types(res, d)
        out = _UPCAST[key] = str(res)
    return out


_UPCAST: dict[tuple, str] = {}


def upgrade_to_float(dtype: str) -> str:
    """Dtype of a true division or a float function of ``dtype`` (int8 -> float32 ...)."""
    return {"bool": "float32", "int8": "float32", "uint8": "float32", "int16": "float32",
            "uint16": "float32", "int32": "float64", "uint32": "float64", "int64": "float64",
            "uint64": "float64"}.get(dtype, dtype)


_NUMPY_DTYPES = {d: np.dtype(d) for d in all_dtypes}
_NAMED = {(): "scalar", (False,): "vector", (False, True): "col", (True, False): "row",
          (False, False): "matrix"}


class TensorType(Type):
    """The type of an n-dimensional array of a given dtype.

    Parameters
    ----------
    dtype : str
        A NumPy dtype name (``'float64'``, ``'int32'`` ...).
    broadcastable : tuple of bool
        One entry per dimension; True means that dimension has length 1 and
        broadcasts (Theano's rule).

    Examples
    --------
    >>> TensorType('float64', (False, False))
    TensorType(float64, matrix)
    """

    def __init__(self, dtype: str, broadcastable: Sequence[bool], name: str | None = None) -> None:
        if dtype.__class__ is not str or dtype not in _NUMPY_DTYPES:  # canonical names skip NumPy
            dtype = str(np.dtype(dtype)) if dtype != "floatX" else config.floatX
            if dtype not in all_dtypes:
                raise TypeError(f"Unsupported dtype for TensorType: {dtype}")
        self.dtype = dtype
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.ndim = len(self.broadcastable)
        self.name = name
        self.numpy_dtype = _NUMPY_DTYPES[dtype]

    def clone(self, dtype: str | None = None, broadcastable: Sequence[bool] | None = None) -> TensorType:
        return TensorType(self.dtype if dtype is None else dtype,
                          self.broadcastable if broadcastable is None else broadcastable)

    def __eq__(self, other: object) -> bool:
        return (type(other) is TensorType and other.dtype == self.dtype  # type: ignore[attr-defined]
                and other.broadcastable == self.broadcastable)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.broadcastable))

    def __str__(self) -> str:
        if self.name:
            return self.name
        b = self.broadcastable
        if b in _NAMED:
            bcast = _NAMED[b]
        elif any(b):
            bcast = str(b)
        else:
            bcast = f"{len(b)}D"
        return f"TensorType({self.dtype}, {bcast})"

    __repr__ = __str__

    def is_super(self, other: Type) -> bool:
        return (isinstance(other, TensorType) and other.dtype == self.dtype
                and other.ndim == self.ndim
                and all(s is False or o for s, o in zip(self.broadcastable, other.broadcastable)))

    def convert_variable(self, var):
        if var.type == self:
            return var
        if self.is_super(var.type):
            return var  # more specific broadcastable pattern: still a valid value
        if (isinstance(var.type, TensorType) and var.type.dtype == self.dtype
                and var.type.ndim == self.ndim):
            return var.patternbroadcast(self.broadcastable)
        return None

    # ---------------------------------------------------------------- values
    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> np.ndarray:
        """Convert ``data`` to an ndarray of this type, following Theano's casting rules.

        Raises
        ------
        TypeError
            Wrong number of dimensions, a lossy conversion without
            ``allow_downcast``, or a value that is not numeric.
        """
        if isinstance(data, np.ndarray) and data.dtype == self.numpy_dtype:
            arr = data
        elif strict:
            raise TypeError(f"{self} expected an ndarray of dtype {self.dtype}, got "
                            f"{type(data).__name__}"
                            + (f" of dtype {data.dtype}" if hasattr(data, "dtype") else ""))
        else:
            arr = self._convert(data, allow_downcast)
        if arr.ndim != self.ndim:
            raise TypeError(f"Wrong number of dimensions: expected {self.ndim}, got {arr.ndim} "
                            f"with shape {arr.shape}.")
        for i, b in enumerate(self.broadcastable):
            if b and arr.shape[i] != 1:
                raise TypeError(f"Non-unit value on shape on a broadcastable dimension: "
                                f"dimension {i} of {self} must have length 1, got shape {arr.shape}.")
        return arr

    def _convert(self, data: Any, allow_downcast: bool | None) -> np.ndarray:
        if type(data) is int and self.numpy_dtype.kind in "iu":  # a minibatch index: the quick way
            info = _int_range(self.numpy_dtype)
            if info[0] <= data <= info[1]:
                return np.array(data, dtype=self.numpy_dtype)
        if hasattr(data, "__array__") and not isinstance(data, np.ndarray):
            data = np.asarray(data)  # jax arrays and friends
        if isinstance(data, np.ndarray):
            if data.dtype.kind not in "biufc":
                raise TypeError(f"{self} cannot store a value of dtype {data.dtype}: it is not numeric.")
            if allow_downcast or upcast(self.dtype, str(data.dtype)) == self.dtype:
                return np.asarray(data, dtype=self.dtype)
            raise TypeError(
                f"{self} cannot store a value of dtype {data.dtype} without risking loss of "
                f"precision. If you do not mind this loss, you can: 1) explicitly cast your data "
                f"to {self.dtype}, or 2) set \"allow_input_downcast=True\" when calling \"function\".")
        try:
            raw = np.asarray(data)
        except ValueError as e:
            raise TypeError(f"{self} cannot convert {_short(data)} to an array: {e}") from None
        if raw.dtype.kind not in "biufc":
            raise TypeError(f"{self} expected a numeric value, got {_short(data)} "
                            f"(converted to dtype {raw.dtype}).")
        if allow_downcast:
            return raw.astype(self.dtype)
        if allow_downcast is None and type(data) is float and self.dtype == config.floatX:
            return np.asarray(data, dtype=self.dtype)
        with np.errstate(all="ignore"):
            conv = raw.astype(self.dtype)
            same = conv.shape == raw.shape and bool(np.all((conv == raw) | (np.isnan(conv) & np.isnan(raw))
                                                          if raw.dtype.kind in "fc" else conv == raw))
        if same:
            return conv
        raise TypeError(
            f"{self} cannot store accurately value {_short(data)}, it would be represented as "
            f"{_short(conv)}. If you do not mind this precision loss, you can: 1) explicitly convert "
            f"your data to a numpy array of dtype {self.dtype}, or 2) set "
            f"\"allow_input_downcast=True\" when calling \"function\".")

    def data_signature(self, data: np.ndarray) -> Any:
        return (data.dtype.str, data.shape, data.tobytes() if data.size < 10000 else id(data))

    def values_eq(self, a: Any, b: Any) -> bool:
        return a.shape == b.shape and bool(np.all(a == b))

    def values_eq_approx(self, a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))

    def get_shape_info(self, obj):
        return obj.shape

    def value_zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)


_INT_RANGES: dict[np.dtype, tuple[int, int]] = {}


def _int_range(dtype: np.dtype) -> tuple[int, int]:
    r = _INT_RANGES.get(dtype)
    if r is None:
        info = np.iinfo(dtype)
        r = _INT_RANGES[dtype] = (int(info.min), int(info.max))
    return r


def _short(data: Any) -> str:
    s = repr(data)
    return s if len(s) <= 80 else s[:75] + "(...)"


# -------------------------------------------------------------- constructors

def tensor(dtype: str | None = None, broadcastable: Sequence[bool] = (), name: str | None = None):
    """A new symbolic tensor of ``dtype`` with the given broadcastable pattern.

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.tensor('float64', (False, True), name='c').type
    TensorType(float64, col)
    """
    if isinstance(broadcastable, str) and name is None:  # tensor('x') form
        name, broadcastable = broadcastable, ()
    return TensorType(dtype or config.floatX, broadcastable)(name)


_PREFIX = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
           "d": "float64", "c": "complex64", "z": "complex128"}
_KINDS = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
          "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
          "tensor5": (False,) * 5, "tensor6": (False,) * 6, "tensor7": (False,) * 7}


def _make_constructor(kind: str, dtype: str | None):
    bcast = _KINDS[kind]
    prefix_doc = f"of dtype {dtype}" if dtype else "of dtype config.floatX"

    def ctor(name: str | None = None, dtype: str | None = dtype):
        return TensorType(dtype or config.floatX, bcast)(name)

    ctor.__doc__ = (f"A new symbolic {kind} {prefix_doc}.\n\n"
                    f"Parameters\n----------\nname : str, optional\n    The variable's name.\n")
    return ctor


def _make_plural(single):
    def ctors(*names: Any, **kw):
        # Theano 1.0's rules: an int n gives a list of n unnamed variables; a single
        # argument is iterated (T.vectors('abc') names three vectors a, b, c), and a
        # single one-letter name gives the variable itself, not a list.
        if names and isinstance(names[0], (int, np.integer)) and not isinstance(names[0], bool):
            return [single(None, **kw) for _ in range(int(names[0]))]
        if len(names) == 1:
            names = names[0]
        if len(names) == 1:
            return single(names if isinstance(names, str) else names[0], **kw)
        return [single(n, **kw) for n in names]
    name = getattr(single, "__name__", str(single))
    ctors.__doc__ = (f"Several variables like ``{name}``, one per name (Theano's rules).\n\n"
                     f"``f('x', 'y')`` and ``f('xy')`` give ``[x, y]``; ``f('x')`` gives the variable x\n"
                     f"itself; ``f(3)`` gives three unnamed variables.\n")
    return ctors


_constructors: dict[str, Any] = {}
for _kind in _KINDS:
    _constructors[_kind] = _make_constructor(_kind, None)
    _constructors[_kind].__name__ = _kind
    _plural = "matrices" if _kind == "matrix" else _kind + "s"  # Theano: T.matrices, T.dmatrices
    _constructors[_plural] = _make_plural(_constructors[_kind])
    _constructors[_plural].__name__ = _plural
    for _p, _dt in _PREFIX.items():
        # As in Theano, T.dscalar is a TensorType: T.dscalar('x') makes a variable.
        _t = TensorType(_dt, _KINDS[_kind])
        _constructors[_p + _kind] = _t
        _constructors[_p + _plural] = _make_plural(_t)
        _constructors[_p + _plural].__name__ = _p + _plural
globals().update(_constructors)
constructor_names = sorted(_constructors)
