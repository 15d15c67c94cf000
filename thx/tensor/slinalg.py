"""Theano's ``theano.tensor.slinalg``: Cholesky, linear solves, generalized symmetric eigenvalues,
the matrix exponential and the Kronecker product, with SciPy's semantics.

Each op's math is its ``perform`` (``scipy.linalg``; SciPy comes with JAX), its gradient its
``L_op`` (Theano's formulas), its JAX lowering ``thx/lowering/slinalg.py``.

Triangles: as in LAPACK, ``Cholesky(lower=True)`` and ``Eigvalsh(lower=True)`` read only the
lower triangle of their input, a triangular :class:`Solve` only its triangle, and their
gradients are the gradients of those functions (nonzero on the triangle read), as Theano's.
``jax.grad`` of ``jnp.linalg.cholesky`` differs: it reads both triangles (symmetrizes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.tensor.basic import concatenate
from thx.tensor.diagonal import tril, triu
from thx.tensor.math import dot, outer
from thx.tensor.nlinalg import _matrix, as_matrix, float_dtype
from thx.tensor.shape import reshape, shape
from thx.tensor.type import TensorType
from thx.tensor.var import as_tensor_variable

__all__ = ["MATRIX_STRUCTURES", "Cholesky", "CholeskyGrad", "cholesky", "Solve", "solve",
           "solve_lower_triangular", "solve_upper_triangular", "solve_symmetric", "Eigvalsh",
           "EigvalshGrad", "eigvalsh", "kron", "Expm", "ExpmGrad", "expm"]

MATRIX_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular", "hermitian",
                     "banded", "diagonal", "toeplitz")


# ---------------------------------------------------------------------- Cholesky


class Cholesky(Op):
    """The Cholesky factor of a symmetric positive-definite matrix (``scipy.linalg.cholesky``):
    ``L`` lower triangular with ``L L^T = X`` (``lower=True``), else ``U`` with ``U^T U = X``;
    reads only that triangle of ``X``.

    ``on_error='raise'`` (default): a matrix that is not positive definite raises
    ``numpy.linalg.LinAlgError`` from the compiled function; ``'nan'``: the result is all NaN.
    The gradient is :class:`CholeskyGrad`.
    """

    __props__ = ("lower", "destructive", "on_error")

    def __init__(self, lower: bool = True, on_error: str = "raise") -> None:
        if on_error not in ("raise", "nan"):
            raise ValueError("on_error must be one of 'raise' or ''nan'")
        self.lower = bool(lower)
        self.destructive = False
        self.on_error = on_error

    def make_node(self, x):
        x = as_matrix(x, "Cholesky")
        return Apply(self, [x], [_matrix(float_dtype(x.dtype))])

    def perform(self, node, inputs, out):
        import scipy.linalg
        (x,) = inputs
        try:
            res = scipy.linalg.cholesky(x, lower=self.lower)
        except np.linalg.LinAlgError:
            if self.on_error == "raise":
                raise
            res = np.full(x.shape, np.nan)
        out[0][0] = res.astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        return [CholeskyGrad(self.lower)(inputs[0], outputs[0], grads[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


cholesky = Cholesky()


def cholesky_grad(l: Any, dz: Any, lower: bool, xp: Any = np, solve_triangular: Any = None) -> Any:
    """:class:`CholeskyGrad`'s formula (see its docstring) on arrays of the module ``xp`` with its
    ``solve_triangular`` (NumPy and ``scipy.linalg`` for ``perform``; ``jax.numpy`` and
    ``jax.scipy.linalg`` for the lowering)."""
    if solve_triangular is None:
        import scipy.linalg
        solve_triangular = scipy.linalg.solve_triangular
    if not lower:
        return cholesky_grad(l.T, dz.T, True, xp, solve_triangular).T
    phi = xp.tril(l.T @ xp.tril(dz))
    phi = phi - xp.diag(xp.diagonal(phi)) / 2
    # S = L^-T phi L^-1
    y = solve_triangular(l, phi.T, lower=True, trans="T").T
    s = solve_triangular(l, y, lower=True, trans="T")
    return xp.tril(s + s.T) - xp.diag(xp.diagonal(s))


class CholeskyGrad(Op):
    """The gradient of :class:`Cholesky`: inputs ``(x, L, dL)``.

    With ``Phi(M)`` the lower triangle of ``M`` with its diagonal halved and
    ``S = L^-T Phi(L^T tril(dL)) L^-1`` (Murray, "Differentiation of the Cholesky decomposition",
    2016), the gradient with respect to the lower triangle read is ``tril(S + S^T) - diag(S)``:
    an entry below the diagonal stands for both entries of the symmetric matrix.  ``lower=False``
    is the same on the transposes.
    """

    __props__ = ("lower", "destructive")

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)
        self.destructive = False

    def make_node(self, x, l, dz):
        x, l, dz = (as_matrix(v, "CholeskyGrad") for v in (x, l, dz))
        return Apply(self, [x, l, dz], [_matrix(float_dtype(x.dtype, l.dtype, dz.dtype))])

    def perform(self, node, inputs, out):
        _, l, dz = inputs
        out[0][0] = cholesky_grad(l, dz, self.lower).astype(node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


# ---------------------------------------------------------------------- Solve


class Solve(Op):
    """Solve ``A x = b`` for ``x`` (``scipy.linalg.solve``; ``solve_triangular`` when
    ``A_structure`` is 'lower_triangular' or 'upper_triangular', reading only that triangle).
    ``b`` is a vector or a matrix.  Other structures solve as 'general', as Theano does;
    ``overwrite_A``/``overwrite_b`` are accepted for Theano's signature (thx never overwrites).

    An exactly singular ``A`` raises ``numpy.linalg.LinAlgError`` from the compiled function.

    Gradient (Theano's): ``gb = solve(A^T, gx)`` with the transposed structure, ``gA = -gb x^T``
    (``-outer(gb, x)`` for a vector), kept to the triangle read for a triangular ``A``.
    """

    __props__ = ("A_structure", "lower", "overwrite_A", "overwrite_b")

    def __init__(self, A_structure: str = "general", lower: bool = False, overwrite_A: bool = False,
                 overwrite_b: bool = False) -> None:
        if A_structure not in MATRIX_STRUCTURES:
            raise ValueError("Invalid matrix structure argument", A_structure)
        self.A_structure = A_structure
        self.lower = bool(lower)
        self.overwrite_A = bool(overwrite_A)
        self.overwrite_b = bool(overwrite_b)

    @property
    def triangle(self) -> str | None:
        """'lower' or 'upper' for a triangular solve, else None."""
        return {"lower_triangular": "lower", "upper_triangular": "upper"}.get(self.A_structure)

    def make_node(self, A, b):
        A = as_matrix(A, "Solve")
        b = as_tensor_variable(b)
        if b.ndim not in (1, 2):
            raise TypeError(f"Solve: b must be a vector or a matrix, got {b.type} with {b.ndim} "
                            f"dimension(s)")
        return Apply(self, [A, b], [TensorType(float_dtype(A.dtype, b.dtype), b.broadcastable)()])

    def perform(self, node, inputs, out):
        import scipy.linalg
        A, b = inputs
        if self.triangle is not None:
            res = scipy.linalg.solve_triangular(A, b, lower=self.triangle == "lower")
        else:
            res = scipy.linalg.solve(A, b)
        out[0][0] = np.asarray(res).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (A, b), (x,), (gx,) = inputs, outputs, grads
        transposed = {"lower_triangular": "upper_triangular",
                      "upper_triangular": "lower_triangular"}.get(self.A_structure, self.A_structure)
        gb = Solve(transposed, not self.lower)(A.T, gx)
        gA = -(outer(gb, x) if x.ndim == 1 else dot(gb, x.T))
        if self.triangle == "lower":
            gA = tril(gA)
        elif self.triangle == "upper":
            gA = triu(gA)
        return [gA, gb]

    def R_op(self, inputs, eval_points):
        (A, b), (eA, eb) = inputs, eval_points
        if eA is None and eb is None:
            return [None]
        x = self(A, b)
        if self.triangle == "lower" and eA is not None:
            eA = tril(eA)
        elif self.triangle == "upper" and eA is not None:
            eA = triu(eA)
        # A dx = db - dA x
        rhs = (eb if eb is not None else 0) - (dot(eA, x) if eA is not None else 0)
        return [self(A, rhs)]

    def infer_shape(self, fgraph, node, input_shapes):
        a_shape, b_shape = input_shapes
        rows = a_shape[1]
        return [(rows,) if len(b_shape) == 1 else (rows, b_shape[1])]


solve = Solve()
solve_lower_triangular = Solve(A_structure="lower_triangular", lower=True)
solve_upper_triangular = Solve(A_structure="upper_triangular", lower=False)
solve_symmetric = Solve(A_structure="symmetric")


# ---------------------------------------------------------------------- eigenvalues of a pencil


def _is_none_constant(b: Any) -> bool:
    return b is None or (isinstance(b, Constant) and b.data is None)


class Eigvalsh(Op):
    """Eigenvalues (ascending) of the symmetric-definite problem ``a v = w b v``
    (``scipy.linalg.eigvalsh(a, b, lower)``), or of ``a`` alone when ``b`` is None; reads the
    ``lower`` (or upper) triangle of each.  The gradient is :class:`EigvalshGrad`."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        if lower not in (True, False):
            raise ValueError(f"Eigvalsh: lower must be True or False, got {lower!r}")
        self.lower = lower

    def make_node(self, a, b=None):
        a = as_matrix(a, "Eigvalsh")
        if _is_none_constant(b):
            return Apply(self, [a], [TensorType(float_dtype(a.dtype), (False,))()])
        b = as_matrix(b, "Eigvalsh")
        return Apply(self, [a, b], [TensorType(float_dtype(a.dtype, b.dtype), (False,))()])

    def perform(self, node, inputs, out):
        import scipy.linalg
        a, b = inputs if len(inputs) == 2 else (inputs[0], None)
        out[0][0] = scipy.linalg.eigvalsh(a, b, lower=self.lower).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        (gw,) = grads
        if len(inputs) == 1:
            ga, _ = EigvalshGrad(self.lower)(inputs[0], None, gw)
            return [ga]
        return list(EigvalshGrad(self.lower)(inputs[0], inputs[1], gw))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]


