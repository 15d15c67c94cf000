"""Sparse indexing (``x[i, j]``, ``x[a:b, c:d]``, ``x[rows]``, ``x[rows, cols]``), stacking
(``hstack``, ``vstack``) and diagonals (``diag``, ``square_diagonal``).

``x[...]`` on a sparse variable calls :func:`getitem`, which picks Theano's op for the index's
form: two integer scalars give a dense scalar (``GetItemScalar``), slices a sparse matrix
(``GetItem2d``), one integer vector (a list, an array or a symbolic vector) the sparse matrix
of those rows (``GetItemList``), two integer vectors the dense vector of those entries
(``GetItem2Lists``).  A form that would make a sparse *vector* (``x[i, a:b]``) is refused, as
Theano refused it: thx has no sparse vectors.  Gradients scatter the output gradient back into
a sparse matrix of the input's shape, summing where an index repeats.

>>> import scipy.sparse as sp, thx, thx.sparse as S
>>> x = S.csc_matrix('x')
>>> f = thx.function([x], [x[0:2, 1:], S.diag(x)])
>>> block, d = f(sp.csc_matrix([[1., 2., 0.], [0., 3., 4.], [5., 0., 6.]]))
>>> block.format, block.toarray(), d
('csc', array([[2., 0.],
       [3., 4.]]), array([1., 3., 6.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.sparse.basic import (FormatConvert, SparseFromDense, _dense, _disconnected, cast, csm_shape,
                              dense_from_sparse)
from thx.sparse.type import SparseOp, SparseType, _sp, as_sparse_variable, is_sparse_variable, issparse
from thx.tensor.type import TensorType, continuous_dtypes, discrete_dtypes, upcast

__all__ = ["getitem", "GetItemScalar", "get_item_scalar", "GetItem2d", "GetItem2dGrad",
           "get_item_2d", "GetItemList", "GetItemListGrad", "get_item_list",
           "get_item_list_grad", "GetItem2Lists", "GetItem2ListsGrad", "get_item_2lists",
           "get_item_2lists_grad", "HStack", "VStack", "hstack", "vstack", "SquareDiagonal",
           "square_diagonal", "Diag", "diag", "ConstructSparseFromList",
           "construct_sparse_from_list"]

_NO_SPARSE_VECTOR = ("thx, as Theano, has no sparse vector: index a sparse matrix with slices "
                     "only, e.g. x[M:M+1, N:O] instead of x[M, N:O]. Use X[a:b, c:d], "
                     "X[a:b, c:c+1] or X[a:b] instead.")


def _sparse_input(x: Any, who: str) -> Variable:
    if not (is_sparse_variable(x) or issparse(x)):
        got = getattr(x, "type", type(x).__name__)
        raise TypeError(f"{who}: expected a sparse matrix, got {got}")
    return as_sparse_variable(x)


def _int_vector(v: Any, who: str, what: str) -> Variable:
    if isinstance(v, (list, tuple)) and len(v) == 0:
        v = np.zeros(0, dtype="int64")
    v = _dense(v)
    if v.ndim != 1 or v.dtype not in discrete_dtypes or v.dtype == "bool":
        raise TypeError(f"{who}: {what} must be a vector of integers, got {v.type}")
    return v


def _int_scalar(v: Any, who: str, what: str) -> Variable:
    v = _dense(v)
    if v.ndim != 0 or v.dtype not in discrete_dtypes or v.dtype == "bool":
        raise TypeError(f"{who}: {what} must be an integer scalar, got {v.type}")
    return v


def _wrap(idx: np.ndarray, n: int, who: str) -> np.ndarray:
    """Indices in ``[-n, n)`` as positions in ``[0, n)``; IndexError outside."""
    idx = np.asarray(idx, dtype="int64")
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"{who}: index {int(idx[bad][0])} is out of bounds for a dimension of "
                         f"size {n}")
    return np.where(idx < 0, idx + n, idx)


def _scatter(shape: tuple[int, int], fmt: str, dtype: str, rows: np.ndarray, cols: np.ndarray,
             values: np.ndarray) -> Any:
    """A ``fmt`` matrix of ``shape`` holding ``values`` at ``(rows, cols)`` (repeats summed)."""
    m = _sp().coo_matrix((np.asarray(values, dtype=dtype), (rows, cols)), shape=shape)
    return m.asformat(fmt)


def _like(g: Variable, x: Variable) -> Variable:
    """Sparse gradient ``g`` in ``x``'s format and dtype."""
    if g.format != x.format:
        g = FormatConvert(x.format)(g)
    return cast(g, x.dtype)


