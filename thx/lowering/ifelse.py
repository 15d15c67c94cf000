"""JAX lowering of thx/ifelse.py: ``IfElse`` -> ``jax.lax.cond``, with lazy branches.

In the graph, an ``IfElse`` node takes already-computed branch values.  To
make it lazy, a lowering pass (registered in ``registry.LOWERING_PASSES``,
run by ``program.plan`` on every graph it lowers) moves the nodes that only one
branch needs into that branch: each ``IfElse`` becomes a ``BranchIfElse``
node holding one small FunctionGraph per branch, whose inputs (the
*frontier*) are the values computed outside.  Its implementation calls the
two branch closures inside ``jax.lax.cond``, so XLA runs only the taken
branch's work.  Work needed elsewhere too (by the condition, the other
branch, another output or an update) stays outside and runs once.  Nested
ifelses are handled when the inner graphs are lowered in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from thx.graph.basic import Apply, Constant, Variable, clone_replace, io_toposort
from thx.graph.fg import FunctionGraph
from thx.graph.op import Op
from thx.ifelse import IfElse
from thx.lowering.checks import collecting, emit_status
from thx.lowering.program import build_closure
from thx.lowering.registry import LOWERING_PASSES, is_concrete, register


class BranchIfElse(Op):
    """``IfElse`` with each branch's exclusive work inside it (lowering only).

    Inputs are ``[condition] + frontier``; ``then_fgraph`` and
    ``else_fgraph`` both take the frontier as inputs and compute their
    branch's ``n_outs`` values.
    """

    __props__ = ("n_outs", "then_fgraph", "else_fgraph")

    def __init__(self, n_outs: int, then_fgraph: FunctionGraph, else_fgraph: FunctionGraph,
                 name: str | None = None) -> None:
        self.n_outs = n_outs
        self.then_fgraph = then_fgraph
        self.else_fgraph = else_fgraph
        self.name = name

    def __str__(self) -> str:
        return f"if{{{self.name or ''}}}"


def _exclusive_nodes(fgraph: FunctionGraph, node: Apply, positions: range) -> list[Apply]:
    """Nodes (in topological order) whose results only the inputs ``positions`` of ``node`` use."""
    outs = [node.inputs[p] for p in positions]
    order = io_toposort(fgraph.inputs, outs)
    excl: set[Apply] = set()
    for cand in reversed(order):  # clients come before producers
        if all(not isinstance(client, str)
               and ((client is node and idx in positions) or client in excl)
               for o in cand.outputs for client, idx in fgraph.clients.get(o, ())):
            excl.add(cand)
    return [n for n in order if n in excl]


def _frontier(nodes: list[Apply], outs: Sequence[Variable], into: list[Variable]) -> None:
    """Append to ``into`` the non-constant values ``nodes`` and ``outs`` need from outside."""
    inside = set(nodes)
    for v in [i for n in nodes for i in n.inputs] + list(outs):
        if v.owner not in inside and not isinstance(v, Constant) and v not in into:
            into.append(v)


def _branch_node(fgraph: FunctionGraph, node: Apply) -> Apply:
    n = node.op.n_outs
    then_pos, else_pos = range(1, 1 + n), range(1 + n, 1 + 2 * n)
    then_outs, else_outs = node.inputs[1: 1 + n], node.inputs[1 + n:]
    frontier: list[Variable] = []
    _frontier(_exclusive_nodes(fgraph, node, then_pos), then_outs, frontier)
    _frontier(_exclusive_nodes(fgraph, node, else_pos), else_outs, frontier)
    op = BranchIfElse(n, FunctionGraph(frontier, then_outs), FunctionGraph(frontier, else_outs),
                      node.op.name)
    return Apply(op, [node.inputs[0]] + frontier, [o.type() for o in node.outputs])


def lazy_ifelse(fgraph: FunctionGraph) -> FunctionGraph:
    """A copy of ``fgraph`` where each outer ``IfElse`` carries its branches' exclusive work.

    ``fgraph`` itself is not changed.  IfElse nodes are taken last first,
    so an ifelse used by only one branch of another moves into that branch.
    """
    if not any(type(n.op) is IfElse for n in fgraph.apply_nodes):
        return fgraph
    while True:
        node = next((n for n in reversed(fgraph.toposort()) if type(n.op) is IfElse), None)
        if node is None:
            return fgraph
        new = _branch_node(fgraph, node)
        outputs = clone_replace(fgraph.outputs, dict(zip(node.outputs, new.outputs)))
        fgraph = FunctionGraph(fgraph.inputs, outputs, clone=False)


LOWERING_PASSES.append(lazy_ifelse)


def _cond(op: Op, node: Apply, then_fn: Callable[..., tuple], else_fn: Callable[..., tuple]):
    """The implementation: pick a branch in Python if the condition is known, else lax.cond."""
    dtypes = [np.dtype(o.dtype) for o in node.outputs]
    single = len(dtypes) == 1

    def typed(outs, xp):
        outs = tuple(xp.asarray(o, dtype=d) for o, d in zip(outs, dtypes))
        return outs[0] if single else outs

    def impl(c, *vals):
        if is_concrete(c):
            outs = then_fn(*vals) if np.asarray(c) != 0 else else_fn(*vals)
            return typed(outs, np if is_concrete(*outs) else jnp)
        checks = []  # did a branch make run-time checks (set while lax.cond traces them)

        def branch(fn):
            with collecting() as col:
                outs = typed(fn(*vals), jnp)
            st = col.status()
            checks.append(st is not None)
            zero = (jnp.asarray(0, "int32"), jnp.asarray(0, "int64"))
            return outs, (zero if st is None else st)  # both branches return a status

        try:
            outs, status = jax.lax.cond(jnp.asarray(c) != 0, lambda: branch(then_fn),
                                        lambda: branch(else_fn))
            if any(checks):
                emit_status(status)
            return outs
        except TypeError as e:
            detail = next((line for line in str(e).splitlines() if "output of true_fun" in line),
                          str(e).splitlines()[0])
            raise ValueError(f"ifelse ({op}): both branches must give values of the same shape "
                             f"when the condition is only known at run time (thx lowers ifelse to "
                             f"jax.lax.cond). {detail}") from None

    return impl


@register(BranchIfElse)
def _branch_ifelse(op, node):
    return _cond(op, node, build_closure(op.then_fgraph), build_closure(op.else_fgraph))


@register(IfElse)
def _ifelse(op, node):
    # An IfElse the lazy pass above did not rewrite (it rewrites all, so this is a fallback):
    # both branches arrive computed, lax.cond only picks one.
    n = op.n_outs
    return _cond(op, node, lambda *vals: tuple(vals[:n]), lambda *vals: tuple(vals[n:]))
