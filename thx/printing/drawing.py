"""What the drawings (``graph_to_dot``/``pydotprint``, ``to_html``) read from a graph.

Toposort, outputs, clients and the shared variables a function updates,
whether the graph was given as a compiled function, a FunctionGraph or
variables.
"""

from __future__ import annotations

from typing import Any

from thx.tensor.sharedvar import SharedVariable
from thx.graph.basic import Apply, Constant, Variable, ancestors, io_toposort

__all__ = ["is_shared"]


def is_shared(v: Variable) -> bool:
    """Is ``v`` a shared variable (drawn cyan)?  The printing package's one use of SharedVariable.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> is_shared(thx.shared(np.zeros(2))), is_shared(T.dvector())
    (True, False)
    """
    return isinstance(v, SharedVariable)


class _Graph:
    """What the drawings need: toposort, outputs, clients and shared updates of a graph."""

    def __init__(self, fct: Any) -> None:
        self.input_update: dict[Variable, Variable] = {}  # update output -> shared input
        self.is_function = hasattr(fct, "maker")
        if self.is_function:
            fg = fct.maker.fgraph
            self.outputs = list(fg.outputs)
            self.topo = fg.toposort()
            self.inputs = list(fg.inputs)
            self._function_updates(fct.maker, fg)
        elif hasattr(fct, "outputs") and hasattr(fct, "toposort"):
            self.outputs = list(fct.outputs)
            self.topo = fct.toposort()
            self.inputs = list(fct.inputs)
        else:
            if isinstance(fct, Variable):
                fct = [fct]
            elif isinstance(fct, Apply):
                fct = fct.outputs
            if not isinstance(fct, (list, tuple)) or not all(isinstance(v, Variable) for v in fct):
                raise TypeError(f"expected a compiled function, a FunctionGraph, a Variable, an "
                                f"Apply or a list of Variables, got {type(fct).__name__}")
            self.outputs = list(fct)
            self.topo = io_toposort([], self.outputs)
            self.inputs = [v for v in ancestors(self.outputs)
                           if v.owner is None and not isinstance(v, Constant)]
        self.position = {n: i for i, n in enumerate(self.topo)}
        self.clients: dict[Variable, list] = {}
        for node in self.topo:
            for k, v in enumerate(node.inputs):
                self.clients.setdefault(v, []).append((node, k))
        for k, v in enumerate(self.outputs):
            self.clients.setdefault(v, []).append(("output", k))

    def _function_updates(self, maker: Any, fg: Any) -> None:
        n_out = getattr(maker, "n_outputs", None)
        if n_out is None:
            return
        explicit = len(getattr(maker, "inputs", ()))
        shared = list(getattr(maker, "shared_vars", ()))
        outs = fg.outputs
        k = n_out
        for var, _ in getattr(maker, "updates", ()):
            if k < len(outs) and var in shared and explicit + shared.index(var) < len(fg.inputs):
                self.input_update[outs[k]] = fg.inputs[explicit + shared.index(var)]
            k += 1
        for pos in getattr(maker, "in_update_pos", ()):
            if k < len(outs) and pos < len(fg.inputs):
                self.input_update[outs[k]] = fg.inputs[pos]
            k += 1


def _truncate(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(n - 3, 0)] + "..."
