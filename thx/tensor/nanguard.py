"""The NanGuard op: the identity, checking its input for NaN / Inf / big values (NanGuardMode).

``thx/compile/nanguardmode.py`` puts one after every input and node output of
a NanGuardMode function; the JAX lowering (``thx/lowering/nanguard.py``)
reduces the checks to flags inside the jitted function, raised on the host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op

__all__ = ["NanGuard", "BIG"]

BIG = 1e10  # Theano's threshold for a "big" value


class NanGuard(Op):
    """Identity that checks its input for NaN / Inf / big values; ``where`` names the value."""

    __props__ = ("nan", "inf", "big", "where")

    def __init__(self, nan: bool, inf: bool, big: bool, where: str) -> None:
        self.nan, self.inf, self.big, self.where = nan, inf, big, where

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x = np.asarray(inputs[0])
        for kind, bad in self.checks(np):
            if bad(x):
                raise AssertionError(self.message(kind))
        output_storage[0][0] = x

    def checks(self, xp: Any) -> list[tuple[str, Any]]:
        """``(kind, value -> bool)`` for the checks asked, with the array module ``xp``."""
        out = []
        if self.nan:
            out.append(("NaN", lambda x: xp.any(xp.isnan(x))))
        if self.inf:
            out.append(("Inf", lambda x: xp.any(xp.isinf(x))))
        if self.big:
            out.append(("big value (abs > 1e10)",
                        lambda x: xp.any(xp.where(xp.isfinite(x), xp.abs(x), 0) > BIG)))
        return out

    def message(self, kind: str) -> str:
        return f"NanGuardMode: {kind} in {self.where}"

    def __str__(self) -> str:
        return "NanGuard"
