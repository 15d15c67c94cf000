"""NanGuardMode's check in JAX: flags reduced inside the jitted function, raised on the host."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from thx.compile.nanguardmode import NanGuard
from thx.lowering.checks import runtime_check
from thx.lowering.registry import register


@register(NanGuard)
def _nan_guard(op: NanGuard, node: Any):
    checks = op.checks(jnp)

    def impl(x):
        for kind, bad in checks:
            runtime_check(bad(x), AssertionError, op.message(kind))
        return x
    return impl
