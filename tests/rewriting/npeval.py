"""A small NumPy evaluator of graphs (each op's ``perform``), much faster than compiling with JAX."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Variable, io_toposort
from thx.graph.fg import FunctionGraph
from thx.rewriting import optimize


def evaluate(outputs: Sequence[Variable], givens: dict[Variable, Any]) -> list[np.ndarray]:
    """Values of ``outputs`` given values of the root variables, computed by the ops' ``perform``."""
    env: dict[Variable, Any] = {k: np.asarray(v, dtype=k.dtype) for k, v in givens.items()}
    for node in io_toposort(list(givens), outputs):
        ins = [env[i] if i in env else np.asarray(i.data) for i in node.inputs]
        storage: list[list[Any]] = [[None] for _ in node.outputs]
        with np.errstate(all="ignore"):
            node.op.perform(node, ins, storage)
        for o, (val,) in zip(node.outputs, storage):
            env[o] = val
    return [env[o] if o in env else np.asarray(o.data) for o in outputs]


def optimized(inputs: Sequence[Variable], outputs: Sequence[Variable], mode: Any = "FAST_RUN",
              on_error: str = "raise") -> FunctionGraph:
    """A FunctionGraph of ``outputs`` rewritten by ``mode`` (errors in rewrites raise).

    ``fg.applied`` holds how many times each rewrite applied.
    """
    fg = FunctionGraph(list(inputs), list(outputs))
    fg.applied = optimize(fg, mode, on_error=on_error)
    return fg


def check_same(inputs: Sequence[Variable], outputs: Sequence[Variable], values: Sequence[Any],
               mode: Any = "FAST_RUN", rtol: float = 1e-7, atol: float = 1e-12) -> FunctionGraph:
    """Optimize, then assert the rewritten graph computes what the original does; return it."""
    fg = optimized(inputs, outputs, mode)
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for w, g, o in zip(want, got, outputs):
        w, g = np.asarray(w), np.asarray(g)
        assert g.dtype == w.dtype, (o, g.dtype, w.dtype)
        assert g.shape == w.shape, (o, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    return fg