def eigvalsh_grad_numpy(a: np.ndarray, b: np.ndarray | None, gw: np.ndarray,
                        lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :class:`EigvalshGrad`."""
    import scipy.linalg
    w, v = scipy.linalg.eigh(a, b, lower=lower)
    ga = (v * gw) @ v.T
    gb = -(v * (gw * w)) @ v.T

    def fold(g):
        return np.tril(g) + np.triu(g, 1).T if lower else np.triu(g) + np.tril(g, -1).T
    return fold(ga), fold(gb)


class EigvalshGrad(Op):
    """The gradient of :class:`Eigvalsh`: with ``(w, v) = eigh(a, b)`` (``v^T b v = I``),
    ``ga = v diag(gw) v^T`` and ``gb = -v diag(gw * w) v^T``, each folded onto the triangle read
    (an entry off the diagonal stands for two entries of the symmetric matrix).  Inputs
    ``(a, b, gw)``; ``b`` may be None (then ``gb`` is for ``b = I`` and unused)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = lower

    def make_node(self, a, b, gw):
        a = as_matrix(a, "EigvalshGrad")
        gw = as_tensor_variable(gw)
        ins = [a] if _is_none_constant(b) else [a, as_matrix(b, "EigvalshGrad")]
        dt = float_dtype(*[v.dtype for v in ins], gw.dtype)
        return Apply(self, ins + [gw], [_matrix(dt), _matrix(dt)])

    def perform(self, node, inputs, out):
        a, b, gw = inputs if len(inputs) == 3 else (inputs[0], None, inputs[1])
        ga, gb = eigvalsh_grad_numpy(a, b, gw, self.lower)
        out[0][0] = ga.astype(node.outputs[0].dtype)
        out[1][0] = gb.astype(node.outputs[1].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0]), tuple(input_shapes[0])]


