"""JAX lowering of thx/tensor/fft.py: the ops' ``rfft_array``/``irfft_array`` on ``jax.numpy``
(``jnp.fft.rfftn``/``irfftn``); the transform sizes are static inputs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import register
from thx.tensor.fft import IRFFTOp, RFFTOp, irfft_array, rfft_array


def _sizes(s) -> tuple[int, ...]:
    return tuple(int(k) for k in np.asarray(s))


@register(RFFTOp, static_inputs=(1,))
def _rfft(op, node):
    def impl(a, s):
        return rfft_array(a, _sizes(s), jnp)
    return impl


@register(IRFFTOp, static_inputs=(1,))
def _irfft(op, node):
    def impl(a, s):
        return irfft_array(a, _sizes(s), jnp)
    return impl
