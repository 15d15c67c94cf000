"""Linear-algebra rewrites (Theano's ``inv_as_solve``, ``tag_solve_triangular`` and the
``theano.sandbox.linalg`` rewrites that read the ``psd`` hint).

* ``local_inv_as_solve`` (stabilize): a product with an inverse becomes a solve, more accurate
  and cheaper (one LU and two triangular solves instead of an inverse and a product).
* ``local_psd_solve_with_chol`` (stabilize): ``solve(psd(A), b)`` becomes two triangular solves
  with ``cholesky(A)``.
* ``local_no_transpose_symmetric`` (canonicalize): ``psd(A).T -> psd(A)``.
* ``local_solve_of_cholesky`` (specialize): a general solve whose matrix is a Cholesky factor
  (or its transpose) becomes a triangular solve, as in a Gaussian process's ``solve(L, y)``
  and in the gradient of any solve with a triangular ``A``.
* ``local_det_chol`` (stabilize): ``det(X)`` of a matrix hinted symmetric, where
  ``cholesky(X)`` is computed anyway, becomes ``prod(diag(L)) ** 2``.  (Theano's did it for any
  ``X``; the factor reads one triangle, so for a matrix not known to be symmetric that would
  be a silently wrong determinant.)
* ``local_remove_hint`` (specialize): the hints have been read; ``Hint(x) -> x``.
"""

from __future__ import annotations

from thx.rewriting.engine import local_rewrite
from thx.sandbox.linalg import Hint, is_psd, is_symmetric
from thx.tensor import elemwise as E
from thx.tensor.diagonal import diagonal
from thx.tensor.elemwise import DimShuffle
from thx.tensor.math import Dot, prod
from thx.tensor.nlinalg import Det, MatrixInverse
from thx.tensor.slinalg import Cholesky, Solve

__all__ = ["local_inv_as_solve", "local_psd_solve_with_chol", "local_no_transpose_symmetric",
           "local_solve_of_cholesky", "local_det_chol", "local_remove_hint"]


def _inverted(v):
    """The matrix ``A`` when ``v`` is ``matrix_inverse(A)``, else None."""
    return v.owner.inputs[0] if v.owner is not None and isinstance(v.owner.op, MatrixInverse) else None


@local_rewrite(Dot, phase="stabilize")
def local_inv_as_solve(fgraph, node):  # dot(inv(A), b) -> solve(A, b) ; dot(b, inv(A)) -> solve(A.T, b.T).T
    left, right = node.inputs
    out = node.outputs[0]
    a = _inverted(left)
    if a is not None and right.ndim in (1, 2):
        res = Solve()(a, right)
    else:
        a = _inverted(right)
        if a is None or left.ndim not in (1, 2):
            return None
        res = Solve()(a.T, left.T)
        res = res.T if res.ndim == 2 else res
    if res.dtype != out.dtype or res.broadcastable != out.broadcastable:
        return None
    return [res]


def _cholesky_factor(v):
    """``(L, lower)`` when ``v`` is a Cholesky factor ``L`` (``lower`` its triangle), or the
    transpose of one (the other triangle); else None."""
    transposed = False
    if v.owner is not None and isinstance(v.owner.op, DimShuffle) and v.owner.op.new_order == (1, 0):
        v, transposed = v.owner.inputs[0], True
    if v.owner is None or not isinstance(v.owner.op, Cholesky):
        return None
    return v.owner.op.lower != transposed


@local_rewrite(Solve, phase="specialize")
def local_solve_of_cholesky(fgraph, node):  # solve(cholesky(X), b) -> solve_lower_triangular(cholesky(X), b)
    if node.op.A_structure != "general":
        return None
    lower = _cholesky_factor(node.inputs[0])
    if lower is None:
        return None
    structure = "lower_triangular" if lower else "upper_triangular"
    res = Solve(structure, lower=lower)(*node.inputs)
    return [res] if res.type == node.outputs[0].type else None


@local_rewrite(Solve, phase="stabilize")
def local_psd_solve_with_chol(fgraph, node):  # solve(psd(A), b) -> solve_upper(L.T, solve_lower(L, b)), L = cholesky(A)
    A, b = node.inputs
    if node.op.A_structure not in ("general", "symmetric") or not is_psd(A):
        return None
    L = Cholesky()(A)
    res = Solve("upper_triangular")(L.T, Solve("lower_triangular", lower=True)(L, b))
    return [res] if res.type == node.outputs[0].type else None


@local_rewrite(DimShuffle, phase="canonicalize")
def local_no_transpose_symmetric(fgraph, node):  # psd(A).T -> psd(A)
    x = node.inputs[0]
    if tuple(node.op.new_order) == (1, 0) and is_symmetric(x):
        return [x]
    return None


@local_rewrite(Det, phase="stabilize")
def local_det_chol(fgraph, node):  # det(psd(X)) -> prod(diag(L)) ** 2 when L = cholesky(psd(X)) is computed anyway
    (x,) = node.inputs
    if not is_symmetric(x):
        return None
    for client, _ in fgraph.clients.get(x, ()):
        if client != "output" and isinstance(client.op, Cholesky) and client.op.on_error == "raise":
            res = E.sqr(prod(diagonal(client.outputs[0])))
            return [res] if res.type == node.outputs[0].type else None
    return None


@local_rewrite(Hint, phase="specialize")
def local_remove_hint(fgraph, node):  # Hint(x) -> x
    return [node.inputs[0]]
