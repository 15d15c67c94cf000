"""JAX lowering of thx/tensor/nanguard.py: NanGuardMode's checks as run-time flags of the jitted function."""

from __future__ import annotations

import jax.numpy as jnp

from thx.graph.basic import Apply
from thx.lowering.checks import runtime_check
from thx.lowering.registry import register
from thx.tensor.nanguard import NanGuard


@register(NanGuard)
def _nan_guard(op: NanGuard, node: Apply):
    """Each check reduced to a flag inside the jitted function; the host raises ``AssertionError``."""
    checks = op.checks(jnp)

    def impl(x):
        for kind, bad in checks:
            runtime_check(bad(x), AssertionError, op.message(kind))
        return x
    return impl
