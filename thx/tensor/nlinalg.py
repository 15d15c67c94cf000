"""Theano's ``theano.tensor.nlinalg``: linear algebra on matrices with NumPy's semantics.

Inverse, pseudo-inverse, determinant, eigen decompositions, QR, SVD, least squares, matrix
powers, norms, the diagonal helpers and the tensor inverse/solve.  Each op's math is its
``perform`` (``numpy.linalg``), its gradient is its ``L_op`` (the formulas Theano uses, written
as graphs of thx ops where Theano did), and its JAX lowering is in ``thx/lowering/nlinalg.py``.

Every op takes matrices only (Theano's; ``numpy.linalg`` also takes stacks of matrices).
Integer inputs give float64 results, as ``numpy.linalg`` does; float32 stays float32.

An exactly singular matrix given to :func:`matrix_inverse` raises
``numpy.linalg.LinAlgError: Singular matrix`` from the compiled function, as NumPy does (XLA's
LU gives infinities; the lowering checks the result).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor import elemwise as E
from thx.tensor.basic import identity_like, zeros_like
from thx.tensor.diagonal import AllocDiag, ExtractDiag, diag as _diag, diagonal
from thx.tensor.math import dot, max as _max, min as _min, sum as _sum
from thx.tensor.shape import NotScalarConstantError, get_scalar_constant_value, reshape, shape
from thx.tensor.type import TensorType, discrete_dtypes, upcast
from thx.tensor.var import as_tensor_variable

__all__ = ["MatrixInverse", "matrix_inverse", "MatrixPinv", "pinv", "matrix_dot", "AllocDiag",
           "alloc_diag", "ExtractDiag", "extract_diag", "diag", "trace", "Det", "det", "Eig", "eig",
           "Eigh", "EighGrad", "eigh", "QRFull", "QRIncomplete", "qr", "SVD", "svd", "lstsq",
           "matrix_power", "norm", "tensorinv", "tensorsolve", "float_dtype", "as_matrix"]


def float_dtype(*dtypes: str) -> str:
    """The dtype of a ``numpy.linalg`` result on inputs of ``dtypes``: their upcast, and float64
    for integers and booleans."""
    d = upcast(*dtypes)
    return "float64" if d in discrete_dtypes else d


def as_matrix(x: Any, who: str) -> Variable:
    """``x`` as a tensor variable, checked to be a matrix (TypeError naming ``who`` otherwise)."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"{who}: the input must be a matrix (2 dimensions), got {x.type} with "
                        f"{x.ndim} dimension(s)")
    return x


def _matrix(dtype: str) -> Variable:
    return TensorType(dtype, (False, False))()


def _vector(dtype: str) -> Variable:
    return TensorType(dtype, (False,))()


def _is_disconnected(g: Variable) -> bool:
    return isinstance(g.type, DisconnectedType)


def _is_zero(g: Variable) -> bool:
    """True for a disconnected gradient or a constant zero one (what the gradient machinery gives
    an unused output of a multi-output op)."""
    if _is_disconnected(g):
        return True
    try:
        return float(get_scalar_constant_value(g)) == 0.0
    except NotScalarConstantError:
        return False


# ---------------------------------------------------------------------- inverse, pseudo-inverse