# ---------------------------------------------------------------- x[i, j]

class GetItemScalar(SparseOp):
    """``x[i, j]`` for integer scalars ``i``, ``j``: a dense scalar.

    Gradient: a sparse matrix of ``x``'s shape holding the output gradient at ``(i, j)``.
    """

    __props__ = ()

    def make_node(self, x, i, j):
        x = _sparse_input(x, "GetItemScalar")
        i, j = (_int_scalar(v, "GetItemScalar", f"index {k}") for k, v in enumerate((i, j)))
        return Apply(self, [x, i, j], [TensorType(x.dtype, ())()])

    def perform(self, node, inputs, out):
        x, i, j = inputs
        out[0][0] = np.asarray(x[int(i), int(j)], dtype=node.outputs[0].dtype)

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def L_op(self, inputs, outputs, grads):
        (x, i, j), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [x.zeros_like(), _disconnected(), _disconnected()]
        g = get_item_2lists_grad(x, i.dimshuffle("x"), j.dimshuffle("x"), gz.dimshuffle("x"))
        return [g, _disconnected(), _disconnected()]

    def infer_shape(self, fgraph, node, shapes):
        return [()]


_get_item_scalar = GetItemScalar()


def get_item_scalar(x, index):
    """``x[i, j]`` (``index = (i, j)``, integer scalars): a dense scalar of ``x``'s dtype."""
    if len(index) != 2:
        raise IndexError(f"get_item_scalar needs two indices, got {len(index)}")
    for ind in index:
        if isinstance(ind, slice):
            raise TypeError("GetItemScalar called with a slice as index: use get_item_2d")
    return _get_item_scalar(x, *index)


# ---------------------------------------------------------------- x[a:b, c:d]

def _slices(given: tuple[bool, ...], bounds: list) -> tuple[slice, slice]:
    it = iter(bounds)
    comps = [int(next(it)) if g else None for g in given]
    return slice(*comps[:3]), slice(*comps[3:])


class GetItem2d(SparseOp):
    """``x[a:b:s, c:d:t]`` (bounds constant or symbolic integer scalars): a sparse matrix of
    ``x``'s format.

    ``given`` says which of the six bounds (start, stop, step of the rows, then of the columns)
    are inputs; the others are None.  Gradient: the output gradient placed back at the sliced
    positions of a sparse matrix of ``x``'s shape (``GetItem2dGrad``; Theano had none).
    """

    __props__ = ("given",)

    def __init__(self, given: tuple[bool, ...] = (False,) * 6) -> None:
        if len(given) != 6:
            raise ValueError(f"GetItem2d: given must have 6 entries, got {len(given)}")
        self.given = tuple(bool(g) for g in given)

    def make_node(self, x, *bounds):
        x = _sparse_input(x, "GetItem2d")
        if len(bounds) != sum(self.given):
            raise TypeError(f"GetItem2d: expected {sum(self.given)} slice bounds, got "
                            f"{len(bounds)}")
        bounds = [_int_scalar(b, "GetItem2d", "a slice bound") for b in bounds]
        return Apply(self, [x, *bounds], [x.type()])

    def perform(self, node, inputs, out):
        x, *bounds = inputs
        rows, cols = _slices(self.given, bounds)
        out[0][0] = x[rows, cols].asformat(x.format)

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def L_op(self, inputs, outputs, grads):
        (x, *bounds), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [x.zeros_like()] + [_disconnected() for _ in bounds]
        return [GetItem2dGrad(self.given)(x, gz, *bounds)] + [_disconnected() for _ in bounds]

    def __str__(self) -> str:
        return "GetItem2d"


