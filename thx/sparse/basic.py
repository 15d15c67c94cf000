"""Theano's sparse ops: moving to and from sparse, construction, arithmetic, products, sums.

Each op's math is its ``perform`` (SciPy's csr/csc matrices; every sparse op runs on the host
between a function's jitted segments, see ``thx/sparse/type.py``), its gradient is Theano's
(``structured`` gradients keep the sparsity pattern of the sparse input, ``regular`` ones do
not), and its printed name is Theano's.  Elementwise ops on the stored values, indexing and
stacking live in ``thx/sparse/elemwise.py`` and ``thx/sparse/indexing.py``, products in
``thx/sparse/products.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.type import DisconnectedType
from thx.sparse.type import (SparseOp, SparseType, _sp, as_sparse_variable, is_sparse_variable,
                             issparse)
from thx.tensor.type import TensorType, upcast

__all__ = ["CSMProperties", "csm_properties", "csm_data", "csm_indices", "csm_indptr", "csm_shape",
           "CSM", "CSC", "CSR", "CSMGrad", "DenseFromSparse", "dense_from_sparse",
           "SparseFromDense", "csr_from_dense", "csc_from_dense", "Transpose", "transpose",
           "Neg", "neg", "AddSS", "AddSD", "add", "sub", "MulSS", "MulSD", "mul", "col_scale",
           "row_scale", "FormatConvert", "SpSum", "sp_sum",
           "sp_ones_like", "sp_zeros_like", "Cast", "cast", "bcast", "wcast", "icast", "lcast",
           "fcast", "dcast", "ccast", "zcast", "Remove0", "remove0", "EnsureSortedIndices",
           "ensure_sorted_indices", "clean"]


def _dense(x: Any) -> Variable:
    from thx.tensor.var import as_tensor_variable
    return as_tensor_variable(x)


def _disconnected() -> Variable:
    return DisconnectedType()()


def _matrix_type(dtype: str) -> TensorType:
    return TensorType(dtype, (False, False))


def _structure(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of a csr/csc matrix's stored entries, in storage order."""
    major = np.repeat(np.arange(len(x.indptr) - 1), np.diff(x.indptr))
    return (major, x.indices) if x.format == "csr" else (x.indices, major)


def _as_format(value: Any, fmt: str, dtype: str) -> Any:
    sp = _sp()
    cls = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    return cls(value, dtype=np.dtype(dtype))


def _pattern_like(x: Any, data: np.ndarray) -> Any:
    """A matrix with ``x``'s format and stored positions, holding ``data``."""
    cls = type(x) if x.format in ("csr", "csc") else _sp().csr_matrix
    return cls((data, x.indices.copy(), x.indptr.copy()), shape=x.shape)


def _sum_to(g: Variable, like: Variable) -> Variable:
    """``g`` (a dense matrix) summed over the dimensions ``like`` broadcast along."""
    from thx.tensor.math import sum as _sum
    from thx.tensor.shape import patternbroadcast
    n_new = g.ndim - like.ndim
    axes = list(range(n_new)) + [n_new + i for i, b in enumerate(like.broadcastable) if b]
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
        if n_new:
            g = g.dimshuffle(list(range(n_new, g.ndim)))
    return patternbroadcast(g, like.broadcastable)


# ---------------------------------------------------------------- properties and construction

class CSMProperties(SparseOp):
    """The ``(data, indices, indptr, shape)`` of a csr or csc matrix.

    ``indices``, ``indptr`` and ``shape`` are int32 vectors (Theano's ``ivector``).  Gradient
    (regular): the matrix of ``x``'s structure holding the gradient of ``data``.
    """

    __props__ = ()

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, (False,))(), TensorType("int32", (False,))(),
                                 TensorType("int32", (False,))(), TensorType("int32", (False,))()])

    def perform(self, node, inputs, out):
        (x,) = inputs
        out[0][0] = np.array(x.data, dtype=node.outputs[0].dtype)
        out[1][0] = np.asarray(x.indices, dtype="int32")
        out[2][0] = np.asarray(x.indptr, dtype="int32")
        out[3][0] = np.asarray(x.shape, dtype="int32")

    def connection_pattern(self, node):
        return [[True, False, False, False]]

    def L_op(self, inputs, outputs, grads):
        (x,) = inputs
        data, indices, indptr, shape = outputs
        g = grads[0]
        if isinstance(g.type, DisconnectedType):
            g = data.zeros_like()
        return [CSM(x.format)(g, indices, indptr, shape)]

    def __str__(self) -> str:
        return "CSMProperties"


