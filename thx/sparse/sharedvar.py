"""Shared sparse matrices: ``thx.shared(scipy.sparse.csr_matrix(...))``.

The value stays a SciPy matrix on the host (sparse ops run there); updates store the matrix
the function computed.
"""

from __future__ import annotations

from typing import Any

from thx.sparse.type import SparseType, _SparseMethods, issparse, sparse_formats
from thx.tensor.sharedvar import SharedVariable

__all__ = ["SparseSharedVariable", "sparse_constructor"]


class SparseSharedVariable(_SparseMethods, SharedVariable):
    """A shared variable holding a csr or csc matrix (Theano's ``SparseTensorSharedVariable``).

    Examples
    --------
    >>> import scipy.sparse as sp, thx
    >>> import thx.sparse
    >>> s = thx.shared(sp.csr_matrix([[0., 1.], [2., 0.]]), name='s')
    >>> s.type, s.get_value().nnz
    (Sparse[float64, csr], 2)
    """

    _device_resident = False

    def __init__(self, name: str | None, type: SparseType, value: Any, strict: bool,
                 allow_downcast: bool | None = None, sharding: None = None, *,
                 borrow: bool = True) -> None:
        if sharding is not None:
            raise NotImplementedError("a shared sparse matrix cannot be sharded over devices")
        super().__init__(name, type, value, strict, allow_downcast, borrow=borrow)

    def _place(self, v: Any, private: bool = True) -> Any:
        return v if private else v.copy()

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The matrix (a copy unless ``borrow``)."""
        with self._lock:
            v = self._value
        return v if (borrow or return_internal_type) else v.copy()

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Replace the matrix (converted to this variable's format and dtype)."""
        v = self.type.filter(new_value, strict=self._strict, allow_downcast=self._allow_downcast)
        placed = self._place(v, borrow or v is not new_value)
        with self._lock:
            self._value = placed

    def _set_internal(self, v: Any) -> None:
        # an update computed in a jitted segment comes as padded arrays (thx/lowering/sparse.py)
        self._value = v.to_host_value() if hasattr(v, "to_host_value") else v

    def zero(self, borrow: bool = False) -> None:
        """Set the value to an empty matrix of the same shape."""
        with self._lock:
            self._value = self.type.value_zeros(self._value.shape)

    def __getstate__(self):
        return SharedVariable.__getstate__(self)


def sparse_constructor(value: Any, name: str | None = None, strict: bool = False,
                       allow_downcast: bool | None = None, borrow: bool = False,
                       format: str | None = None) -> SparseSharedVariable:
    """A SparseSharedVariable holding ``value`` (a SciPy csr or csc matrix; copied unless
    ``borrow``).  ``format`` converts it (default: its own, csr for other formats).

    Raises
    ------
    TypeError
        ``value`` is not a SciPy sparse matrix.
    """
    if not issparse(value):
        raise TypeError(f"sparse shared variable: expected a scipy.sparse matrix, got "
                        f"{type(value).__name__}")
    fmt = format or (value.format if value.format in sparse_formats else "csr")
    t = SparseType(fmt, str(value.dtype))
    return SparseSharedVariable(name, t, value, strict, allow_downcast, borrow=borrow)
