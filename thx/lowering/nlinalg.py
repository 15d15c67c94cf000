"""JAX lowering of thx/tensor/nlinalg.py: ``jnp.linalg`` with NumPy's conventions.

Conventions kept from NumPy: ``pinv``'s cutoff ``1e-15`` (``rtol``; JAX's default is larger),
``eigh`` reading one triangle (``symmetrize_input=False``), ``eig``'s real parts, and
``LinAlgError: Singular matrix`` exactly when LAPACK's ``gesv`` reports one: a zero pivot of the
LU factorization (a run-time check on the factor's diagonal, ``lu_checked``; a NaN in the input
gives NaNs, as in NumPy).  The checks read only small results (a diagonal): a check that read
the input made XLA fuse the input's computation into a second kernel, 0.1 s of compile each.  ``lstsq`` has no lowering: its
residuals' length depends on the rank, so it runs its ``perform`` on the host
(``thx/lowering/perform.py``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import jax.scipy.linalg as jsl

from thx.lowering.checks import runtime_check
from thx.lowering.registry import register
from thx.tensor.nlinalg import (Det, Eig, Eigh, EighGrad, MatrixInverse, MatrixPinv, QRFull,
                                QRIncomplete, SVD, eigh_grad)


def _dtype(node, i: int = 0) -> np.dtype:
    return np.dtype(node.outputs[i].dtype)


def lu_checked(a, message: str):
    """``a``'s LU factorization (``jax.scipy.linalg.lu_factor``), with a run-time check raising
    ``numpy.linalg.LinAlgError(message)`` for a zero pivot (LAPACK's ``info > 0``)."""
    lu, piv = jsl.lu_factor(a)
    runtime_check(jnp.any(jnp.diagonal(lu) == 0), np.linalg.LinAlgError, message)
    return lu, piv


@register(MatrixInverse)
def _matrix_inverse(op, node):
    dt = _dtype(node)

    def impl(x):
        x = jnp.asarray(x, dt)
        return jsl.lu_solve(lu_checked(x, "Singular matrix"), jnp.eye(x.shape[0], dtype=dt))
    return impl


@register(MatrixPinv)
def _matrix_pinv(op, node):
    dt = _dtype(node)

    def impl(x):
        return jnp.linalg.pinv(jnp.asarray(x, dt), rtol=1e-15, hermitian=op.hermitian)
    return impl


@register(Det)
def _det(op, node):
    dt = _dtype(node)

    def impl(x):
        return jnp.linalg.det(jnp.asarray(x, dt))
    return impl


@register(Eig)
def _eig(op, node):
    dt = _dtype(node)

    def impl(x):
        w, v = jnp.linalg.eig(jnp.asarray(x, dt))
        return jnp.real(w).astype(dt), jnp.real(v).astype(dt)
    return impl


@register(Eigh)
def _eigh(op, node):
    dt = _dtype(node)

    def impl(x):
        w, v = jnp.linalg.eigh(jnp.asarray(x, dt), UPLO=op.UPLO, symmetrize_input=False)
        return w, v
    return impl


@register(EighGrad)
def _eigh_grad(op, node):
    dt = _dtype(node)

    def impl(x, w, v, gw, gv):
        return eigh_grad(*(jnp.asarray(t, dt) for t in (w, v, gw, gv)), op.UPLO, xp=jnp)
    return impl


@register(QRFull)
def _qr_full(op, node):
    dt = _dtype(node)
    mode = "reduced" if op.mode == "full" else op.mode

    def impl(x):
        q, r = jnp.linalg.qr(jnp.asarray(x, dt), mode)
        return q, r
    return impl


@register(QRIncomplete)
def _qr_incomplete(op, node):
    dt = _dtype(node)

    def impl(x):
        return jnp.linalg.qr(jnp.asarray(x, dt), "r")
    return impl


@register(SVD)
def _svd(op, node):
    dt = _dtype(node)

    def impl(x):
        res = jnp.linalg.svd(jnp.asarray(x, dt), full_matrices=op.full_matrices,
                             compute_uv=op.compute_uv)
        return tuple(res) if op.compute_uv else res
    return impl
