"""JAX lowering of the sparse products and reductions of ``thx/sparse/``.

Inside a jitted segment a csr/csc matrix is a ``SparseArrays`` pytree: its ``data`` and
``indices`` padded to a bucket of stored entries (the next power of two, at least 16), its
``indptr``, each entry's major index (row of a csr matrix, column of a csc one; made on the
host), and (static) its format and shape.  A minibatch of any number of stored entries
therefore compiles once per bucket, not once per count.  Padded entries hold 0 and lie past
``indptr[-1]``, with a major index one past the last: out of range, so every lowering drops or
zeroes them.

Lowered here: ``StructuredDot`` and ``Dot`` with one sparse and one dense operand (a gather and
a ``segment_sum``), ``Transpose`` (the same arrays, the other format), ``MulSD`` (sparse times a
broadcast dense value: new data, the same structure), ``DenseFromSparse`` (a scatter-add) and
``SpSum``.  Every other sparse op, and these with two sparse operands, runs
its SciPy ``perform`` on the host between segments; the conversion in both directions is
installed in ``segments.DEVICE_FORMS`` / ``HOST_FORMS``.  This family is imported on the first
lookup of a ``thx.sparse`` op (``registry.LAZY_FAMILIES``), so a program without sparse
matrices never imports SciPy's sparse module.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import register
from thx.lowering.segments import DEVICE_FORMS, HOST_FORMS
from thx.sparse.basic import DenseFromSparse, MulSD, SpSum, Transpose
from thx.sparse.products import Dot, StructuredDot
from thx.sparse.type import is_sparse_variable

MIN_BUCKET = 16


@jax.tree_util.register_pytree_node_class
class SparseArrays:
    """A csr/csc matrix as arrays a jitted function takes: ``data``, ``indices`` (padded to a
    bucket of stored entries) and ``indptr``; ``format`` and ``shape`` are static."""

    def __init__(self, data: Any, indices: Any, indptr: Any, major: Any, format: str,
                 shape: tuple[int, int]):
        self.data, self.indices, self.indptr, self.major = data, indices, indptr, major
        self.format, self.shape = format, tuple(shape)

    def tree_flatten(self):
        return (self.data, self.indices, self.indptr, self.major), (self.format, self.shape)

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children, *aux)

    @classmethod
    def from_scipy(cls, m: Any) -> SparseArrays:
        nnz = int(m.indptr[-1])
        cap = max(MIN_BUCKET, 1 << max(nnz - 1, 0).bit_length())
        data = np.zeros(cap, dtype=m.data.dtype)
        data[:nnz] = m.data[:nnz]
        indices = np.zeros(cap, dtype=np.int32)
        indices[:nnz] = m.indices[:nnz]
        indptr = np.asarray(m.indptr, dtype=np.int32)
        major = np.full(cap, len(indptr) - 1, dtype=np.int32)  # padding: one past the last
        major[:nnz] = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        return cls(data, indices, indptr, major, m.format, m.shape)

    def to_host_value(self) -> Any:
        """The SciPy matrix (its stored entries only), in new memory."""
        import scipy.sparse as sp
        indptr = np.array(self.indptr)
        nnz = int(indptr[-1])
        cls = sp.csr_matrix if self.format == "csr" else sp.csc_matrix
        return cls((np.array(self.data[:nnz]), np.array(self.indices[:nnz]), indptr), shape=self.shape)


def _device_form(v: Any) -> Any:
    if type(v).__module__.startswith("scipy.sparse") and getattr(v, "format", None) in ("csr", "csc"):
        return SparseArrays.from_scipy(v)
    return v


def _host_form(v: Any) -> Any:
    return v.to_host_value() if isinstance(v, SparseArrays) else v


DEVICE_FORMS.append(_device_form)
HOST_FORMS.append(_host_form)


def _arrays(v: Any) -> SparseArrays:
    """A sparse value as ``SparseArrays`` (a constant arrives as a SciPy matrix)."""
    return v if isinstance(v, SparseArrays) else SparseArrays.from_scipy(v)


def _entries(a: SparseArrays):
    """Per stored entry: its row, its column and its value (0 for padding).  A padded entry's
    major index (row of a csr matrix, column of a csc one) is one past the last (``major``,
    computed on the host with the padding, as a COO matrix's rows: no search in the program)."""
    data = jnp.where(a.major < a.indptr.shape[0] - 1, a.data, 0)
    return ((a.major, a.indices) if a.format == "csr" else (a.indices, a.major)), data


def _sparse_dense_product(a: SparseArrays, b: Any, dtype: str) -> Any:
    """``a @ b`` for sparse ``a`` and a dense matrix or vector ``b``."""
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"shapes {a.shape} and {tuple(b.shape)} not aligned: {a.shape[1]} (dim 1) "
                         f"!= {b.shape[0]} (dim 0)")
    (rows, cols), data = _entries(a)
    picked = jnp.take(b, cols, axis=0, mode="fill", fill_value=0)
    contrib = (data[:, None] * picked) if b.ndim == 2 else data * picked
    return jax.ops.segment_sum(contrib, rows, num_segments=a.shape[0]).astype(dtype)


def _both_sparse(node) -> bool:
    return all(is_sparse_variable(v) for v in node.inputs)


@register(StructuredDot, host_if=lambda node: is_sparse_variable(node.inputs[1]))
def _structured_dot(op, node):
    dtype = node.outputs[0].dtype
    return lambda a, b: _sparse_dense_product(_arrays(a), b, dtype)


@register(Dot, host_if=_both_sparse)
def _dot(op, node):
    dtype = node.outputs[0].dtype
    if is_sparse_variable(node.inputs[0]):
        return lambda a, b: _sparse_dense_product(_arrays(a), b, dtype)

    def dense_sparse(b, a):  # b @ a = (a.T @ b.T).T
        return _sparse_dense_product(_transpose(_arrays(a)), b.T, dtype).T
    return dense_sparse


def _transpose(a: SparseArrays) -> SparseArrays:
    fmt = "csc" if a.format == "csr" else "csr"
    return SparseArrays(a.data, a.indices, a.indptr, a.major, fmt, a.shape[::-1])


@register(Transpose)
def _transpose_impl(op, node):
    return lambda a: _transpose(_arrays(a))


@register(MulSD)
def _mul_sd(op, node):
    dtype = node.outputs[0].dtype

    def run(a, y):  # x * y at x's stored positions: new data, the same structure
        a = _arrays(a)
        (rows, cols), data = _entries(a)
        yb = jnp.broadcast_to(y, a.shape)
        picked = yb.at[rows, cols].get(mode="fill", fill_value=0)
        return SparseArrays((data * picked).astype(dtype), a.indices, a.indptr, a.major, a.format,
                            a.shape)
    return run


@register(DenseFromSparse)
def _dense_from_sparse(op, node):
    dtype = node.outputs[0].dtype

    def run(a):
        a = _arrays(a)
        (rows, cols), data = _entries(a)
        return jnp.zeros(a.shape, dtype).at[rows, cols].add(data.astype(dtype), mode="drop")
    return run


@register(SpSum)
def _sp_sum(op, node):
    dtype = node.outputs[0].dtype
    axis = op.axis

    def run(a):
        a = _arrays(a)
        (rows, cols), data = _entries(a)
        data = data.astype(dtype)
        if axis is None:
            return data.sum()
        ids, n = (cols, a.shape[1]) if axis == 0 else (rows, a.shape[0])
        return jax.ops.segment_sum(data, ids, num_segments=n)
    return run


__all__ = ["SparseArrays", "MIN_BUCKET"]