class MatrixInverse(Op):
    """The inverse of a square matrix (``numpy.linalg.inv``).

    Gradient: ``-X^-T G X^-T`` with ``X^-1`` the output; R-op: ``-X^-1 V X^-1``.
    """

    __props__ = ()

    def make_node(self, x):
        x = as_matrix(x, "MatrixInverse")
        return Apply(self, [x], [_matrix(float_dtype(x.dtype))])

    def perform(self, node, inputs, out):
        out[0][0] = np.linalg.inv(inputs[0]).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (xi,), (gz,) = outputs, grads
        return [-matrix_dot(xi.T, gz, xi.T)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        xi = self(inputs[0])
        return [-matrix_dot(xi, eval_points[0], xi)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


matrix_inverse = MatrixInverse()


class MatrixPinv(Op):
    """The Moore-Penrose pseudo-inverse of a matrix (``numpy.linalg.pinv``); ``hermitian`` as
    NumPy's.

    Gradient (where the rank is locally constant), with ``P`` the output and ``G`` its gradient:
    ``-P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)`` (Golub and Pereyra's derivative
    of the pseudo-inverse, transposed; :meth:`L_op`).
    """

    __props__ = ("hermitian",)

    def __init__(self, hermitian: bool = False) -> None:
        self.hermitian = bool(hermitian)

    def make_node(self, x):
        x = as_matrix(x, "MatrixPinv")
        return Apply(self, [x], [_matrix(float_dtype(x.dtype))])

    def perform(self, node, inputs, out):
        out[0][0] = np.linalg.pinv(inputs[0], hermitian=self.hermitian).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (a,), (p,), (g,) = inputs, outputs, grads
        # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P   (Golub & Pereyra, 1973);
        # its adjoint, for <G, dP> = <gA, dA>:
        #   gA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)
        i_ap = identity_like(dot(a, p)) - dot(a, p)
        i_pa = identity_like(dot(p, a)) - dot(p, a)
        return [-matrix_dot(p.T, g, p.T) + matrix_dot(i_ap, g.T, p, p.T)
                + matrix_dot(p.T, p, g.T, i_pa)]

    def infer_shape(self, fgraph, node, input_shapes):
        (sh,) = input_shapes
        return [(sh[1], sh[0])]


pinv = MatrixPinv()


def matrix_dot(*args: Any) -> Variable:
    """The product ``args[0] . args[1] . ... . args[-1]`` of several matrices, left to right.

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.tensor.nlinalg import matrix_dot
    >>> matrix_dot(np.eye(2), 2 * np.eye(2), np.ones((2, 1))).eval()
    array([[2.],
           [2.]])
    """
    out = as_tensor_variable(args[0])
    for a in args[1:]:
        out = dot(out, a)
    return out


# ---------------------------------------------------------------------- diagonals

alloc_diag = AllocDiag()
extract_diag = ExtractDiag()


def diag(x: Any) -> Variable:
    """A vector's diagonal matrix, or a matrix's diagonal (Theano's ``nlinalg.diag``, no offset;
    ``T.diag`` takes one)."""
    return _diag(x)


def trace(X: Any) -> Variable:
    """The sum of a matrix's diagonal (``numpy.trace``; also ``X.trace()``).

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.nlinalg import trace
    >>> trace(np.arange(9.).reshape(3, 3)).eval()
    array(12.)
    """
    X = as_matrix(X, "trace")
    return _sum(diagonal(X))


# ---------------------------------------------------------------------- determinant


class Det(Op):
    """The determinant of a square matrix (``numpy.linalg.det``).

    Gradient: ``g * det(X) * X^-T``; R-op: ``det(X) * trace(X^-1 V)``.
    """

    __props__ = ()

    def make_node(self, x):
        x = as_matrix(x, "Det")
        return Apply(self, [x], [TensorType(float_dtype(x.dtype), ())()])

    def perform(self, node, inputs, out):
        out[0][0] = np.asarray(np.linalg.det(inputs[0]), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (d,), (gz,) = inputs, outputs, grads
        return [gz * d * matrix_inverse(x).T]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        x = inputs[0]
        return [self(x) * trace(dot(matrix_inverse(x), eval_points[0]))]

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def __str__(self) -> str:
        return "Det"


det = Det()


# ---------------------------------------------------------------------- eigen decompositions


class Eig(Op):
    """Eigenvalues and right eigenvectors of a square matrix (``numpy.linalg.eig``), as real
    arrays of the input's float dtype: the imaginary parts are dropped, as Theano's
    ``astype(x.dtype)`` does.  No gradient (Theano has none).  The JAX lowering runs on CPU."""

    __props__ = ()

    def make_node(self, x):
        x = as_matrix(x, "Eig")
        dt = float_dtype(x.dtype)
        return Apply(self, [x], [_vector(dt), _matrix(dt)])

    def perform(self, node, inputs, out):
        w, v = np.linalg.eig(inputs[0])
        out[0][0] = np.real(w).astype(node.outputs[0].dtype)
        out[1][0] = np.real(v).astype(node.outputs[1].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]


eig = Eig()


class Eigh(Op):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (``numpy.linalg.eigh``),
    reading only the ``UPLO`` triangle ('L' lower, 'U' upper), as LAPACK does.

    The gradient is :class:`EighGrad` (first-order perturbation theory).
    """

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def make_node(self, x):
        x = as_matrix(x, "Eigh")
        dt = float_dtype(x.dtype)
        return Apply(self, [x], [_vector(dt), _matrix(dt)])

    def perform(self, node, inputs, out):
        w, v = np.linalg.eigh(inputs[0], self.UPLO)
        out[0][0] = w.astype(node.outputs[0].dtype)
        out[1][0] = v.astype(node.outputs[1].dtype)

    def L_op(self, inputs, outputs, grads):
        (x,), (w, v) = inputs, outputs
        gw, gv = (zeros_like(o) if _is_disconnected(g) else g for o, g in zip(outputs, grads))
        return [EighGrad(self.UPLO)(x, w, v, gw, gv)]

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]


def eigh_grad(w: Any, v: Any, gw: Any, gv: Any, uplo: str, xp: Any = np) -> Any:
    """:class:`EighGrad`'s formula (see its docstring) on arrays of the module ``xp`` (NumPy for
    ``perform``, ``jax.numpy`` for the lowering)."""
    n = w.shape[0]
    diff = w[None, :] - w[:, None]  # diff[m, k] = w_k - w_m
    off = ~xp.eye(n, dtype=bool)
    f = xp.where(off, 1.0 / xp.where(off, diff, 1.0), 0.0)
    g = v @ (xp.diag(gw) + (f * (v.T @ gv)).T) @ v.T
    return xp.tril(g) + xp.triu(g, 1).T if uplo == "L" else xp.triu(g) + xp.tril(g, -1).T


class EighGrad(Op):
    """The gradient of :class:`Eigh` with respect to its input.

    With ``(w, v) = eigh(A)`` and output gradients ``W``, ``V``: ``dw_k = v_k^T dA v_k`` and
    ``dv_k = sum_{m != k} v_m (v_m^T dA v_k) / (w_k - w_m)``, so
    ``G = v (diag(W) + (F o (v^T V))^T) v^T`` with ``F[m, k] = 1 / (w_k - w_m)`` off the
    diagonal and 0 on it.  ``eigh`` reads one triangle of ``A``: an entry off the diagonal of
    that triangle stands for two entries of the symmetric matrix, so the gradient is the
    triangle of ``G`` plus the transposed other triangle (``tril(G) + triu(G, 1)^T`` for 'L').
    Repeated eigenvalues make ``F`` infinite, as in Theano.
    """

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:
        if UPLO not in ("L", "U"):
            raise ValueError(f"EighGrad: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def make_node(self, x, w, v, gw, gv):
        x, w, v, gw, gv = (as_tensor_variable(t) for t in (x, w, v, gw, gv))
        if [t.ndim for t in (x, w, v, gw, gv)] != [2, 1, 2, 1, 2]:
            raise TypeError("EighGrad: expects (matrix, vector, matrix, vector, matrix), got "
                            f"{[str(t.type) for t in (x, w, v, gw, gv)]}")
        return Apply(self, [x, w, v, gw, gv],
                     [_matrix(float_dtype(x.dtype, w.dtype, v.dtype, gw.dtype, gv.dtype))])

    def perform(self, node, inputs, out):
        _, w, v, gw, gv = inputs
        out[0][0] = eigh_grad(w, v, gw, gv, self.UPLO).astype(node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


def eigh(a: Any, UPLO: str = "L") -> list[Variable]:
    """Eigenvalues and eigenvectors of a symmetric matrix (``numpy.linalg.eigh``).

    Returns
    -------
    [w, v]
        ``w`` ascending, ``v[:, k]`` the eigenvector of ``w[k]``.

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.nlinalg import eigh
    >>> w, v = eigh(np.array([[2., 1.], [1., 2.]]))
    >>> w.eval()
    array([1., 3.])
    """
    return Eigh(UPLO)(a)


# ---------------------------------------------------------------------- QR and SVD

QR_MODES = ("reduced", "complete", "r", "raw", "full")


def _qr_mode(mode: str) -> str:
    """NumPy's mode for Theano's ``mode`` ('full' is Theano's name of 'reduced')."""
    if mode not in QR_MODES:
        raise ValueError(f"qr: unrecognized mode {mode!r} (one of {', '.join(map(repr, QR_MODES))})")
    return "reduced" if mode == "full" else mode


class QRFull(Op):
    """QR decomposition with two outputs (``numpy.linalg.qr`` in mode 'reduced', 'complete' or
    'raw'; Theano's 'full' is 'reduced').  No gradient (Theano has none)."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "reduced") -> None:
        _qr_mode(mode)
        if mode == "r":
            raise ValueError("QRFull: mode 'r' has one output (QRIncomplete)")
        self.mode = mode

    def make_node(self, x):
        x = as_matrix(x, "qr")
        dt = float_dtype(x.dtype)
        second = _vector(dt) if self.mode == "raw" else _matrix(dt)
        return Apply(self, [x], [_matrix(dt), second])

    def perform(self, node, inputs, out):
        q, r = np.linalg.qr(inputs[0], _qr_mode(self.mode))
        out[0][0] = q.astype(node.outputs[0].dtype)
        out[1][0] = r.astype(node.outputs[1].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        k = E.minimum(m, n)
        if self.mode == "raw":
            return [(n, m), (k,)]
        if self.mode == "complete":
            return [(m, m), (m, n)]
        return [(m, k), (k, n)]


class QRIncomplete(Op):
    """QR decomposition's ``r`` alone (``numpy.linalg.qr(a, 'r')``).  No gradient."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "r") -> None:
        if mode != "r":
            raise ValueError(f"QRIncomplete: mode must be 'r', got {mode!r}")
        self.mode = mode

    def make_node(self, x):
        x = as_matrix(x, "qr")
        return Apply(self, [x], [_matrix(float_dtype(x.dtype))])

    def perform(self, node, inputs, out):
        out[0][0] = np.linalg.qr(inputs[0], "r").astype(node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        return [(E.minimum(m, n), n)]


def qr(a: Any, mode: str = "reduced") -> Variable | list[Variable]:
    """QR decomposition of a matrix (``numpy.linalg.qr``).

    Parameters
    ----------
    a : matrix
    mode : {'reduced', 'complete', 'r', 'raw', 'full'}
        As NumPy's; 'full' (Theano's default name) is 'reduced'.

    Returns
    -------
    [q, r], or r for mode 'r'; [h, tau] for 'raw'.
    """
    _qr_mode(mode)
    if mode == "r":
        return QRIncomplete("r")(a)
    return QRFull(mode)(a)


class SVD(Op):
    """Singular value decomposition (``numpy.linalg.svd``): outputs ``[u, s, vt]``, or ``[s]``
    with ``compute_uv=False``.

    Gradient: of the singular values only (``u diag(gs) vt``, from the reduced decomposition);
    asking for the gradient through ``u`` or ``vt`` raises NotImplementedError (Theano's SVD has
    no gradient at all).
    """

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True) -> None:
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x):
        x = as_matrix(x, "SVD")
        dt = float_dtype(x.dtype)
        outs = [_matrix(dt), _vector(dt), _matrix(dt)] if self.compute_uv else [_vector(dt)]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, out):
        res = np.linalg.svd(inputs[0], self.full_matrices, self.compute_uv)
        res = res if self.compute_uv else (res,)
        for o, r, var in zip(out, res, node.outputs):
            o[0] = np.asarray(r).astype(var.dtype)

    def L_op(self, inputs, outputs, grads):
        if self.compute_uv:
            gu, gs, gvt = grads
            if not (_is_zero(gu) and _is_zero(gvt)):
                raise NotImplementedError(
                    "SVD: the gradient through the singular vectors u and vt is not implemented "
                    "(only through the singular values s; svd(a, compute_uv=False) gives them alone)")
        else:
            (gs,) = grads
        u, _, vt = SVD(full_matrices=False, compute_uv=True)(inputs[0])
        return [dot(u * gs.dimshuffle("x", 0), vt)]

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        k = E.minimum(m, n)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(m, m), (k,), (n, n)]
        return [(m, k), (k,), (k, n)]


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True) -> Variable | list[Variable]:
    """Singular value decomposition (``numpy.linalg.svd``).

    Returns
    -------
    [u, s, vt], or s alone with ``compute_uv=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.nlinalg import svd
    >>> svd(np.diag([3., 4.]), compute_uv=False).eval()
    array([4., 3.])
    """
    return SVD(full_matrices, compute_uv)(a)