csm_properties = CSMProperties()


def csm_data(x):
    """The stored values of sparse ``x`` (a vector of length nnz)."""
    return csm_properties(x)[0]


def csm_indices(x):
    """``x.indices`` (int32)."""
    return csm_properties(x)[1]


def csm_indptr(x):
    """``x.indptr`` (int32)."""
    return csm_properties(x)[2]


def csm_shape(x):
    """``x.shape`` (an int32 vector of 2 entries; ``x.shape`` of a sparse variable)."""
    return csm_properties(x)[3]


class CSM(SparseOp):
    """Build a csr or csc matrix from ``(data, indices, indptr, shape)``.

    Gradient (regular): wrt ``data``, the gradient's values at the built matrix's positions
    (``CSMGrad``); none wrt the integer inputs.
    """

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in ("csr", "csc"):
            raise ValueError(f"format must be 'csr' or 'csc', got {format!r}")
        self.format = format

    def make_node(self, data, indices, indptr, shape):
        data, indices, indptr, shape = (_dense(v) for v in (data, indices, indptr, shape))
        if data.ndim != 1:
            raise TypeError(f"CSM: data must be a vector, got {data.type}")
        for nm, v in (("indices", indices), ("indptr", indptr), ("shape", shape)):
            if v.ndim != 1 or v.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                              "uint32", "uint64"):
                raise TypeError(f"CSM: {nm} must be an integer vector, got {v.type}")
        return Apply(self, [data, indices, indptr, shape], [SparseType(self.format, data.dtype)()])

    def perform(self, node, inputs, out):
        data, indices, indptr, shape = inputs
        if len(shape) != 2:
            raise ValueError(f"CSM: shape must have 2 entries, got {list(shape)}")
        if len(data) != len(indices):
            raise ValueError(f"CSM: data and indices must have the same length, got {len(data)} "
                             f"and {len(indices)}")
        sp = _sp()
        cls = sp.csr_matrix if self.format == "csr" else sp.csc_matrix
        out[0][0] = cls((np.array(data), np.array(indices), np.array(indptr)),
                        shape=tuple(int(s) for s in shape))

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]

    def L_op(self, inputs, outputs, grads):
        data, indices, indptr, shape = inputs
        return [CSMGrad(self.format)(indices, indptr, shape, grads[0]), _disconnected(),
                _disconnected(), _disconnected()]

    def __str__(self) -> str:
        return f"CSM{{{self.format}}}"


CSC = CSM("csc")
CSR = CSM("csr")


