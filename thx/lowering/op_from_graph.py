"""JAX lowering of thx/op_from_graph.py: an ``OpFromGraph{inline=False}`` node runs its inner
graph, optimized once with the default mode, traced into the same ``jax.jit`` program as the
graph around it (so XLA fuses across the boundary even though thx's rewrites do not).

Inner inputs that set a shape while tracing (``static_argnums``) are static inputs of the node.
An inner graph that needs the host between jitted segments (an ``until`` scan, a data-sized op,
a Python op) cannot be traced: compiling raises ``NotImplementedError`` naming the op and
suggesting ``inline=True``, which puts the inner graph into the outer one.
"""

from __future__ import annotations

from collections.abc import Callable

from thx.config import config
from thx.graph.fg import FunctionGraph
from thx.lowering.program import build_closure, static_argnums
from thx.lowering.registry import register, runs_on_host
from thx.op_from_graph import OpFromGraph
from thx.rewriting import optimize
from thx.rewriting.mode import get_mode


def inner_program(op: OpFromGraph) -> tuple[Callable[..., tuple], tuple[int, ...]]:
    """The inner graph as a closure and its static input positions (built once per op)."""
    cache = op.__dict__.setdefault("_jax_inner", {})
    key = (config.mode, config.check_index)
    if key not in cache:
        fg: FunctionGraph = op.fgraph.clone()
        optimize(fg, get_mode(None))
        host = [n.op for n in fg.toposort() if runs_on_host(n.op)]
        if host:
            raise NotImplementedError(
                f"{op}: its inner graph has {host[0]}, which runs on the host between jitted "
                f"segments; an OpFromGraph with inline=False is traced as one piece. Build it "
                f"with inline=True to put its graph into the function's")
        cache[key] = (build_closure(fg), static_argnums(fg))
    return cache[key]


@register(OpFromGraph, static_inputs=lambda node: inner_program(node.op)[1])
def _op_from_graph(op, node):
    run, _ = inner_program(op)

    def impl(*args):
        outs = run(*args)
        return outs[0] if len(outs) == 1 else outs
    return impl