class GetItem2dGrad(SparseOp):
    """The gradient of ``GetItem2d``: ``gz`` at the sliced positions of a sparse matrix of
    ``x``'s shape, format and dtype."""

    __props__ = ("given",)

    def __init__(self, given: tuple[bool, ...]) -> None:
        self.given = tuple(bool(g) for g in given)

    def make_node(self, x, gz, *bounds):
        x = _sparse_input(x, "GetItem2dGrad")
        gz = as_sparse_variable(gz) if (is_sparse_variable(gz) or issparse(gz)) else _dense(gz)
        return Apply(self, [x, gz, *[_dense(b) for b in bounds]], [x.type()])

    def perform(self, node, inputs, out):
        x, gz, *bounds = inputs
        rows, cols = _slices(self.given, bounds)
        r, c = np.arange(x.shape[0])[rows], np.arange(x.shape[1])[cols]
        g = _sp().coo_matrix(gz)
        if g.shape != (len(r), len(c)):
            raise ValueError(f"GetItem2dGrad: gradient of shape {g.shape} for a slice of shape "
                             f"{(len(r), len(c))}")
        out[0][0] = _scatter(x.shape, x.format, node.outputs[0].dtype, r[g.row], c[g.col], g.data)

    def __str__(self) -> str:
        return "GetItem2dGrad"


def _is_int_scalar(a: Any) -> bool:
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (int, np.integer)):
        return True
    return isinstance(a, Variable) and getattr(a, "ndim", None) == 0 and \
        getattr(a, "dtype", None) in discrete_dtypes


def _is_int_vector(a: Any) -> bool:
    if isinstance(a, list):
        return True
    if isinstance(a, np.ndarray):
        return a.ndim == 1 and a.dtype.kind in "iu"
    return isinstance(a, Variable) and not is_sparse_variable(a) and \
        getattr(a, "ndim", None) == 1 and getattr(a, "dtype", None) in discrete_dtypes


def get_item_2d(x, index):
    """``x[index]`` for a tuple of one or two slices: a sparse matrix of ``x``'s format.

    Raises
    ------
    NotImplementedError
        An integer index among the slices (the result would be a sparse vector).
    ValueError
        A slice bound that is not an integer scalar; an index that is neither.
    """
    if not isinstance(index, tuple):
        index = (index,)
    if len(index) not in (1, 2):
        raise IndexError(f"too many indices for a sparse matrix: {len(index)} given, at most 2")
    given: list[bool] = []
    bounds: list[Variable] = []
    for ind in tuple(index) + (slice(None),) * (2 - len(index)):
        if isinstance(ind, slice):
            for what, b in (("start", ind.start), ("stop", ind.stop), ("step", ind.step)):
                if b is None or (what == "step" and not isinstance(b, Variable) and b == 1):
                    given.append(False)
                    continue
                v = b if isinstance(b, Variable) else _dense(b)
                if v.ndim != 0 or v.dtype not in discrete_dtypes or v.dtype == "bool":
                    raise ValueError(f"Impossible to index into a sparse matrix with slice where "
                                     f"{what}={b} (an integer scalar is needed, got {v.type})")
                given.append(True)
                bounds.append(v)
        elif _is_int_scalar(ind):
            raise NotImplementedError(_NO_SPARSE_VECTOR)
        else:
            raise ValueError(f"Advanced indexing is not implemented for sparse matrices. "
                             f"Argument not supported: {ind!r}")
    return GetItem2d(tuple(given))(x, *bounds)


# ---------------------------------------------------------------- x[rows]

class GetItemList(SparseOp):
    """``x[rows]`` for an integer vector ``rows``: the sparse matrix of those rows (repeats
    allowed), in ``x``'s format.  Gradient: ``GetItemListGrad``."""

    __props__ = ()

    def make_node(self, x, index):
        x = _sparse_input(x, "GetItemList")
        return Apply(self, [x, _int_vector(index, "GetItemList", "the index")], [x.type()])

    def perform(self, node, inputs, out):
        x, index = inputs
        rows = _wrap(index, x.shape[0], "GetItemList")
        out[0][0] = x[rows].asformat(x.format)

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, grads):
        (x, index), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [x.zeros_like(), _disconnected()]
        return [get_item_list_grad(x, index, gz), _disconnected()]


