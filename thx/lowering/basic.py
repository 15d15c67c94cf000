"""JAX lowering of thx/tensor/basic.py (alloc, arange, eye, join/split): sizes are NumPy while tracing."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import as_int, is_concrete, register, small_enough_for_host
from thx.lowering.shape import shape_tuple
from thx.tensor.basic import Alloc, ARange, Eye, Join, Split
from thx.tensor.intform import constant_difference, linear_form


@register(Alloc, static_inputs=lambda node: tuple(range(1, len(node.inputs))))
def _alloc(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(v, *shape):
        sh = tuple(as_int(s, "alloc shape") for s in shape)
        if is_concrete(v) and small_enough_for_host(sh):
            return np.broadcast_to(np.asarray(v, dtype=dtype), sh)
        return jnp.broadcast_to(v, sh)
    return impl


def _arange_length(node) -> int | None:
    """The length of ``arange(start, stop, step)`` when the graph fixes it (``arange(i, i + 5)``:
    an integer step and a constant ``stop - start``), else None."""
    if any(np.dtype(v.dtype).kind not in "iu" for v in node.inputs):
        return None
    step_terms, step = linear_form(node.inputs[2])
    diff = constant_difference(node.inputs[1], node.inputs[0])
    if step_terms or diff is None or step == 0:
        return None
    return max(0, -(-diff // step))


@register(ARange, static_inputs=lambda node: () if _arange_length(node) is not None else (0, 1, 2))
def _arange(op, node):
    dtype = np.dtype(op.dtype)
    length = _arange_length(node)

    def impl(start, stop, step):
        if length is not None and not is_concrete(start, stop, step):  # a traced start
            # NumPy takes the length from stop - start in the bounds' dtype, which wraps back to the
            # constant difference even where a bound wrapped around: the same length, no check
            return (jnp.asarray(start).astype(dtype)
                    + jnp.asarray(step).astype(dtype) * jnp.arange(length, dtype=dtype))
        s0, s1, st = (np.asarray(v)[()] if is_concrete(v) else None for v in (start, stop, step))
        if s0 is None or s1 is None or st is None:
            raise TypeError("arange: start, stop and step must be known at compile time "
                            "(they set the output's length)")
        return np.arange(s0, s1, st, dtype=dtype)
    return impl


@register(Eye, static_inputs=(0, 1, 2))
def _eye(op, node):
    def impl(n, m, k):
        n, m, k = as_int(n, "eye n"), as_int(m, "eye m"), as_int(k, "eye k")
        if small_enough_for_host((n, m)):
            return np.eye(n, m, k, dtype=op.dtype)
        return jnp.eye(n, m, k, dtype=op.dtype)  # staged (iota and compare), not a large literal
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
        sizes = shape_tuple(splits, "split")
        if sum(sizes) != np.shape(x)[op.axis]:
            raise ValueError(f"Split: sizes {list(sizes)} do not add up to {np.shape(x)[op.axis]}")
        idx = np.cumsum(sizes)[:-1].tolist()
        return tuple(jnp.split(x, idx, axis=op.axis))
    return impl
