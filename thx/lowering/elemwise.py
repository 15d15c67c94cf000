"""JAX lowering of thx/tensor/elemwise.py: resolve each table row's JAX function, apply it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special  # the namespace "jsp.special.*" rows name
from jax import lax
import numpy as np

from thx.lowering.registry import is_concrete, register, small_enough_for_host
from thx.tensor.elemwise import DimShuffle, Elemwise, ScalarOp, check_broadcast

# the namespaces a row's ``jax`` entry is named in ("jnp.exp", "jsp.special.erf", "jax.nn.sigmoid")
JAX_NAMESPACES = SimpleNamespace(jnp=jnp, lax=lax, jsp=jax.scipy, jax=jax)


def jax_function(so: ScalarOp) -> Callable[..., Any]:
    """The JAX function of a table row (n-ary rows fold their binary function over the inputs).

    Examples
    --------
    >>> from thx.tensor.elemwise import SCALAR_OPS
    >>> jax_function(SCALAR_OPS['exp']) is jnp.exp
    True
    >>> float(jax_function(SCALAR_OPS['add'])(1.0, 2.0, 3.0))
    6.0
    """
    spec = so.jax
    if isinstance(spec, str):
        root, *path = spec.split(".")
        fn = getattr(JAX_NAMESPACES, root)
        for part in path:
            fn = getattr(fn, part)
    else:
        fn = spec(JAX_NAMESPACES)
    if so.nin == -1:
        return _folded(fn)
    return fn


def _folded(binary: Callable[..., Any]) -> Callable[..., Any]:
    def fold(*args):
        return functools.reduce(binary, args[1:], args[0])
    return fold


def _input_casts(so, node):
    """Dtypes to cast the inputs to before computing, so the arithmetic happens in the dtype
    Theano (NumPy promotion) uses, not in JAX's narrower one (float32 + int32 is float64)."""
    from thx.tensor.elemwise import bitwise_out, bool_out, float_out, same_out, switch_out
    from thx.tensor.type import upcast
    ins = [i.dtype for i in node.inputs]
    out = node.outputs[0].dtype
    rule = so.out_dtype
    if rule in (same_out, float_out, bitwise_out):
        target = [out] * len(ins)
    elif rule is bool_out and len(ins) > 1:
        target = [upcast(*ins)] * len(ins)
    elif rule is switch_out:
        target = [None, out, out]
    else:
        return None
    casts = [t if t is not None and t != d else None for t, d in zip(target, ins)]
    return casts if any(c is not None for c in casts) else None


def _host_dtypes(node, casts):
    """The dtype each input has in NumPy arithmetic done while tracing: the graph's input dtype,
    cast to the computation's dtype (Theano's upcast: int8 constant + int64 is done in int64, never
    in the constant's int8 as NumPy 2 would do with a Python int)."""
    dts = [i.dtype for i in node.inputs]
    return [c if c is not None else d for c, d in zip(casts or [None] * len(dts), dts)]


@register(Elemwise)
def _elemwise(op, node):
    so = op.scalar_op
    dtype = np.dtype(node.outputs[0].dtype)
    np_fn = so.numpy
    fn = jax_function(so)
    casts = _input_casts(so, node)
    host_dtypes = _host_dtypes(node, casts)

    def impl(*args):
        shapes = [np.shape(a) for a in args]
        check_broadcast(node, shapes)  # shapes are concrete while tracing
        if is_concrete(*args) and small_enough_for_host(np.broadcast_shapes(*shapes)):
            # shape arithmetic: stay in NumPy while tracing, in the graph's dtypes
            return np.asarray(np_fn(*[np.asarray(a, dtype=t) for a, t in zip(args, host_dtypes)]),
                              dtype=dtype)
        if casts is not None:
            args = [a if c is None else jnp.asarray(a).astype(c) for a, c in zip(args, casts)]
        out = fn(*args)
        return out if out.dtype == dtype else out.astype(dtype)

    return impl


@register(DimShuffle)
def _dimshuffle(op, node):
    perm = tuple(op.shuffle + op.drop)
    identity_perm = perm == tuple(range(len(perm)))
    order = op.new_order

    def impl(x):
        xp = np if is_concrete(x) else jnp
        y = x if identity_perm else xp.transpose(x, perm)
        shape = [1 if d == "x" else x.shape[d] for d in order]
        return xp.reshape(y, shape)

    return impl
