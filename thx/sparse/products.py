"""Products with sparse matrices: ``structured_dot``, ``dot``, ``true_dot``, ``sampling_dot``.

Each op's ``perform`` is SciPy's product (run on the host, ``thx/sparse/type.py``); gradients are
Theano's: ``structured_dot``'s wrt the sparse operand keeps its sparsity pattern
(``StructuredDotGrad``), ``dot``'s is dense (regular), ``true_dot``'s is sparse.
"""

from __future__ import annotations

import numpy as np

from thx.graph.basic import Apply
from thx.sparse.basic import (_as_format, _dense, _grad_as, _matrix_type, _pattern_like, _structure,
                              csm_shape, csr_from_dense, csc_from_dense, dense_from_sparse, mul,
                              transpose)
from thx.sparse.type import SparseOp, SparseType, as_sparse_variable, is_sparse_variable, issparse
from thx.tensor.type import TensorType, upcast

__all__ = ["StructuredDot", "StructuredDotGrad", "structured_dot", "Dot", "dot", "TrueDot",
           "true_dot", "SamplingDot", "sampling_dot"]



class StructuredDot(SparseOp):
    """``a @ b`` for sparse ``a``: dense when ``b`` is dense, sparse when ``b`` is sparse.

    Gradient (structured): wrt ``a``, ``gz @ b.T`` at ``a``'s stored positions only
    (``StructuredDotGrad``); wrt ``b``, ``a.T @ gz``.
    """

    __props__ = ()

    def make_node(self, a, b):
        a = as_sparse_variable(a)
        b = as_sparse_variable(b) if (is_sparse_variable(b) or issparse(b)) else _dense(b)
        if b.ndim != 2:
            raise TypeError(f"structured_dot: the second operand must be a matrix, got {b.type}")
        dtype = upcast(a.dtype, b.dtype)
        out = SparseType(a.format, dtype)() if is_sparse_variable(b) else _matrix_type(dtype)()
        return Apply(self, [a, b], [out])

    def perform(self, node, inputs, out):
        a, b = inputs
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"shapes {a.shape} and {b.shape} not aligned: {a.shape[1]} (dim 1) "
                             f"!= {b.shape[0]} (dim 0)")
        r = a @ b
        o = node.outputs[0]
        out[0][0] = _as_format(r, o.format, o.dtype) if is_sparse_variable(o) else \
            np.asarray(r, dtype=o.dtype)

    def L_op(self, inputs, outputs, grads):
        (a, b), (gz,) = inputs, grads
        if is_sparse_variable(b):
            ga = _grad_as(StructuredDotGrad()(a, dense_from_sparse(b),
                                              dense_from_sparse(gz) if is_sparse_variable(gz) else gz), a)
            return [ga, _grad_as(structured_dot(transpose(a), gz) if is_sparse_variable(gz)
                                 else csr_from_dense(structured_dot(transpose(a), gz)), b)]
        if is_sparse_variable(gz):
            gz = dense_from_sparse(gz)
        return [_grad_as(StructuredDotGrad()(a, b, gz), a),
                structured_dot(transpose(a), gz).astype(b.dtype)]

    def infer_shape(self, fgraph, node, shapes):
        a, b = node.inputs
        if is_sparse_variable(b):
            raise NotImplementedError
        return [(csm_shape(a)[0], shapes[1][1])]

    def __str__(self) -> str:
        return "StructuredDot"


class StructuredDotGrad(SparseOp):
    """The gradient of ``a @ b`` wrt sparse ``a`` at ``a``'s stored positions:
    ``sum_k gz[i, k] * b[j, k]`` for each stored ``(i, j)``, a sparse matrix like ``a``."""

    __props__ = ()

    def make_node(self, a, b, gz):
        a, b, gz = as_sparse_variable(a), _dense(b), _dense(gz)
        return Apply(self, [a, b, gz], [SparseType(a.format, upcast(b.dtype, gz.dtype))()])

    def perform(self, node, inputs, out):
        a, b, gz = inputs
        rows, cols = _structure(a)
        data = np.einsum("ik,ik->i", np.asarray(gz)[rows], np.asarray(b)[cols]) if len(rows) \
            else np.zeros(0)
        out[0][0] = _pattern_like(a, np.asarray(data, dtype=node.outputs[0].dtype))

    def __str__(self) -> str:
        return "StructuredDotGrad"


def structured_dot(x, y):
    """``x @ y`` for sparse ``x`` (Theano's ``structured_dot``): dense for a dense ``y``;
    the gradient wrt ``x`` keeps ``x``'s sparsity pattern.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, thx, thx.sparse as S, thx.tensor as T
    >>> x, W = S.csr_matrix('x'), T.dmatrix('W')
    >>> f = thx.function([x, W], S.structured_dot(x, W))
    >>> f(sp.csr_matrix([[0., 2.], [1., 0.]]), np.array([[1., 2.], [3., 4.]]))
    array([[6., 8.],
           [1., 2.]])
    """
    if not (is_sparse_variable(x) or issparse(x)):
        if is_sparse_variable(y) or issparse(y):  # dense @ sparse = (sparse.T @ dense.T).T
            return structured_dot(transpose(y), _dense(x).T).T
        raise TypeError("structured_dot needs a sparse first (or second) operand")
    return StructuredDot()(x, y)


