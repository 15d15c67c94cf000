"""JAX lowering of thx/tensor/signal/pool.py: ``lax.reduce_window`` forward, strided slices for the gradients."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from thx.lowering.registry import register
from thx.tensor.signal.pool import (AveragePoolGrad, DownsampleFactorMaxGradGrad, MaxPoolGrad, Pool,
                                    PoolBase)


class _Geometry:
    """Shapes of one pooling for concrete input shape: padded extents, window offsets, counts."""

    def __init__(self, op: PoolBase, shape: tuple[int, ...]) -> None:
        nd = op.ndim
        self.lead = len(shape) - nd
        self.spatial = shape[-nd:]
        self.out = [int(o) for o in op.out_spatial(self.spatial)]
        self.ws, self.stride = op.ws, op.stride
        # padded length: the image plus its pads, extended so that a partial last window fits
        self.lengths = [max(n + 2 * p, (o - 1) * s + w) for n, o, s, w, p
                        in zip(self.spatial, self.out, op.stride, op.ws, op.pad)]
        self.pads = [(p, L - n - p) for n, p, L in zip(self.spatial, op.pad, self.lengths)]
        self.empty = min(self.out, default=1) == 0
        self.op = op

    def pad(self, x, fill):
        cfg = [(0, 0, 0)] * self.lead + [(lo, hi, 0) for lo, hi in self.pads]
        return lax.pad(x, jnp.asarray(fill, x.dtype), cfg)

    def crop(self, xp):
        start = (0,) * self.lead + tuple(lo for lo, _ in self.pads)
        limit = xp.shape[:self.lead] + tuple(lo + n for (lo, _), n in zip(self.pads, self.spatial))
        return lax.slice(xp, start, limit)

    def offsets(self):
        return np.ndindex(*self.ws)

    def window_slice(self, xp, off):
        """The input element at offset ``off`` of every window: an array shaped like the output."""
        start = (0,) * self.lead + tuple(off)
        limit = xp.shape[:self.lead] + tuple(a + (o - 1) * s + 1 for a, o, s in zip(off, self.out, self.stride))
        return lax.slice(xp, start, limit, (1,) * self.lead + tuple(self.stride))

    def scatter(self, values, off):
        """The transpose of :meth:`window_slice`: ``values`` placed back in a padded-input array."""
        cfg = [(0, 0, 0)] * self.lead + [(a, L - a - (o - 1) * s - 1, s - 1) for a, L, o, s
                                         in zip(off, self.lengths, self.out, self.stride)]
        return lax.pad(values, jnp.asarray(0, values.dtype), cfg)

    def sum_over_offsets(self, part, scatter: bool):
        """``sum(part(off))`` over the window offsets, each scattered back first when ``scatter``."""
        total = None
        for off in self.offsets():
            p = self.scatter(part(off), off) if scatter else part(off)
            total = p if total is None else total + p
        return total

    @property
    def tiled(self) -> bool:
        """Windows that tile the input (stride == ws): the gradients need no scatter."""
        return self.stride == self.ws

    def to_blocks(self, xp):
        """Padded input -> ``lead + (o1, w1, o2, w2, ...)`` blocks (tiled windows only)."""
        limit = xp.shape[:self.lead] + tuple(o * w for o, w in zip(self.out, self.ws))
        xc = lax.slice(xp, (0,) * xp.ndim, limit)
        return xc.reshape(xp.shape[:self.lead] + tuple(d for ow in zip(self.out, self.ws) for d in ow))

    def per_block(self, v):
        """An output-shaped array broadcast against :meth:`to_blocks` (a size-1 axis after each window axis)."""
        return v.reshape(v.shape[:self.lead] + tuple(d for o in self.out for d in (o, 1)))

    def from_blocks(self, b):
        """The inverse of :meth:`to_blocks`, zero-filled to the padded extent."""
        flat = b.reshape(b.shape[:self.lead] + tuple(o * w for o, w in zip(self.out, self.ws)))
        cfg = [(0, 0, 0)] * self.lead + [(0, L - o * w, 0) for L, o, w in zip(self.lengths, self.out, self.ws)]
        return lax.pad(flat, jnp.asarray(0, flat.dtype), cfg)

    def counts(self, with_pad: bool) -> np.ndarray:
        """Number of pixels averaged by each window (Theano's clipping rules)."""
        c = np.ones((), dtype="float64")
        for axis in self.op.windows(self.spatial, with_pad):
            c = np.multiply.outer(c, np.array([e - s for s, e in axis], dtype="float64"))
        return c


def _lowest(dtype):
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


@register(Pool)
def _pool(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x):
        x = jnp.asarray(x)
        g = _Geometry(op, x.shape)
        if g.empty:
            return jnp.zeros(x.shape[:g.lead] + tuple(g.out), dtype)
        dims, strides = (1,) * g.lead + op.ws, (1,) * g.lead + op.stride
        padding = [(0, 0)] * g.lead + list(g.pads)
        if op.mode == "max":
            return lax.reduce_window(x, jnp.asarray(_lowest(dtype), dtype), lax.max, dims, strides, padding)
        y = lax.reduce_window(x, jnp.asarray(0, dtype), lax.add, dims, strides, padding)
        if op.mode == "sum":
            return y
        return (y / g.counts(op.mode == "average_inc_pad")).astype(dtype)

    return impl


@register(MaxPoolGrad)
def _max_pool_grad(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x, maxout, gz):
        x, gz = jnp.asarray(x), jnp.asarray(gz, dtype)
        g = _Geometry(op, x.shape)
        if g.empty:
            return jnp.zeros(x.shape, dtype)
        xp = g.pad(x, _lowest(x.dtype))
        zero = jnp.zeros((), dtype)
        if g.tiled:  # one elementwise pass over the blocks
            hit = g.to_blocks(xp) == g.per_block(jnp.asarray(maxout))
            return g.crop(g.from_blocks(jnp.where(hit, g.per_block(gz), zero)))
        return g.crop(g.sum_over_offsets(
            lambda off: jnp.where(g.window_slice(xp, off) == maxout, gz, zero), scatter=True))

    return impl


@register(AveragePoolGrad)
def _average_pool_grad(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x, gz):
        gz = jnp.asarray(gz, dtype)
        g = _Geometry(op, np.shape(x))
        if g.empty:
            return jnp.zeros(np.shape(x), dtype)
        if op.mode != "sum":
            gz = gz / g.counts(op.mode == "average_inc_pad").astype(dtype)
        total = g.sum_over_offsets(lambda off: gz, scatter=True)
        # a window clipped to the real pixels (average_exc_pad) gives nothing to the padding: the crop drops it
        return g.crop(total)

    return impl


@register(DownsampleFactorMaxGradGrad)
def _max_pool_grad_grad(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x, maxout, ggx):
        x, ggx = jnp.asarray(x), jnp.asarray(ggx, dtype)
        g = _Geometry(op, x.shape)
        if g.empty:
            return jnp.zeros(np.shape(maxout), dtype)
        xp, gp = g.pad(x, _lowest(x.dtype)), g.pad(ggx, 0)
        zero = jnp.zeros((), dtype)
        if g.tiled:
            hit = g.to_blocks(xp) == g.per_block(jnp.asarray(maxout))
            window_axes = tuple(g.lead + 2 * i + 1 for i in range(op.ndim))
            return jnp.where(hit, g.to_blocks(gp), zero).sum(axis=window_axes)
        return g.sum_over_offsets(
            lambda off: jnp.where(g.window_slice(xp, off) == maxout, g.window_slice(gp, off), zero),
            scatter=False)

    return impl