class CSMGrad(SparseOp):
    """The values of the sparse (or dense) gradient ``g`` at the positions a ``(indices,
    indptr, shape)`` structure stores, in storage order: the gradient of ``CSM``'s data."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        self.format = format

    def make_node(self, indices, indptr, shape, g):
        indices, indptr, shape = (_dense(v) for v in (indices, indptr, shape))
        g = g if is_sparse_variable(g) else _dense(g)
        return Apply(self, [indices, indptr, shape, g], [TensorType(g.dtype, (False,))()])

    def perform(self, node, inputs, out):
        indices, indptr, shape, g = inputs
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        rows, cols = (major, indices) if self.format == "csr" else (indices, major)
        if issparse(g):
            vals = np.asarray(g.tocsr()[rows, cols]).ravel() if len(rows) else np.zeros(0)
        else:
            vals = np.asarray(g)[rows, cols]
        out[0][0] = np.asarray(vals, dtype=node.outputs[0].dtype)

    def connection_pattern(self, node):
        return [[False], [False], [False], [True]]

    def __str__(self) -> str:
        return f"CSMGrad{{{self.format}}}"


# ---------------------------------------------------------------- dense <-> sparse

class DenseFromSparse(SparseOp):
    """The dense matrix of a sparse one (``x.toarray()``).

    Gradient: with ``sparse_grad`` (the default, Theano's ``structured``), the output gradient
    at ``x``'s stored positions only, as a sparse matrix; otherwise the whole gradient as a
    sparse matrix of ``x``'s format.
    """

    __props__ = ("sparse_grad",)

    def __init__(self, structured: bool = True) -> None:
        self.sparse_grad = structured

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [_matrix_type(x.dtype)()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(inputs[0].toarray(), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if is_sparse_variable(gz):
            gz = dense_from_sparse(gz)
        if self.sparse_grad:
            return [mul(sp_ones_like(x), gz)]
        return [SparseFromDense(x.format)(gz)]

    def infer_shape(self, fgraph, node, shapes):
        s = csm_shape(node.inputs[0])
        return [(s[0], s[1])]

    def __str__(self) -> str:
        return "DenseFromSparse" if self.sparse_grad else "DenseFromSparse{structured=False}"


dense_from_sparse = DenseFromSparse()


class SparseFromDense(SparseOp):
    """A dense matrix as a csr or csc matrix (its nonzero entries stored).

    Gradient: the output gradient as a dense matrix.
    """

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        self.format = format

    def make_node(self, x):
        x = _dense(x)
        if x.ndim != 2:
            raise TypeError(f"{self}: expected a matrix, got {x.type} ({x.ndim} dimensions)")
        return Apply(self, [x], [SparseType(self.format, x.dtype)()])

    def perform(self, node, inputs, out):
        out[0][0] = _as_format(np.asarray(inputs[0]), self.format, node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        from thx.tensor.shape import patternbroadcast
        gz = grads[0]
        gx = dense_from_sparse(gz) if is_sparse_variable(gz) else gz
        return [patternbroadcast(gx, inputs[0].broadcastable)]

    def __str__(self) -> str:
        return f"SparseFromDense{{{self.format}}}"


csr_from_dense = SparseFromDense("csr")
csc_from_dense = SparseFromDense("csc")


# ---------------------------------------------------------------- transpose, negation, cast

class Transpose(SparseOp):
    """The transpose: a csr matrix's is the csc matrix of the same arrays, and the reverse."""

    __props__ = ()

    def make_node(self, x):
        x = as_sparse_variable(x)
        fmt = "csc" if x.format == "csr" else "csr"
        return Apply(self, [x], [SparseType(fmt, x.dtype)()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].transpose()

    def L_op(self, inputs, outputs, grads):
        return [transpose(grads[0]) if is_sparse_variable(grads[0]) else grads[0].T]

    def __str__(self) -> str:
        return "Transpose"


transpose = Transpose()


class Neg(SparseOp):
    """``-x`` of a sparse matrix."""

    __props__ = ()

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = -inputs[0]

    def L_op(self, inputs, outputs, grads):
        return [-grads[0]]

    def __str__(self) -> str:
        return "Neg"


neg = Neg()


class Cast(SparseOp):
    """A sparse matrix with its values cast to ``out_type``."""

    __props__ = ("out_type",)

    def __init__(self, out_type: str) -> None:
        self.out_type = str(np.dtype(out_type))

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [SparseType(x.format, self.out_type)()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].astype(self.out_type)

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if np.dtype(x.dtype).kind in "biu":
            return [x.zeros_like()]
        if np.dtype(self.out_type).kind in "biu":
            return [x.zeros_like()]
        return [Cast(x.dtype)(gz) if is_sparse_variable(gz) else gz.astype(x.dtype)]

    def __str__(self) -> str:
        return f"Cast{{{self.out_type}}}"


def cast(x, t: str):
    """Sparse ``x`` with its values cast to dtype ``t`` (no-op when it has that dtype)."""
    x = as_sparse_variable(x)
    return x if x.dtype == str(np.dtype(t)) else Cast(t)(x)


bcast, wcast, icast, lcast = Cast("int8"), Cast("int16"), Cast("int32"), Cast("int64")
fcast, dcast, ccast, zcast = Cast("float32"), Cast("float64"), Cast("complex64"), Cast("complex128")


# ---------------------------------------------------------------- addition

class AddSS(SparseOp):
    """Sparse + sparse of the same format: a sparse matrix (stored where either is)."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), as_sparse_variable(y)
        if x.format != y.format:
            raise NotImplementedError(f"add of a {x.format} and a {y.format} matrix: convert one "
                                      f"first (thx, as Theano, adds sparse matrices of one format)")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        out[0][0] = _as_format(x + y, node.outputs[0].format, node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        return [_grad_as(gz, x), _grad_as(gz, y)]

    def __str__(self) -> str:
        return "AddSS"


class AddSD(SparseOp):
    """Sparse + dense: a dense matrix (the dense operand broadcasts as NumPy's would).

    Gradient: wrt the sparse operand structured (at its stored positions), wrt the dense one
    the output gradient summed over its broadcast dimensions.
    """

    __props__ = ()

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), _dense(y)
        if y.ndim > 2:
            raise TypeError(f"AddSD: cannot add a {y.ndim}-d tensor to a sparse matrix")
        return Apply(self, [x, y], [_matrix_type(upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        out[0][0] = np.asarray(x.toarray() + y, dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        return [_grad_as(mul(sp_ones_like(x), gz), x), _sum_to(gz, y).astype(y.dtype)]

    def __str__(self) -> str:
        return "AddSD"


def _grad_as(g: Variable, like: Variable) -> Variable:
    """A sparse gradient ``g`` cast to ``like``'s dtype and format."""
    if is_sparse_variable(g):
        if g.format != like.format:
            g = _to_format(g, like.format)
        return cast(g, like.dtype)
    return g.astype(like.dtype)


def _to_format(x: Variable, fmt: str) -> Variable:
    """Sparse ``x`` in format ``fmt`` (the transpose's transpose converts storage)."""
    if x.format == fmt:
        return x
    return FormatConvert(fmt)(x)


class FormatConvert(SparseOp):
    """The same sparse matrix stored in the other format (``x.tocsr()`` / ``x.tocsc()``)."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        self.format = format

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [SparseType(self.format, x.dtype)()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].asformat(self.format)

    def L_op(self, inputs, outputs, grads):
        return [_grad_as(grads[0], inputs[0])]

    def __str__(self) -> str:
        return f"FormatConvert{{{self.format}}}"


def add(x, y):
    """``x + y`` with at least one sparse operand: sparse + sparse is sparse, sparse + dense
    is dense (Theano's ``add``; examples in docs/sparse.md)."""
    xs, ys = is_sparse_variable(x) or issparse(x), is_sparse_variable(y) or issparse(y)
    if xs and ys:
        return AddSS()(x, y)
    if xs:
        return AddSD()(x, y)
    if ys:
        return AddSD()(y, x)
    raise NotImplementedError("sparse.add needs at least one sparse operand")


def sub(x, y):
    """``x - y`` with at least one sparse operand."""
    ys = is_sparse_variable(y) or issparse(y)
    return add(x, neg(y) if ys else -_dense(y))


# ---------------------------------------------------------------- elementwise product

class MulSS(SparseOp):
    """Sparse * sparse of one format, elementwise: stored where both are."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), as_sparse_variable(y)
        if x.format != y.format:
            raise NotImplementedError(f"mul of a {x.format} and a {y.format} matrix: convert one "
                                      f"first")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        out[0][0] = _as_format(x.multiply(y), node.outputs[0].format, node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        return [_grad_as(mul(y, gz), x), _grad_as(mul(x, gz), y)]

    def __str__(self) -> str:
        return "MulSS"


class MulSD(SparseOp):
    """Sparse ``x`` * dense ``y`` (broadcast as NumPy would), elementwise: a sparse matrix with
    ``x``'s stored positions (Theano's ``mul_s_d``).

    Gradient: wrt ``x`` the product of the output gradient and ``y`` at ``x``'s positions; wrt
    ``y`` the dense ``x * gz`` summed over ``y``'s broadcast dimensions.
    """

    __props__ = ()

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), _dense(y)
        if y.ndim > 2:
            raise TypeError(f"MulSD: cannot multiply a sparse matrix by a {y.ndim}-d tensor")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        rows, cols = _structure(x)
        yb = np.broadcast_to(np.asarray(y), x.shape)
        data = (x.data * yb[rows, cols]).astype(node.outputs[0].dtype)
        out[0][0] = _pattern_like(x, data)

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        gx = mul(gz, y) if is_sparse_variable(gz) else mul(sp_ones_like(x), gz * y)
        gy = dense_from_sparse(mul(x, gz) if is_sparse_variable(gz) else mul(x, gz))
        return [_grad_as(gx, x), _sum_to(gy, y).astype(y.dtype)]

    def __str__(self) -> str:
        return "MulSD"


def mul(x, y):
    """``x * y`` elementwise with at least one sparse operand: the result is sparse (stored
    where the sparse operand(s) store), as Theano's ``mul``."""
    xs, ys = is_sparse_variable(x) or issparse(x), is_sparse_variable(y) or issparse(y)
    if xs and ys:
        return MulSS()(x, y)
    if xs:
        return MulSD()(x, y)
    if ys:
        return MulSD()(y, x)
    raise NotImplementedError("sparse.mul needs at least one sparse operand")


def col_scale(x, s):
    """Each column ``j`` of sparse ``x`` scaled by ``s[j]`` (structured gradient)."""
    return mul(x, _dense(s).dimshuffle("x", 0))


def row_scale(x, s):
    """Each row ``i`` of sparse ``x`` scaled by ``s[i]`` (structured gradient)."""
    return mul(x, _dense(s).dimshuffle(0, "x"))


# ---------------------------------------------------------------- sums

class SpSum(SparseOp):
    """The sum of a sparse matrix's entries: all (a scalar), or along ``axis`` (a vector).

    Gradient: with ``sparse_grad`` (Theano's ``structured``), at ``x``'s stored positions only;
    otherwise everywhere (a sparse matrix holding the broadcast gradient).
    """

    __props__ = ("axis", "structured")

    def __init__(self, axis: int | None = None, sparse_grad: bool = True) -> None:
        if axis not in (None, 0, 1):
            raise ValueError(f"sp_sum: axis must be None, 0 or 1, got {axis!r}")
        self.axis = axis
        self.structured = sparse_grad

    def make_node(self, x):
        x = as_sparse_variable(x)
        dtype = x.dtype if np.dtype(x.dtype).kind in "fc" else upcast(x.dtype, "int64")
        bcast = () if self.axis is None else (False,)
        return Apply(self, [x], [TensorType(dtype, bcast)()])

    def perform(self, node, inputs, out):
        (x,) = inputs
        r = x.sum() if self.axis is None else np.asarray(x.sum(axis=self.axis)).ravel()
        out[0][0] = np.asarray(r, dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if np.dtype(x.dtype).kind not in "fc":
            return [x.zeros_like()]
        g = gz if self.axis is None else gz.dimshuffle("x", 0) if self.axis == 0 else gz.dimshuffle(0, "x")
        if self.structured:
            return [_grad_as(mul(sp_ones_like(x), g), x)]
        from thx.tensor.basic import ones_like
        full = ones_like(dense_from_sparse(x)) * g
        return [_grad_as(SparseFromDense(x.format)(full), x)]

    def __str__(self) -> str:
        return f"SpSum{{axis={self.axis}, sparse_grad={self.structured}}}"


def sp_sum(x, axis: int | None = None, sparse_grad: bool = False):
    """The sum of sparse ``x``'s entries (``axis`` None: a scalar; 0 or 1: a dense vector).

    ``sparse_grad=True`` makes the gradient structured (only ``x``'s stored positions).
    """
    return SpSum(axis, sparse_grad)(x)


def sp_ones_like(x):
    """A sparse matrix with ``x``'s format and stored positions, holding ones."""
    from thx.tensor.basic import ones_like
    data, indices, indptr, shape = csm_properties(x)
    return CSM(x.format)(ones_like(data), indices, indptr, shape)


def sp_zeros_like(x):
    """A sparse matrix of ``x``'s shape and format with nothing stored."""
    from thx.tensor.basic import zeros_like
    x = as_sparse_variable(x)
    _, _, indptr, shape = csm_properties(x)
    from thx.tensor.var import constant
    return CSM(x.format)(constant(np.zeros(0, dtype=x.dtype)), constant(np.zeros(0, dtype="int32")),
                         zeros_like(indptr), shape)


# ---------------------------------------------------------------- internal representation

class Remove0(SparseOp):
    """The same matrix without its explicitly stored zeros (``eliminate_zeros``)."""

    __props__ = ()

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        r = inputs[0].copy()
        r.eliminate_zeros()
        out[0][0] = r

    def L_op(self, inputs, outputs, grads):
        return [grads[0]]

    def __str__(self) -> str:
        return "Remove0"


remove0 = Remove0()


class EnsureSortedIndices(SparseOp):
    """The same matrix with each row's (csr) or column's (csc) indices sorted."""

    __props__ = ()

    def make_node(self, x):
        x = as_sparse_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].sorted_indices()

    def L_op(self, inputs, outputs, grads):
        return [grads[0]]

    def __str__(self) -> str:
        return "EnsureSortedIndices"


ensure_sorted_indices = EnsureSortedIndices()


def clean(x):
    """``x`` with sorted indices and no stored zeros."""
    return ensure_sorted_indices(remove0(x))
