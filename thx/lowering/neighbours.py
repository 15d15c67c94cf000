"""JAX lowering of thx/tensor/nnet/neighbours.py: ``Images2Neibs`` is one gather at positions
fixed while tracing (``neib_positions``, NumPy), ``Neibs2Images`` the scatter-add at the same
positions.  The patch shape, step and image shape are static inputs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import register
from thx.tensor.nnet.neighbours import Images2Neibs, Neibs2Images, images2neibs_array, neib_positions


def _ints(v) -> tuple[int, ...]:
    return tuple(int(k) for k in np.asarray(v).ravel())


@register(Images2Neibs, static_inputs=(1, 2))
def _images2neibs(op, node):
    def impl(x, neib_shape, neib_step):
        return images2neibs_array(x, op.mode, neib_shape, neib_step, jnp)
    return impl


@register(Neibs2Images, static_inputs=(1, 2, 3))
def _neibs2images(op, node):
    def impl(z, neib_shape, neib_step, original_shape):
        n, s, h, w = _ints(original_shape)
        rows, cols, pad = neib_positions(op.mode, (h, w), _ints(neib_shape), _ints(neib_step))
        expected = (n * s * rows.shape[0] * cols.shape[0], rows.shape[1] * cols.shape[1])
        if tuple(z.shape) != expected:
            raise ValueError(f"neibs2images: neibs of shape {tuple(z.shape)} do not hold the patches "
                             f"of an image of shape {(n, s, h, w)} (expected {expected})")
        z6 = z.reshape(n, s, rows.shape[0], cols.shape[0], rows.shape[1], cols.shape[1])
        out = jnp.zeros((n, s, h + 2 * pad[0], w + 2 * pad[1]), z.dtype)
        out = out.at[:, :, rows[:, None, :, None], cols[None, :, None, :]].add(z6)
        return out[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w]
    return impl
