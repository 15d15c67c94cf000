"""Linear-algebra rewrites (Theano's ``inv_as_solve`` and ``tag_solve_triangular``).

* ``local_inv_as_solve`` (stabilize): a product with an inverse becomes a solve, more accurate
  and cheaper (one LU and two triangular solves instead of an inverse and a product).
* ``local_solve_of_cholesky`` (specialize): a general solve whose matrix is a Cholesky factor
  (or its transpose) becomes a triangular solve, as in a Gaussian process's ``solve(L, y)``
  and in the gradient of any solve with a triangular ``A``.
"""

from __future__ import annotations

from thx.rewriting.engine import local_rewrite
from thx.tensor.elemwise import DimShuffle
from thx.tensor.math import Dot
from thx.tensor.nlinalg import MatrixInverse
from thx.tensor.slinalg import Cholesky, Solve

__all__ = ["local_inv_as_solve", "local_solve_of_cholesky"]


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
