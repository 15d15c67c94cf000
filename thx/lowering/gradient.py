"""JAX lowering of the gradient-shaping ops of thx/gradient.py (identities in the forward pass)."""

from thx.gradient import _ViewOp
from thx.lowering.registry import register


@register(_ViewOp)
def _view(op, node):
    return lambda x: x
