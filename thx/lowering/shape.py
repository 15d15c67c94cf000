"""JAX lowering of thx/tensor/shape.py: shapes are computed in NumPy while tracing."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.shape import Flatten, MakeVector, Rebroadcast, Reshape, Shape, SpecifyShape


@register(Shape)
def _shape(op, node):
    return lambda x: np.asarray(np.shape(x), dtype="int64")


@register(MakeVector)
def _make_vector(op, node):
    dtype = np.dtype(op.dtype)

    def impl(*xs):
        if is_concrete(*xs):
            return np.asarray(xs, dtype=dtype).reshape(len(xs))
        return jnp.stack([jnp.asarray(x, dtype=dtype) for x in xs])

    return impl


def shape_tuple(shp: object, what: str) -> tuple[int, ...]:
    """A target shape as a tuple of ints, or a clear error if it is only known at run time."""
    if not is_concrete(shp):
        raise TypeError(f"{what}: the target shape depends on a value only known at run time; "
                        f"thx needs shapes known at compile time (make the input that sets it a "
                        f"static integer input)")
    return tuple(int(s) for s in np.asarray(shp).reshape(-1))


@register(Reshape, static_inputs=(1,))
def _reshape(op, node):
    def impl(x, shp):
        shape = shape_tuple(shp, "reshape")
        xp = np if is_concrete(x) else jnp
        return xp.reshape(x, shape)
    return impl


@register(Flatten)
def _flatten(op, node):
    k = op.outdim

    def impl(x):
        xp = np if is_concrete(x) else jnp
        return xp.reshape(x, tuple(np.shape(x)[: k - 1]) + (-1,))
    return impl


@register(SpecifyShape, static_inputs=(1,))
def _specify_shape(op, node):
    def impl(x, shp):
        want = shape_tuple(shp, "specify_shape")
        if tuple(np.shape(x)) != want:
            raise AssertionError(f"SpecifyShape: got shape {tuple(np.shape(x))}, expected {want}")
        return x
    return impl


@register(Rebroadcast)
def _rebroadcast(op, node):
    def impl(x):
        for a, b in op.axis:
            if b and np.shape(x)[a] != 1:
                raise ValueError(f"Rebroadcast: dimension {a} has length {np.shape(x)[a]}, expected 1")
        return x
    return impl
