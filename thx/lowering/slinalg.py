"""JAX lowering of thx/tensor/slinalg.py: ``jax.lax.linalg`` and ``jax.scipy.linalg`` with
SciPy's conventions.

Triangles are read as LAPACK reads them: ``lax.linalg.cholesky(..., symmetrize_input=False)``
uses the lower triangle (the upper factor is the transpose of the lower factor of ``X^T``),
``eigh`` one triangle, ``solve_triangular`` its triangle.  The failures LAPACK reports become
run-time checks (``thx/lowering/checks.py``) on small results: a Cholesky factor that XLA made
all NaN (not positive definite), a zero pivot of an LU factor, a zero on a triangular
matrix's diagonal.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jax import lax

from thx.lowering.checks import runtime_check
from thx.lowering.nlinalg import lu_checked
from thx.lowering.registry import register
from thx.sandbox.linalg import Hint
from thx.tensor.slinalg import (Cholesky, CholeskyGrad, Eigvalsh, EigvalshGrad, Expm, ExpmGrad, Solve,
                                cholesky_grad)


def _dtype(node, i: int = 0) -> np.dtype:
    return np.dtype(node.outputs[i].dtype)


def lower_cholesky(x):
    """The lower Cholesky factor of the symmetric matrix whose lower triangle is ``x``'s."""
    return lax.linalg.cholesky(x, symmetrize_input=False)


@register(Cholesky)
def _cholesky(op, node):
    dt = _dtype(node)

    def impl(x):
        x = jnp.asarray(x, dt)
        out = lower_cholesky(x) if op.lower else lower_cholesky(x.T).T
        # XLA's Cholesky sets the whole factor to NaN when LAPACK reports a failed pivot
        failed = jnp.all(jnp.isnan(jnp.diagonal(out))) & (x.shape[0] > 0)
        if op.on_error == "raise":
            runtime_check(failed, np.linalg.LinAlgError, "Matrix is not positive definite")
            return out
        return jnp.where(failed, jnp.nan, out)  # on_error='nan': all NaN, as Theano's
    return impl


@register(CholeskyGrad)
def _cholesky_grad(op, node):
    dt = _dtype(node)

    def impl(x, l, dz):
        return cholesky_grad(jnp.asarray(l, dt), jnp.asarray(dz, dt), op.lower, jnp, jsl.solve_triangular)
    return impl


@register(Solve)
def _solve(op, node):
    dt = _dtype(node)
    triangle = op.triangle

    def impl(A, b):
        A, b = jnp.asarray(A, dt), jnp.asarray(b, dt)
        if triangle is not None:
            zero = jnp.diagonal(A) == 0
            runtime_check(jnp.any(zero), np.linalg.LinAlgError,
                          "singular matrix: resolution failed at diagonal {}", jnp.argmax(zero))
            return jsl.solve_triangular(A, b, lower=triangle == "lower")
        return jsl.lu_solve(lu_checked(A, "Matrix is singular."), b)
    return impl


def _symmetric(x, lower: bool):
    """The symmetric matrix whose ``lower`` (or upper) triangle is ``x``'s."""
    return jnp.tril(x) + jnp.tril(x, -1).T if lower else jnp.triu(x) + jnp.triu(x, 1).T


def _pencil(a, b, lower: bool):
    """Eigenvalues and ``b``-orthonormal eigenvectors of ``a v = w b v`` (``b`` None: of ``a``),
    through ``b``'s Cholesky factor ``L``: the eigenvectors ``u`` of ``L^-1 a L^-T``, then
    ``v = L^-T u``."""
    if b is None:
        return jnp.linalg.eigh(a, UPLO="L" if lower else "U", symmetrize_input=False)
    l = lower_cholesky(_symmetric(b, lower))
    runtime_check(jnp.all(jnp.isnan(jnp.diagonal(l))) & (b.shape[0] > 0), np.linalg.LinAlgError,
                  "Eigvalsh: the matrix b is not positive definite")
    c = jsl.solve_triangular(l, _symmetric(a, lower), lower=True)
    c = jsl.solve_triangular(l, c.T, lower=True)
    w, u = jnp.linalg.eigh(c)
    return w, jsl.solve_triangular(l, u, lower=True, trans="T")


@register(Eigvalsh)
def _eigvalsh(op, node):
    dt = _dtype(node)

    def impl(a, b=None):
        return _pencil(jnp.asarray(a, dt), None if b is None else jnp.asarray(b, dt), op.lower)[0]
    return impl


@register(EigvalshGrad)
def _eigvalsh_grad(op, node):
    dt = _dtype(node)
    has_b = len(node.inputs) == 3

    def fold(g):
        return jnp.tril(g) + jnp.triu(g, 1).T if op.lower else jnp.triu(g) + jnp.tril(g, -1).T

    def impl(*ins):
        a, b, gw = ins if has_b else (ins[0], None, ins[1])
        w, v = _pencil(jnp.asarray(a, dt), None if b is None else jnp.asarray(b, dt), op.lower)
        gw = jnp.asarray(gw, dt)
        return fold((v * gw) @ v.T), fold(-(v * (gw * w)) @ v.T)
    return impl


@register(Expm)
def _expm(op, node):
    dt = _dtype(node)

    def impl(A):
        return jsl.expm(jnp.asarray(A, dt))
    return impl


@register(ExpmGrad)
def _expm_grad(op, node):
    dt = _dtype(node)

    def impl(A, g):
        return jsl.expm_frechet(jnp.asarray(A, dt).T, jnp.asarray(g, dt), compute_expm=False)
    return impl


@register(Hint)
def _hint(op, node):
    """``thx.sandbox.linalg``'s hints are identities (``local_remove_hint`` drops them; one kept by
    a mode without the specialize phase runs here)."""
    def impl(x):
        return x
    return impl
