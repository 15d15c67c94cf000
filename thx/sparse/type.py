"""SparseType, SparseVariable and SparseConstant: Theano's sparse matrices (SciPy's csr and csc).

A sparse value is a ``scipy.sparse`` matrix of the type's format (``csr_matrix`` or
``csc_matrix``) and dtype.  The value never enters an XLA program: every sparse op runs its
SciPy ``perform`` on the host between the jitted segments of a function
(``thx/lowering/segments.py``), as Theano's sparse ops ran SciPy on the CPU.  Dense values
made from sparse ones (``structured_dot(x, W)``, ``dense_from_sparse(x)``) cross into the next
jitted segment; [sparse.md](../../docs/sparse.md) explains the design and its cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Constant, Variable
from thx.graph.op import Op
from thx.graph.type import Type
from thx.tensor.type import upcast

__all__ = ["SparseType", "SparseOp", "SparseVariable", "SparseConstant", "csr_matrix", "csc_matrix", "matrix",
           "csr_dmatrix", "csr_fmatrix", "csc_dmatrix", "csc_fmatrix", "as_sparse_variable",
           "as_sparse", "as_sparse_or_tensor_variable", "constant", "is_sparse_variable",
           "sparse_formats", "issparse"]

sparse_formats = ("csc", "csr")


def _sp():
    import scipy.sparse  # JAX depends on SciPy, so it is always installed with thx
    return scipy.sparse


def issparse(value: Any) -> bool:
    """Whether ``value`` is a SciPy sparse matrix (or array)."""
    mod = type(value).__module__
    return mod.startswith("scipy.sparse") and _sp().issparse(value)


class SparseType(Type):
    """The type of a sparse matrix: a format (``'csr'`` or ``'csc'``) and a dtype.

    Parameters
    ----------
    format : {'csr', 'csc'}
    dtype : str
        Any float, complex or integer dtype NumPy and SciPy support.

    Examples
    --------
    >>> from thx.sparse import SparseType
    >>> SparseType('csr', 'float64')
    Sparse[float64, csr]
    """

    ndim = 2
    broadcastable = (False, False)
    host_only = True  # SciPy values: sparse ops run on the host between jitted segments

    def __init__(self, format: str, dtype: str) -> None:
        if format not in sparse_formats:
            raise NotImplementedError(f"unsupported sparse format {format!r}: thx (as Theano) has "
                                      f"{' and '.join(sparse_formats)}")
        dtype = str(np.dtype(dtype))
        if np.dtype(dtype).kind not in "biufc":
            raise TypeError(f"unsupported dtype for a sparse matrix: {dtype}")
        self.format = format
        self.dtype = dtype
        self.numpy_dtype = np.dtype(dtype)

    @property
    def format_cls(self) -> Any:
        sp = _sp()
        return sp.csr_matrix if self.format == "csr" else sp.csc_matrix

    # ---------------------------------------------------------------- values
    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """``data`` as a SciPy matrix of this format and dtype.

        A matrix of the other format (or coo, lil ...) is converted; a dtype that
        would lose precision needs ``allow_downcast`` (Theano raised
        NotImplementedError for any other dtype; a safe upcast is done here).

        Raises
        ------
        TypeError
            ``strict`` and not exactly this type; not a sparse matrix; a lossy dtype.
        """
        fmt_cls = self.format_cls
        if isinstance(data, fmt_cls) and data.dtype == self.numpy_dtype:
            return data
        if strict:
            raise TypeError(f"{_short(data)} is not sparse, or not the right format/dtype "
                            f"(expected {self})")
        if not issparse(data):
            raise TypeError(f"Expected a scipy.sparse matrix for a {self} input, got "
                            f"{type(data).__name__} (convert a dense value with "
                            f"scipy.sparse.csr_matrix, or csr_from_dense in the graph)")
        if data.ndim != 2:
            raise TypeError(f"{self} expected a 2-d sparse matrix, got {data.ndim} dimensions")
        src = str(data.dtype)
        if src != self.dtype and not allow_downcast and upcast(src, self.dtype) != self.dtype:
            raise TypeError(f"{self} cannot store a sparse matrix of dtype {src} without risking "
                            f"loss of precision. Cast it, or set allow_input_downcast=True.")
        return fmt_cls(data, dtype=self.numpy_dtype)

    def is_valid_value(self, data: Any) -> bool:
        return isinstance(data, self.format_cls) and data.dtype == self.numpy_dtype

    def values_eq(self, a: Any, b: Any) -> bool:
        return (issparse(a) and issparse(b) and a.shape == b.shape
                and abs(a - b).nnz == 0)

    def values_eq_approx(self, a: Any, b: Any, eps: float = 1e-6, **kwargs: Any) -> bool:
        if not issparse(a) or not issparse(b) or a.shape != b.shape:
            return False
        diff = abs(a - b)
        return diff.nnz == 0 or float(diff.max()) < eps

    def data_signature(self, data: Any) -> Any:
        return (self.format, self.dtype, data.shape, data.nnz, id(data))

    def value_zeros(self, shape: tuple[int, int]) -> Any:
        return self.format_cls(shape, dtype=self.numpy_dtype)

    def get_shape_info(self, obj: Any) -> Any:
        return obj.shape

    # ---------------------------------------------------------------- identity
    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and other.format == self.format  # type: ignore[attr-defined]
                and other.dtype == self.dtype)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((SparseType, self.format, self.dtype))

    def __str__(self) -> str:
        return f"Sparse[{self.dtype}, {self.format}]"

    __repr__ = __str__


def _short(data: Any) -> str:
    s = repr(data)
    return s if len(s) <= 80 else s[:75] + "(...)"


# ---------------------------------------------------------------- ops

class SparseOp(Op):
    """Base of thx's sparse ops: their ``perform`` only reads its inputs, so the host step hands
    them over without copies (``thx/lowering/perform.py``: a user's op gets copies)."""

    perform_reads_inputs_only = True


# ---------------------------------------------------------------- variables

class _SparseMethods:
    """Operators and methods of sparse variables (Theano's ``_sparse_py_operators``)."""

    type: SparseType

    @property
    def format(self) -> str:
        return self.type.format

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return 2

    @property
    def broadcastable(self) -> tuple[bool, bool]:
        return (False, False)

    @property
    def T(self):
        """The transpose (a csr matrix's is csc, and the reverse; no data moves)."""
        return _B.transpose(self)

    @property
    def shape(self):
        """The shape as a symbolic int64 vector (``csm_shape``)."""
        return _B.csm_shape(self)

    def __neg__(self): return _B.neg(self)
    def __add__(self, other): return _B.add(self, other)
    def __radd__(self, other): return _B.add(other, self)
    def __sub__(self, other): return _B.sub(self, other)
    def __rsub__(self, other): return _B.sub(other, self)
    def __mul__(self, other): return _B.mul(self, other)
    def __rmul__(self, other): return _B.mul(other, self)
    def __abs__(self): return _B.abs_(self)

    def __lt__(self, other): return _B.lt(self, other)
    def __le__(self, other): return _B.le(self, other)
    def __gt__(self, other): return _B.gt(self, other)
    def __ge__(self, other): return _B.ge(self, other)

    __array_ufunc__ = None  # NumPy defers: ndarray * sparse variable -> __rmul__
    __hash__ = Variable.__hash__

    def __bool__(self) -> bool:
        return True  # Theano: a variable is true (``if not x:`` checks for None)

    def toarray(self):
        """The dense matrix (``dense_from_sparse``)."""
        return _B.dense_from_sparse(self)

    def zeros_like(self, dtype: str | None = None):
        """A sparse matrix of the same shape (and format) with no stored entries."""
        z = _B.sp_zeros_like(self)
        return z if dtype is None else _B.cast(z, dtype)

    def sum(self, axis: int | None = None, sparse_grad: bool = False):
        """``sp_sum(self, axis, sparse_grad)``."""
        return _B.sp_sum(self, axis, sparse_grad)

    def astype(self, dtype: str):
        return _B.cast(self, dtype)

    def __getitem__(self, args):
        return _B.getitem(self, args)

    def dot(self, other):
        return _B.dot(self, other)

    def __dot__(self, other):
        return _B.dot(self, other)

    def __rdot__(self, other):
        return _B.dot(other, self)

    def __matmul__(self, other):
        return _B.dot(self, other)

    def __rmatmul__(self, other):
        return _B.dot(other, self)

    def __iter__(self):
        raise TypeError("a sparse variable cannot be iterated over")


class SparseVariable(_SparseMethods, Variable):
    """A symbolic sparse matrix.

    Examples
    --------
    >>> import thx.sparse as S
    >>> x = S.csr_matrix('x')
    >>> x.type, x.format, x.T.format
    (Sparse[float64, csr], 'csr', 'csc')
    """

    def __str__(self) -> str:
        if self.name is not None or self.owner is not None:
            return Variable.__str__(self)
        return f"SparseVariable{{{self.format},{self.dtype}}}"


class SparseConstant(_SparseMethods, Constant):
    """A sparse matrix with a fixed value."""

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return f"SparseConstant{{{self.format},{self.dtype},shape={self.data.shape},nnz={self.data.nnz}}}"

    def signature(self) -> Any:
        d = self.data
        return (self.type, d.shape, d.data.tobytes(), d.indices.tobytes(), d.indptr.tobytes())


SparseType.variable_type = SparseVariable
SparseType.constant_type = SparseConstant


class _Ops:
    """The sparse ops the variables' methods call, by name.  ``thx/sparse/__init__.py`` (which
    imports this module first) hands over its namespace, so this module imports no op module."""

    table: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self.table[name]
        except KeyError:
            raise AttributeError(f"thx.sparse has no {name!r}") from None


_B = _Ops()


# ---------------------------------------------------------------- constructors

def matrix(format: str, name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A new symbolic sparse matrix of ``format`` and ``dtype`` (default ``config.floatX``)."""
    return SparseType(format, dtype or config.floatX)(name)  # type: ignore[return-value]


def csr_matrix(name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A new symbolic csr matrix (``dtype`` defaults to ``config.floatX``).

    Examples
    --------
    >>> import thx.sparse as S
    >>> S.csr_matrix('x', dtype='float32').type
    Sparse[float32, csr]
    """
    return matrix("csr", name, dtype)


def csc_matrix(name: str | None = None, dtype: str | None = None) -> SparseVariable:
    """A new symbolic csc matrix (``dtype`` defaults to ``config.floatX``)."""
    return matrix("csc", name, dtype)


def csr_dmatrix(name: str | None = None) -> SparseVariable:
    """A float64 csr matrix."""
    return matrix("csr", name, "float64")


def csr_fmatrix(name: str | None = None) -> SparseVariable:
    """A float32 csr matrix."""
    return matrix("csr", name, "float32")


def csc_dmatrix(name: str | None = None) -> SparseVariable:
    """A float64 csc matrix."""
    return matrix("csc", name, "float64")


def csc_fmatrix(name: str | None = None) -> SparseVariable:
    """A float32 csc matrix."""
    return matrix("csc", name, "float32")


def constant(x: Any, name: str | None = None) -> SparseConstant:
    """A SparseConstant holding a copy of the csr or csc matrix ``x``."""
    if not issparse(x) or x.format not in sparse_formats:
        raise TypeError(f"sparse.constant needs a csr or csc matrix, got {_short(x)}")
    t = SparseType(x.format, str(x.dtype))
    return SparseConstant(t, t.filter(x.copy()), name)  # type: ignore[call-arg]


def as_sparse_variable(x: Any, name: str | None = None) -> SparseVariable:
    """``x`` as a sparse variable: a sparse variable itself, or a constant of a SciPy matrix.

    Raises
    ------
    TypeError
        ``x`` is neither (a dense tensor must be converted with ``csr_from_dense``).
    """
    if isinstance(x, _SparseMethods):
        return x  # type: ignore[return-value]
    if isinstance(x, Variable):
        raise TypeError(f"Variable type field must be a SparseType: {x} has type {x.type}; "
                        f"convert a dense matrix with csr_from_dense or csc_from_dense")
    if issparse(x):
        if x.format not in sparse_formats:
            x = x.tocsr()
        return constant(x, name)
    raise TypeError(f"Cannot convert {_short(x)} to a sparse variable")


as_sparse = as_sparse_variable


def is_sparse_variable(x: Any) -> bool:
    """Whether ``x`` is a sparse variable or constant."""
    return isinstance(x, _SparseMethods)


def as_sparse_or_tensor_variable(x: Any, name: str | None = None) -> Variable:
    """``x`` as a sparse variable when it is sparse, else as a tensor variable."""
    if is_sparse_variable(x) or issparse(x):
        return as_sparse_variable(x, name)
    from thx.tensor.var import as_tensor_variable
    return as_tensor_variable(x, name)
