"""Theano's ``theano.sandbox.linalg``: the linear-algebra ops under their old import path, the
``psd`` hint and ``spectral_radius_bound``.

The ops are those of ``thx.tensor.nlinalg`` and ``thx.tensor.slinalg``.  ``psd(A)`` marks ``A``
as symmetric positive semi-definite with a :class:`Hint` node (an identity); the optimizer reads
it: ``solve(psd(A), b)`` becomes two triangular solves with ``cholesky(A)``
(``local_psd_solve_with_chol``), and a transpose of a symmetric-hinted matrix is dropped
(``local_no_transpose_symmetric``).  Hint nodes are removed in the specialize phase, after the
rewrites that read them; the lowering of one that is left is the identity.
"""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor.diagonal import diag
from thx.tensor.math import dot
from thx.tensor.nlinalg import (alloc_diag, det, eig, eigh, extract_diag, matrix_dot, matrix_inverse,
                                trace)
from thx.tensor.slinalg import cholesky, eigvalsh, solve
from thx.tensor.var import as_tensor_variable

__all__ = ["Hint", "hints", "psd", "is_psd", "is_symmetric", "spectral_radius_bound", "cholesky",
           "matrix_inverse", "solve", "diag", "extract_diag", "alloc_diag", "det", "eig", "eigh",
           "eigvalsh", "trace", "matrix_dot"]


class Hint(Op):
    """An identity carrying facts about its input for the optimizer (``Hint(psd=True)``).

    Its gradient passes through; the rewrites that read hints run in the stabilize phase, and
    ``local_remove_hint`` drops the node in specialize.
    """

    __props__ = ("hints",)

    def __init__(self, **kwargs: Any) -> None:
        self.hints = tuple(sorted(kwargs.items()))

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0]

    def grad(self, inputs, output_grads):
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


def hints(variable: Variable) -> dict[str, Any]:
    """The hints of ``variable`` (the output of a :class:`Hint`), else ``{}``."""
    owner = variable.owner
    return dict(owner.op.hints) if owner is not None and isinstance(owner.op, Hint) else {}


def psd(v: Any) -> Variable:
    """``v`` marked as a symmetric positive semi-definite matrix.

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx.sandbox.linalg import psd, is_psd
    >>> is_psd(psd(T.dmatrix()))
    True
    """
    return Hint(psd=True, symmetric=True)(v)


def is_psd(v: Variable) -> bool:
    """Whether ``v`` carries the ``psd`` hint."""
    return bool(hints(v).get("psd", False))


def is_symmetric(v: Variable) -> bool:
    """Whether ``v`` carries the ``symmetric`` hint."""
    return bool(hints(v).get("symmetric", False))


def spectral_radius_bound(X: Any, log2_exponent: int) -> Variable:
    """An upper bound on the spectral radius of the symmetric matrix ``X``:
    ``trace(X ** (2 ** k)) ** (2 ** -k)`` with ``k = log2_exponent`` (matrix powers by repeated
    squaring), as Theano's.

    Raises
    ------
    TypeError
        If ``X`` is not a matrix.
    ValueError
        If ``log2_exponent`` is not a positive integer.
    """
    X = as_tensor_variable(X)
    if X.ndim != 2:
        raise TypeError("spectral_radius_bound requires a matrix argument", X)
    if not isinstance(log2_exponent, int) or log2_exponent <= 0:
        raise ValueError("spectral_radius_bound requires a strictly positive exponent",
                         log2_exponent)
    XX = X
    for _ in range(log2_exponent):
        XX = dot(XX, XX)
    return trace(XX) ** (2.0 ** (-log2_exponent))