class GetItemListGrad(SparseOp):
    """The gradient of ``x[rows]``: row ``k`` of ``gz`` added to row ``rows[k]`` of a sparse
    matrix of ``x``'s shape (Theano assigned, so a repeated row kept one term; thx sums)."""

    __props__ = ()

    def make_node(self, x, index, gz):
        x = _sparse_input(x, "GetItemListGrad")
        gz = as_sparse_variable(gz) if (is_sparse_variable(gz) or issparse(gz)) else _dense(gz)
        if gz.ndim != 2:
            raise TypeError(f"GetItemListGrad: the gradient must be a matrix, got {gz.type}")
        return Apply(self, [x, _int_vector(index, "GetItemListGrad", "the index"), gz], [x.type()])

    def perform(self, node, inputs, out):
        x, index, gz = inputs
        rows = _wrap(index, x.shape[0], "GetItemListGrad")
        if gz.shape != (len(rows), x.shape[1]):
            raise ValueError(f"GetItemListGrad: gradient of shape {gz.shape} for {len(rows)} rows "
                             f"of {x.shape[1]} columns")
        sp = _sp()
        pick = sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))),
                             shape=(x.shape[0], len(rows)))
        r = pick @ (gz if issparse(gz) else sp.csr_matrix(np.asarray(gz)))
        out[0][0] = r.asformat(x.format).astype(node.outputs[0].dtype)


get_item_list = GetItemList()
get_item_list_grad = GetItemListGrad()


# ---------------------------------------------------------------- x[rows, cols]

class GetItem2Lists(SparseOp):
    """``x[rows, cols]`` for two integer vectors of one length: the dense vector of the entries
    ``x[rows[k], cols[k]]``.  Gradient: ``GetItem2ListsGrad``."""

    __props__ = ()

    def make_node(self, x, ind1, ind2):
        x = _sparse_input(x, "GetItem2Lists")
        ind1 = _int_vector(ind1, "GetItem2Lists", "the row index")
        ind2 = _int_vector(ind2, "GetItem2Lists", "the column index")
        return Apply(self, [x, ind1, ind2], [TensorType(x.dtype, (False,))()])

    def perform(self, node, inputs, out):
        x, ind1, ind2 = inputs
        if len(ind1) != len(ind2):
            raise IndexError(f"GetItem2Lists: {len(ind1)} row indices and {len(ind2)} column "
                             f"indices: they must have one length")
        r, c = _wrap(ind1, x.shape[0], "GetItem2Lists"), _wrap(ind2, x.shape[1], "GetItem2Lists")
        vals = np.asarray(x[r, c]).ravel() if len(r) else np.zeros(0)
        out[0][0] = np.asarray(vals, dtype=node.outputs[0].dtype)

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def L_op(self, inputs, outputs, grads):
        (x, ind1, ind2), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [x.zeros_like(), _disconnected(), _disconnected()]
        return [get_item_2lists_grad(x, ind1, ind2, gz), _disconnected(), _disconnected()]


class GetItem2ListsGrad(SparseOp):
    """The gradient of ``x[rows, cols]``: ``gz[k]`` added at ``(rows[k], cols[k])`` of a sparse
    matrix of ``x``'s shape, format and dtype."""

    __props__ = ()

    def make_node(self, x, ind1, ind2, gz):
        x = _sparse_input(x, "GetItem2ListsGrad")
        gz = _dense(gz)
        if gz.ndim != 1:
            raise TypeError(f"GetItem2ListsGrad: the gradient must be a vector, got {gz.type}")
        return Apply(self, [x, _int_vector(ind1, "GetItem2ListsGrad", "the row index"),
                            _int_vector(ind2, "GetItem2ListsGrad", "the column index"), gz],
                     [x.type()])

    def perform(self, node, inputs, out):
        x, ind1, ind2, gz = inputs
        r = _wrap(ind1, x.shape[0], "GetItem2ListsGrad")
        c = _wrap(ind2, x.shape[1], "GetItem2ListsGrad")
        out[0][0] = _scatter(x.shape, x.format, node.outputs[0].dtype, r, c, np.asarray(gz))


get_item_2lists_grad = GetItem2ListsGrad()
_get_item_2lists = GetItem2Lists()


def get_item_2lists(x, ind1, ind2):
    """``x[ind1, ind2]`` for integer vectors: the dense vector of those entries."""
    return _get_item_2lists(x, ind1, ind2)


# ---------------------------------------------------------------- the dispatcher

