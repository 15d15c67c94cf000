"""JAX lowering of thx/tensor/fft.py: ``jnp.fft.rfftn``/``irfftn`` over axes ``1..``, complex
values as a trailing (real, imaginary) axis; the sizes are static inputs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import register
from thx.tensor.fft import IRFFTOp, RFFTOp


@register(RFFTOp, static_inputs=(1,))
def _rfft(op, node):
    def impl(a, s):
        sizes = tuple(int(k) for k in np.asarray(s))
        A = jnp.fft.rfftn(a, s=sizes, axes=tuple(range(1, a.ndim)))
        return jnp.stack([A.real, A.imag], axis=-1).astype(a.dtype)
    return impl


@register(IRFFTOp, static_inputs=(1,))
def _irfft(op, node):
    def impl(a, s):
        sizes = tuple(int(k) for k in np.asarray(s))
        res = jnp.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=sizes, axes=tuple(range(1, a.ndim - 1)))
        return (res * np.prod(sizes)).astype(a.dtype)
    return impl
