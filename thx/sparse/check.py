"""``verify_grad_sparse``: Theano's finite-difference gradient check for functions of sparse
matrices.

``verify_grad`` (``thx/check.py``) perturbs dense arrays.  This wrapper hands it dense stand-ins
for the sparse points and turns them back into sparse matrices inside the checked graph:
the whole matrix (``csr_from_dense``) for a regular gradient, or only the stored values
(``CSM`` with the point's fixed structure) for a structured one, where every perturbation
stays on a stored position.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from thx import gradient
from thx.sparse.basic import CSM, DenseFromSparse, SparseFromDense
from thx.sparse.type import as_sparse_or_tensor_variable, is_sparse_variable, issparse

__all__ = ["verify_grad_sparse"]


def verify_grad_sparse(op: Callable[..., Any], pt: Sequence[Any], structured: bool = False,
                       *args: Any, **kwargs: Any) -> None:
    """Check the gradient of ``op`` at ``pt`` (SciPy matrices and NumPy arrays) by finite
    differences, as Theano's ``theano.sparse.verify_grad_sparse``.

    Parameters
    ----------
    op : callable
        Takes one variable per entry of ``pt`` (sparse for a SciPy matrix) and returns one
        variable, sparse or dense.
    pt : sequence
        The point: csr/csc matrices and arrays.
    structured : bool
        Check a structured gradient: only the stored values of each sparse point vary, and a
        sparse output counts only at its stored positions.  Otherwise every entry varies.
    *args, **kwargs
        Passed on to ``verify_grad`` (``n_tests``, ``rng``, ``eps``, ``abs_tol``, ``rel_tol`` ...).

    Raises
    ------
    verify_grad_sparse.E_grad
        (``GradientError``) when the symbolic and numeric gradients differ.
    NotImplementedError
        ``op`` returns several outputs, or a point has another sparse format.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, thx.sparse as S
    >>> a = sp.csr_matrix(np.array([[0., 2.], [0.5, 0.]]))
    >>> S.verify_grad_sparse(S.structured_exp, [a], structured=True,
    ...                      rng=np.random.RandomState(0))
    """
    dense_pt, to_sparse = [], []
    for p in pt:
        if not issparse(p):
            dense_pt.append(p)
            to_sparse.append(lambda v: v)
            continue
        if p.format not in ("csr", "csc"):
            raise NotImplementedError(f"verify_grad_sparse: no conversion for the {p.format} "
                                      f"format (use csr or csc)")
        if structured:
            dense_pt.append(p.data.copy())
            to_sparse.append(_with_structure(p))
        else:
            # C order: numeric_grad perturbs ``p.reshape(-1)``, a copy for a csc matrix's
            # Fortran-ordered toarray(), which would leave the point unperturbed
            dense_pt.append(np.ascontiguousarray(p.toarray()))
            to_sparse.append(SparseFromDense(p.format))
    output = op(*[as_sparse_or_tensor_variable(p) for p in pt])
    if isinstance(output, (list, tuple)):
        raise NotImplementedError("verify_grad can't deal with multiple outputs")
    to_dense = DenseFromSparse(structured) if is_sparse_variable(output) else (lambda v: v)

    def dense_op(*inputs):
        return to_dense(op(*[conv(v) for conv, v in zip(to_sparse, inputs)]))

    # verify_grad compiles functions, so it lives above thx.compile (thx/check.py); thx/__init__.py
    # publishes it as thx.gradient.verify_grad, Theano's name, which is read at call time here
    gradient.verify_grad(dense_op, dense_pt, *args, **kwargs)  # type: ignore[attr-defined]


def _with_structure(p: Any) -> Callable[[Any], Any]:
    """Stored values -> a sparse matrix with ``p``'s (fixed) format and positions."""
    indices, indptr = p.indices.astype("int32"), p.indptr.astype("int32")
    shape = np.asarray(p.shape, dtype="int32")
    return lambda data: CSM(p.format)(data, indices, indptr, shape)


verify_grad_sparse.E_grad = gradient.GradientError  # type: ignore[attr-defined]