def getitem(x, args):
    """``x[args]`` for sparse ``x`` (``SparseVariable.__getitem__``), by the index's form.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, thx, thx.sparse as S
    >>> x = S.csr_matrix('x')
    >>> f = thx.function([x], [x[1, 0], x[[1, 1]], x[[0, 1], [1, 0]]])
    >>> a, b, c = f(sp.csr_matrix([[0., 2.], [1., 0.]]))
    >>> a, b.toarray(), c
    (array(1.), array([[1., 0.],
           [1., 0.]]), array([2., 1.]))
    """
    if not isinstance(args, tuple):
        args = (args,)
    if len(args) > 2:
        raise IndexError(f"too many indices for a sparse matrix: {len(args)} given, at most 2")
    vectors = [_is_int_vector(a) for a in args]
    if len(args) == 2 and all(_is_int_scalar(a) for a in args):
        return get_item_scalar(x, args)
    if all(vectors):
        return get_item_list(x, args[0]) if len(args) == 1 else get_item_2lists(x, *args)
    if any(vectors):
        raise ValueError(f"Advanced indexing is not implemented for sparse matrices mixed with "
                         f"other indices: {args!r}; index the rows first, x[rows][:, a:b]")
    return get_item_2d(x, args)


# ---------------------------------------------------------------- stacking

class HStack(SparseOp):
    """Sparse matrices side by side (``scipy.sparse.hstack``), in ``format`` (default csc) and
    ``dtype``.  Gradient (regular): the output gradient's columns of each block."""

    __props__ = ("format", "dtype")
    axis = 1

    def __init__(self, format: str | None = None, dtype: str | None = None) -> None:
        if dtype is None:
            raise ValueError("The output dtype must be specified.")
        self.format = format or "csc"
        if self.format not in ("csr", "csc"):
            raise ValueError(f"{type(self).__name__}: format must be 'csr' or 'csc', got "
                             f"{format!r}")
        self.dtype = str(np.dtype(dtype))

    def make_node(self, *blocks):
        if not blocks:
            raise ValueError("Cannot join an empty list of sparses.")
        blocks = [_sparse_input(b, type(self).__name__) for b in blocks]
        return Apply(self, blocks, [SparseType(self.format, self.dtype)()])

    def perform(self, node, blocks, out):
        sp = _sp()
        stack = sp.hstack if self.axis == 1 else sp.vstack
        out[0][0] = stack(blocks, format=self.format, dtype=self.dtype).asformat(self.format) \
            .astype(self.dtype)

    def L_op(self, inputs, outputs, grads):
        from thx.tensor.basic import split, stack
        (gz,) = grads
        sizes = [csm_shape(b)[self.axis] for b in inputs]
        if is_sparse_variable(gz):  # slice the sparse gradient: no dense matrix is made
            pieces, start = [], None
            for n in sizes:
                stop = n if start is None else start + n
                idx = (slice(start, stop),) if self.axis == 0 else (slice(None), slice(start, stop))
                pieces.append(get_item_2d(gz, idx))
                start = stop
        else:
            pieces = [SparseFromDense(self.format)(p) for p in
                      split(gz, stack(sizes), len(inputs), self.axis)]
        return [_like(p, b) if b.dtype in continuous_dtypes else None
                for p, b in zip(pieces, inputs)]

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.format},{self.dtype})"


class VStack(HStack):
    """Sparse matrices one above the other (``scipy.sparse.vstack``).  Gradient (regular): the
    output gradient's rows of each block."""

    axis = 0


def _stack(cls: type, blocks, format: str | None, dtype: str | None):
    blocks = [_sparse_input(b, cls.__name__.lower()) for b in blocks]
    if not blocks:
        raise ValueError("Cannot join an empty list of sparses.")
    return cls(format, dtype or upcast(*[b.dtype for b in blocks]))(*blocks)


def hstack(blocks, format: str | None = None, dtype: str | None = None):
    """Stack sparse matrices horizontally (column wise), as ``scipy.sparse.hstack``.

    ``format`` defaults to csc (Theano's default), ``dtype`` to the blocks' upcast.

    Examples
    --------
    >>> import scipy.sparse as sp, thx, thx.sparse as S
    >>> x, y = S.csr_matrix('x'), S.csr_matrix('y')
    >>> f = thx.function([x, y], S.hstack([x, y], format='csr'))
    >>> f(sp.csr_matrix([[1.], [0.]]), sp.csr_matrix([[0.], [2.]])).toarray()
    array([[1., 0.],
           [0., 2.]])
    """
    return _stack(HStack, blocks, format, dtype)


def vstack(blocks, format: str | None = None, dtype: str | None = None):
    """Stack sparse matrices vertically (row wise), as ``scipy.sparse.vstack``; ``format``
    defaults to csc, ``dtype`` to the blocks' upcast."""
    return _stack(VStack, blocks, format, dtype)


# ---------------------------------------------------------------- diagonals