def eigvalsh(a: Any, b: Any = None, lower: bool = True) -> Variable:
    """Eigenvalues of the symmetric-definite pencil ``(a, b)``, or of ``a`` when ``b`` is None
    (``scipy.linalg.eigvalsh``).

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.slinalg import eigvalsh
    >>> eigvalsh(np.array([[2., 0.], [0., 6.]]), np.array([[1., 0.], [0., 2.]])).eval()
    array([2., 3.])
    """
    return Eigvalsh(lower)(a, b)


# ---------------------------------------------------------------------- Kronecker product


def kron(a: Any, b: Any) -> Variable:
    """The Kronecker product (``scipy.linalg.kron`` for matrices; for other ranks ``a`` and ``b``
    are combined as Theano does: the result has ``a.ndim + b.ndim - 2`` dimensions).

    Raises
    ------
    TypeError
        If the two inputs have fewer than 3 dimensions together.

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor.slinalg import kron
    >>> kron(np.eye(2), np.array([[1., 2.]])).eval()
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim + b.ndim <= 2:
        raise TypeError(f"kron: inputs dimensions must sum to 3 or more. You passed {a.ndim} and "
                        f"{b.ndim}.")
    o = outer(a, b)
    o = reshape(o, concatenate([shape(a), shape(b)]), ndim=a.ndim + b.ndim)
    if o.ndim == 3:
        return o.dimshuffle(1, 0, 2).flatten()
    shf = o.dimshuffle(0, 2, 1, *range(3, o.ndim))
    sh = [shape(o)[d] for d in range(o.ndim)]
    return reshape(shf, tuple([sh[0] * sh[2], sh[1] * sh[3]] + sh[4:]))


# ---------------------------------------------------------------------- matrix exponential


class Expm(Op):
    """The matrix exponential (``scipy.linalg.expm``); the gradient is :class:`ExpmGrad`."""

    __props__ = ()

    def make_node(self, A):
        A = as_matrix(A, "Expm")
        return Apply(self, [A], [_matrix(float_dtype(A.dtype))])

    def perform(self, node, inputs, out):
        import scipy.linalg
        out[0][0] = scipy.linalg.expm(inputs[0]).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        return [ExpmGrad()(inputs[0], grads[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


class ExpmGrad(Op):
    """The gradient of :class:`Expm`: the Frechet derivative of ``expm`` at ``A^T`` in the
    direction of the output gradient, ``L(A^T, G)`` (the adjoint of ``E -> L(A, E)``;
    ``scipy.linalg.expm_frechet``).  Inputs ``(A, G)``."""

    __props__ = ()

    def make_node(self, A, gA):
        A = as_matrix(A, "ExpmGrad")
        gA = as_matrix(gA, "ExpmGrad")
        return Apply(self, [A, gA], [_matrix(float_dtype(A.dtype, gA.dtype))])

    def perform(self, node, inputs, out):
        import scipy.linalg
        A, g = inputs
        res = scipy.linalg.expm_frechet(A.T, g, compute_expm=False)
        out[0][0] = np.asarray(res).astype(node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


expm = Expm()
