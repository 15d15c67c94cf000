"""``local_inline_op_from_graph`` (Theano's ``inline_ofg_expansion``): an
``OpFromGraph{inline=True}`` node is replaced by a copy of its inner graph on the node's
inputs, in the first phase, so every later rewrite sees through it."""

from __future__ import annotations

from thx.graph.basic import clone_replace
from thx.rewriting.engine import local_rewrite
from thx.op_from_graph import OpFromGraph

__all__ = ["local_inline_op_from_graph"]


@local_rewrite(OpFromGraph, phase="canonicalize")
def local_inline_op_from_graph(fgraph, node):  # OpFromGraph{inline=True}(x, y) -> its graph on x, y
    op = node.op
    if not op.is_inline:
        return None
    return clone_replace(op.fgraph.outputs, dict(zip(op.fgraph.inputs, node.inputs)))