class Dot(SparseOp):
    """``x @ y`` with one or both operands sparse; always a dense result (Theano's ``Dot``).

    Gradient (regular, dense): ``gz @ y.T`` and ``x.T @ gz``.
    """

    __props__ = ()

    def make_node(self, x, y):
        xs, ys = is_sparse_variable(x) or issparse(x), is_sparse_variable(y) or issparse(y)
        if not xs and not ys:
            raise TypeError("Sparse dot product should have at least one sparse variable as input")
        x = as_sparse_variable(x) if xs else _dense(x)
        y = as_sparse_variable(y) if ys else _dense(y)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise TypeError(f"Sparse dot: input dimensions must be 1 or 2, got {x.ndim} and {y.ndim}")
        out_bcast = (False,) * (x.ndim + y.ndim - 2)
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), out_bcast)()])

    def perform(self, node, inputs, out):
        x, y = inputs
        xs, ys = issparse(x), issparse(y)
        if xs and ys:
            r = (x @ y).toarray()
        elif xs:
            r = x @ np.asarray(y)
        else:  # dense @ sparse
            r = (y.T @ np.asarray(x).T).T
        out[0][0] = np.asarray(r, dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        from thx.tensor import math as M
        (x, y), (gz,) = inputs, grads
        if is_sparse_variable(y):
            gx = dot(gz, transpose(y)) if gz.ndim == 2 else dot(gz.dimshuffle("x", 0), transpose(y))[0]
        else:
            gx = M.dot(gz, y.T) if (gz.ndim == 2 or y.ndim == 1) else M.dot(gz, y.T)
        if is_sparse_variable(x):
            gy = dot(transpose(x), gz) if gz.ndim == 2 else dot(transpose(x), gz.dimshuffle(0, "x")).flatten()
        else:
            gy = M.dot(x.T, gz)
        return [gx.astype(x.dtype), gy.astype(y.dtype)]

    def __str__(self) -> str:
        return "SparseDot"


_dot = Dot()


def dot(x, y):
    """``x @ y`` with at least one sparse operand: a dense result (Theano's ``sparse.dot``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, thx, thx.sparse as S, thx.tensor as T
    >>> x, y = S.csr_matrix('x'), T.dmatrix('y')
    >>> f = thx.function([x, y], S.dot(x, y))
    >>> a = sp.coo_matrix(([1.] * 4, (range(4), [0, 1, 1, 0])))
    >>> f(a, np.array([[10., 11.], [12., 13.]]))
    array([[10., 11.],
           [12., 13.],
           [12., 13.],
           [10., 11.]])
    """
    return _dot(x, y)


class TrueDot(SparseOp):
    """``x @ y`` for sparse ``x``: a sparse result.

    Gradient (regular): ``gz @ y.T`` (sparse) and ``x.T @ gz``, dense for a dense ``y`` unless
    ``grad_preserves_dense`` is False.
    """

    __props__ = ("grad_preserves_dense",)

    def __init__(self, grad_preserves_dense: bool = True) -> None:
        self.grad_preserves_dense = grad_preserves_dense

    def make_node(self, x, y):
        x = as_sparse_variable(x)
        ys = is_sparse_variable(y) or issparse(y)
        y = as_sparse_variable(y) if ys else _dense(y)
        if y.ndim != 2:
            raise TypeError(f"true_dot: the second operand must be a matrix, got {y.type}")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        o = node.outputs[0]
        out[0][0] = _as_format(x @ y, o.format, o.dtype)

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        if not is_sparse_variable(gz):
            gz = csr_from_dense(gz) if x.format == "csr" else csc_from_dense(gz)
        if is_sparse_variable(y):
            gx = true_dot(gz, transpose(y))
        else:
            gx = true_dot(gz, y.T)
        gy = true_dot(transpose(x), gz)
        if not is_sparse_variable(y) and self.grad_preserves_dense:
            gy = dense_from_sparse(gy).astype(y.dtype)
        else:
            gy = _grad_as(gy, y)
        return [_grad_as(gx, x), gy]

    def __str__(self) -> str:
        return "TrueDot"


def true_dot(x, y, grad_preserves_dense: bool = True):
    """``x @ y`` as a sparse matrix (sparse ``x``; a dense ``x`` with sparse ``y`` is
    computed as ``(y.T @ x.T).T``)."""
    if not (is_sparse_variable(x) or issparse(x)):
        if is_sparse_variable(y) or issparse(y):
            return transpose(TrueDot(grad_preserves_dense)(transpose(y), _dense(x).T))
        raise TypeError("true_dot needs at least one sparse operand")
    return TrueDot(grad_preserves_dense)(x, y)


class SamplingDot(SparseOp):
    """``(x @ y.T)`` at the stored positions of sparse ``p``, times ``p``'s values: a sparse
    matrix like ``p`` (x, y dense).  Gradient: ``(p * gz) @ y`` and ``(p * gz).T @ x``; none
    wrt ``p``."""

    __props__ = ()

    def make_node(self, x, y, p):
        x, y, p = _dense(x), _dense(y), as_sparse_variable(p)
        if x.ndim != 2 or y.ndim != 2:
            raise TypeError("sampling_dot: x and y must be dense matrices")
        return Apply(self, [x, y, p], [SparseType(p.format, upcast(x.dtype, y.dtype, p.dtype))()])

    def perform(self, node, inputs, out):
        x, y, p = inputs
        rows, cols = _structure(p)
        vals = np.einsum("ik,ik->i", x[rows], y[cols]) if len(rows) else np.zeros(0)
        out[0][0] = _pattern_like(p, np.asarray(p.data * vals, dtype=node.outputs[0].dtype))

    def L_op(self, inputs, outputs, grads):
        from thx.gradient import grad_not_implemented
        (x, y, p), (gz,) = inputs, grads
        pgz = mul(p, gz)
        return [dot(pgz, y).astype(x.dtype), dot(transpose(pgz), x).astype(y.dtype),
                grad_not_implemented(self, 2, p)]

    def __str__(self) -> str:
        return "SamplingDot"


sampling_dot = SamplingDot()
