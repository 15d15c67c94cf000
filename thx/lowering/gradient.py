"""JAX lowering of the gradient-shaping ops of thx/gradient.py (identities in the forward pass)."""

import jax

from thx.gradient import ConsiderConstant, DisconnectedGrad, GradScale, ZeroGrad, _ViewOp
from thx.lowering.registry import is_concrete, register


@register(_ViewOp)
def _view(op, node):
    return lambda x: x


# thx differentiates graphs itself, but ``jax.grad`` of a lowered graph (the gradient check,
# thx/check.py) must see the same gradient rules: these keep the forward value and change
# what JAX differentiates.
@register(ConsiderConstant, DisconnectedGrad, ZeroGrad)
def _stop_gradient(op, node):
    return lambda x: x if is_concrete(x) else jax.lax.stop_gradient(x)


@register(GradScale)
def _grad_scale(op, node):
    def impl(x):
        if is_concrete(x):
            return x
        frozen = jax.lax.stop_gradient(x)
        return frozen + op.multiplier * (x - frozen)  # the value of x, the derivative scaled
    return impl