# ---------------------------------------------------------------------- least squares


class lstsq(Op):  # noqa: N801 (Theano's class name)
    """Least-squares solution of ``a x = b`` (``numpy.linalg.lstsq(a, b, rcond)``).

    Outputs ``[x, residuals, rank, s]`` as NumPy's: ``residuals`` is empty when the rank is below
    the number of columns or the system is not overdetermined, so the op runs on the host
    between jitted segments (its output length depends on the values).  No gradient.
    """

    __props__ = ()

    def make_node(self, a, b, rcond):
        a = as_matrix(a, "lstsq")
        b = as_tensor_variable(b)
        if b.ndim not in (1, 2):
            raise TypeError(f"lstsq: b must be a vector or a matrix, got {b.type}")
        rcond = as_tensor_variable(rcond)
        if rcond.ndim != 0:
            raise TypeError(f"lstsq: rcond must be a scalar, got {rcond.type}")
        dt = float_dtype(a.dtype, b.dtype)
        return Apply(self, [a, b, rcond], [TensorType(dt, (False,) * b.ndim)(), _vector(dt),
                                            TensorType("int64", ())(), _vector(dt)])

    def perform(self, node, inputs, out):
        a, b, rcond = inputs
        x, res, rank, s = np.linalg.lstsq(a, b, rcond=float(rcond))
        for o, r, var in zip(out, (x, res, rank, s), node.outputs):
            o[0] = np.asarray(r).astype(var.dtype)


