"""JAX lowering of thx/tensor/basic.py: shapes are computed in NumPy while tracing."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import as_int, is_concrete, register
from thx.tensor.basic import (Alloc, ARange, Eye, Flatten, Join, MakeVector, Rebroadcast, Reshape,
                              Shape, SpecifyShape, Split)


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


def _shape_tuple(shp, what):
    if not is_concrete(shp):
        raise TypeError(f"{what}: the target shape depends on a value only known at run time; "
                        f"thx needs shapes known at compile time (make the input that sets it a "
                        f"static integer input)")
    return tuple(int(s) for s in np.asarray(shp).reshape(-1))


@register(Reshape, static_inputs=(1,))
def _reshape(op, node):
    def impl(x, shp):
        shape = _shape_tuple(shp, "reshape")
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
        want = _shape_tuple(shp, "specify_shape")
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


@register(Alloc, static_inputs=lambda node: tuple(range(1, len(node.inputs))))
def _alloc(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(v, *shape):
        sh = tuple(as_int(s, "alloc shape") for s in shape)
        if is_concrete(v):
            return np.broadcast_to(np.asarray(v, dtype=dtype), sh)
        return jnp.broadcast_to(v, sh)
    return impl


@register(ARange, static_inputs=(0, 1, 2))
def _arange(op, node):
    dtype = np.dtype(op.dtype)

    def impl(start, stop, step):
        s0, s1, st = (np.asarray(v)[()] if is_concrete(v) else None for v in (start, stop, step))
        if s0 is None or s1 is None or st is None:
            raise TypeError("arange: start, stop and step must be known at compile time "
                            "(they set the output's length)")
        return np.arange(s0, s1, st, dtype=dtype)
    return impl


@register(Eye, static_inputs=(0, 1, 2))
def _eye(op, node):
    def impl(n, m, k):
        return np.eye(as_int(n, "eye n"), as_int(m, "eye m"), as_int(k, "eye k"), dtype=op.dtype)
    return impl


@register(Join)
def _join(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(*xs):
        if is_concrete(*xs):
            return np.concatenate(xs, axis=op.axis).astype(dtype)
        # empty pieces add nothing; XLA (jaxlib 0.10) aborts on a slice of a concatenate
        # holding an empty operand, e.g. the rows of a scan that ran no step
        kept = [x for x in xs if np.shape(x)[op.axis] != 0] or list(xs[:1])
        return jnp.concatenate([jnp.asarray(x, dtype=dtype) for x in kept], axis=op.axis)
    return impl


@register(Split, static_inputs=(1,))
def _split(op, node):
    def impl(x, splits):
        sizes = _shape_tuple(splits, "split")
        if sum(sizes) != np.shape(x)[op.axis]:
            raise ValueError(f"Split: sizes {list(sizes)} do not add up to {np.shape(x)[op.axis]}")
        idx = np.cumsum(sizes)[:-1].tolist()
        return tuple(jnp.split(x, idx, axis=op.axis))
    return impl