class SquareDiagonal(SparseOp):
    """The square csc matrix with dense vector ``diag`` on its diagonal (every entry stored).
    Gradient (regular): the diagonal of the output gradient."""

    __props__ = ()

    def make_node(self, diag):
        diag = _dense(diag)
        if diag.ndim != 1:
            raise TypeError(f"data argument must be a vector, got {diag.type} ({diag.ndim} "
                            f"dimensions)")
        return Apply(self, [diag], [SparseType("csc", diag.dtype)()])

    def perform(self, node, inputs, out):
        (d,) = inputs
        n = len(d)
        out[0][0] = _sp().csc_matrix((np.array(d), np.arange(n), np.arange(n + 1)), shape=(n, n))

    def L_op(self, inputs, outputs, grads):
        from thx.tensor.diagonal import diagonal
        (d,), (gz,) = inputs, grads
        g = diag(gz) if is_sparse_variable(gz) else diagonal(gz)
        return [g.astype(d.dtype)]

    def infer_shape(self, fgraph, node, shapes):
        return [(shapes[0][0], shapes[0][0])]


square_diagonal = SquareDiagonal()


class Diag(SparseOp):
    """The diagonal of a square sparse matrix, as a dense vector.  Gradient (regular): the
    square matrix with the output gradient on its diagonal."""

    __props__ = ()

    def make_node(self, x):
        x = _sparse_input(x, "Diag")
        return Apply(self, [x], [TensorType(x.dtype, (False,))()])

    def perform(self, node, inputs, out):
        (x,) = inputs
        if x.shape[0] != x.shape[1]:
            raise ValueError(f"Diag only apply on square matrix, got shape {x.shape}")
        out[0][0] = np.asarray(x.diagonal(), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (gz,) = inputs, grads
        if x.dtype in discrete_dtypes:
            return [x.zeros_like()]
        return [_like(square_diagonal(gz), x)]


diag = Diag()


# ---------------------------------------------------------------- construction from rows

class ConstructSparseFromList(SparseOp):
    """A csc matrix of shape ``shape`` whose row ``ilist[k]`` is row ``k`` of the dense matrix
    ``values`` (rows named twice are summed): Theano's sparse gradient of ``x[ilist]``.

    Gradient (regular): wrt ``values``, the rows ``ilist`` of the output gradient.
    """

    __props__ = ()

    def make_node(self, shape, values, ilist):
        shape, values = _dense(shape), _dense(values)
        ilist = _int_vector(ilist, "construct_sparse_from_list", "ilist")
        if shape.ndim != 1 or shape.dtype not in discrete_dtypes:
            raise TypeError(f"construct_sparse_from_list: shape must be an integer vector, got "
                            f"{shape.type}")
        if values.ndim != 2:
            raise TypeError(f"cannot create a sparse matrix from values with {values.ndim} ndim")
        return Apply(self, [shape, values, ilist], [SparseType("csc", values.dtype)()])

    def perform(self, node, inputs, out):
        shape, values, ilist = inputs
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise ValueError(f"cannot create a sparse matrix with {len(shape)} dimensions")
        n, m = values.shape
        if n != len(ilist) or m != shape[1]:
            raise ValueError(f"construct_sparse_from_list: values of shape {values.shape} for "
                             f"{len(ilist)} rows of {shape[1]} columns")
        rows = np.repeat(_wrap(ilist, shape[0], "construct_sparse_from_list"), m)
        cols = np.tile(np.arange(m), n)
        out[0][0] = _scatter(shape, "csc", node.outputs[0].dtype, rows, cols, values.ravel())

    def connection_pattern(self, node):
        return [[False], [True], [False]]

    def L_op(self, inputs, outputs, grads):
        (_, values, ilist), (gz,) = inputs, grads
        g = dense_from_sparse(get_item_list(gz, ilist)) if is_sparse_variable(gz) else gz[ilist]
        return [_disconnected(), g.astype(values.dtype), _disconnected()]


_construct_sparse_from_list = ConstructSparseFromList()


def construct_sparse_from_list(x, values, ilist):
    """A csc matrix of ``x``'s shape (``x`` dense) whose rows ``ilist`` are the rows of
    ``values``: ``out = zeros_like(x); out[ilist[k]] += values[k]`` (Theano's signature)."""
    return _construct_sparse_from_list(_dense(x).shape, values, ilist)