# ---------------------------------------------------------------------- powers and norms


def matrix_power(M: Any, n: int) -> Variable:
    """``M`` to the integer power ``n`` by repeated squaring (``numpy.linalg.matrix_power``):
    ``n = 0`` gives the identity, a negative ``n`` a power of the inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.nlinalg import matrix_power
    >>> matrix_power(np.array([[1., 1.], [0., 1.]]), 5).eval()
    array([[1., 5.],
           [0., 1.]])
    """
    M = as_matrix(M, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}")
    n = int(n)
    if n == 0:
        return identity_like(M)
    if n < 0:
        M, n = matrix_inverse(M), -n
    result = None
    base = M
    while n:
        if n & 1:
            result = base if result is None else dot(result, base)
        n >>= 1
        if n:
            base = dot(base, base)
    return result


def _ord_value(ord: Any) -> Any:
    """Theano's string spellings 'inf' and '-inf' as NumPy's infinities."""
    if isinstance(ord, str) and ord in ("inf", "-inf"):
        return float(ord)
    return ord


def norm(x: Any, ord: Any = None) -> Variable:
    """Vector or matrix norm (``numpy.linalg.norm(x, ord)``; Theano's ``nlinalg.norm``).

    Parameters
    ----------
    x : vector or matrix
    ord : None, number, 'inf', '-inf', 'fro' or 'nuc'
        Vectors: None (2-norm), inf, -inf, 0 (count of nonzeros) or any number ``p``
        (``sum(|x|**p)**(1/p)``).  Matrices: None or 'fro' (Frobenius), 'nuc', inf, -inf, 1,
        -1, 2, -2 (the last four through the singular values for 2 and -2).

    Raises
    ------
    ValueError
        For an order NumPy rejects, or a tensor of 0 or more than 2 dimensions.
    """
    x = as_tensor_variable(x)
    ord = _ord_value(ord)
    if x.ndim == 1:
        ax = abs(x)
        if ord is None or (not isinstance(ord, str) and ord == 2):
            return E.sqrt(_sum(E.sqr(x)))
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        if ord == np.inf:
            return _max(ax)
        if ord == -np.inf:
            return _min(ax)
        if ord == 0:
            return _sum(E.neq(x, 0), dtype=float_dtype(x.dtype))
        return _sum(ax ** ord) ** (1.0 / ord)
    if x.ndim == 2:
        ax = abs(x)
        if ord is None or ord == "fro":
            return E.sqrt(_sum(E.sqr(ax)))
        if ord == "nuc":
            return _sum(svd(x, compute_uv=False))
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for matrices")
        if ord == np.inf:
            return _max(_sum(ax, axis=1))
        if ord == -np.inf:
            return _min(_sum(ax, axis=1))
        if ord == 1:
            return _max(_sum(ax, axis=0))
        if ord == -1:
            return _min(_sum(ax, axis=0))
        if ord == 2:
            return _max(svd(x, compute_uv=False))
        if ord == -2:
            return _min(svd(x, compute_uv=False))
        raise ValueError("Invalid norm order for matrices.")
    raise ValueError(f"norm: x must be a vector or a matrix, got a tensor of {x.ndim} dimensions")


