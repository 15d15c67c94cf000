"""JAX lowering of thx/tensor/elemwise.py: one jnp function per table row."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.elemwise import DimShuffle, Elemwise, check_broadcast


def _round_half_away(x):
    return jnp.sign(x) * jnp.floor(jnp.abs(x) + 0.5)


def _second(a, b):
    return jnp.broadcast_to(b, jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b)))


# name -> jnp implementation (same keys as SCALAR_OPS)
JAX_SCALAR: dict[str, object] = {
    "add": lambda *a: _sum(a), "sub": jnp.subtract, "mul": lambda *a: _prod(a),
    "true_div": jnp.true_divide, "int_div": jnp.floor_divide, "mod": jnp.mod, "pow": jnp.power,
    "neg": jnp.negative, "abs": jnp.abs, "sgn": jnp.sign, "sqr": jnp.square, "sqrt": jnp.sqrt,
    "exp": jnp.exp, "exp2": jnp.exp2, "expm1": jnp.expm1, "log": jnp.log, "log2": jnp.log2,
    "log10": jnp.log10, "log1p": jnp.log1p, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan, "arctan2": jnp.arctan2,
    "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh, "arcsinh": jnp.arcsinh,
    "arccosh": jnp.arccosh, "arctanh": jnp.arctanh, "erf": jax.scipy.special.erf,
    "erfc": jax.scipy.special.erfc, "floor": jnp.floor, "ceil": jnp.ceil, "trunc": jnp.trunc,
    "round_half_to_even": jnp.round, "round_half_away_from_zero": _round_half_away,
    "sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus, "maximum": jnp.maximum,
    "minimum": jnp.minimum, "clip": lambda x, lo, hi: jnp.minimum(jnp.maximum(x, lo), hi),
    "switch": jnp.where, "second": _second, "identity": lambda x: x, "lt": jnp.less,
    "gt": jnp.greater, "le": jnp.less_equal, "ge": jnp.greater_equal, "eq": jnp.equal,
    "neq": jnp.not_equal, "isnan": jnp.isnan, "isinf": jnp.isinf, "and_": jnp.bitwise_and,
    "or_": jnp.bitwise_or, "xor": jnp.bitwise_xor, "invert": jnp.invert,
    # thx/tensor/xlogx.py
    "xlogx": lambda x: jnp.where(x == 0, 0, x * jnp.log(jnp.where(x == 0, 1, x))).astype(x.dtype),
    "xlogy0": lambda x, y: jnp.where(x == 0, 0, x * jnp.log(jnp.where(x == 0, 1, y))),
}


def _sum(a):
    out = a[0]
    for x in a[1:]:
        out = out + x
    return out


def _prod(a):
    out = a[0]
    for x in a[1:]:
        out = out * x
    return out


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


@register(Elemwise)
def _elemwise(op, node):
    so = op.scalar_op
    dtype = np.dtype(node.outputs[0].dtype)
    np_fn = so.numpy
    if so.name == "Cast":
        def cast(x):
            if is_concrete(x):
                return np.asarray(x).astype(dtype)
            return jnp.asarray(x).astype(dtype)
        return cast
    fn = JAX_SCALAR[so.name]
    casts = _input_casts(so, node)

    def impl(*args):
        check_broadcast(node, [np.shape(a) for a in args])  # shapes are concrete while tracing
        if is_concrete(*args):  # shape arithmetic: stay in NumPy while tracing
            return np.asarray(np_fn(*args), dtype=dtype)
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