# ---------------------------------------------------------------------- tensor inverse and solve


def _prod(values: list) -> Any:
    out = 1
    for v in values:
        out = out * v
    return out


def tensorinv(a: Any, ind: int = 2) -> Variable:
    """The inverse of ``a`` for :func:`numpy.tensordot` over its first ``ind`` axes
    (``numpy.linalg.tensorinv``): ``a`` reshaped to a square matrix, inverted, reshaped to
    ``a.shape[ind:] + a.shape[:ind]``.  Differentiable (a graph of reshapes and one
    :class:`MatrixInverse`)."""
    a = as_tensor_variable(a)
    if not isinstance(ind, (int, np.integer)) or ind <= 0:
        raise ValueError("Invalid ind argument.")
    sh = [shape(a)[d] for d in range(a.ndim)]
    inv = matrix_inverse(reshape(a, (_prod(sh[:ind]), _prod(sh[ind:]))))
    return reshape(inv, tuple(sh[ind:] + sh[:ind]))


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Variable:
    """The ``x`` with ``tensordot(a, x, axes=x.ndim) == b`` (``numpy.linalg.tensorsolve``):
    ``axes`` of ``a`` are moved to the end first.  Differentiable: reshapes and
    ``dot(matrix_inverse(A), b)``, which the optimizer's ``local_inv_as_solve`` turns into one
    :class:`~thx.tensor.slinalg.Solve`."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if axes is not None:
        axes = [int(d) % a.ndim for d in axes]
        a = a.dimshuffle([d for d in range(a.ndim) if d not in axes] + axes)
    sh = [shape(a)[d] for d in range(a.ndim)]
    q = sh[b.ndim:]
    x = dot(matrix_inverse(reshape(a, (_prod(sh[:b.ndim]), _prod(q)))), b.flatten())
    return reshape(x, tuple(q))
