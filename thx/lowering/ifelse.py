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

``lax.cond`` needs one shape for both branches.  When tracing shows that they
differ (or that the chosen value later sets a shape), the node raises
``segments.BranchShapesDiffer`` and becomes a host barrier: the function
runs as jitted segments, the host reads the condition, and only the chosen
branch runs, as its own jitted function (``_host_branch``).  Inside a scan
step there is no host to choose, and the error reaches the user.
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
from thx.lowering.program import build_closure, static_argnums
from thx.lowering.registry import LOWERING_PASSES, is_concrete, register, runs_on_host
from thx.lowering.segments import HOST_IMPLS, BranchShapesDiffer, host_runner


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

    @property
    def host_barrier(self) -> bool:
        """A branch holding an until scan or a Python op runs on the host
        (``thx/lowering/segments.py``)."""
        return any(runs_on_host(n.op)
                   for fg in (self.then_fgraph, self.else_fgraph) for n in fg.apply_nodes)


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
    """The implementation: pick a branch in Python if the condition is known, else lax.cond.

    Under a traced condition with branch shapes that differ, raise
    ``BranchShapesDiffer``: at a function's top level the node then runs on the
    host (``_host_branch``); inside a loop's step the message reaches the user.
    """
    dtypes = [np.dtype(o.dtype) for o in node.outputs]
    single = len(dtypes) == 1

    def typed(outs, xp):
        outs = tuple(xp.asarray(o, dtype=d) for o, d in zip(outs, dtypes))
        return outs[0] if single else outs

    def impl(c, *vals):
        if is_concrete(c):
            outs = then_fn(*vals) if np.asarray(c) != 0 else else_fn(*vals)
            return typed(outs, np if is_concrete(*outs) else jnp)
        if getattr(node.tag, "sets_shape", False):  # a later shape needs the chosen value
            t, f = then_fn(*vals), else_fn(*vals)
            if is_concrete(*t, *f) and all(np.array_equal(a, b) for a, b in zip(t, f)):
                return typed(t, np)
            raise BranchShapesDiffer(node, _differ_message(op, "A value it returns sets a shape."))
        checks = []  # did a branch make run-time checks (set while lax.cond traces them)

        def branch(fn):
            with collecting() as col:
                try:
                    outs = typed(fn(*vals), jnp)
                except BranchShapesDiffer as e:  # a nested ifelse: this one must choose on the host
                    raise BranchShapesDiffer(node, str(e)) from None
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
            raise BranchShapesDiffer(node, _differ_message(op, detail)) from None

    return impl


def _differ_message(op: Op, detail: str) -> str:
    return (f"ifelse ({op}): the two branches give values of different shapes, and the condition "
            f"is only known at run time inside a compiled loop step (a scan), where thx lowers "
            f"ifelse to jax.lax.cond, which needs one shape for both branches. Make the branches "
            f"agree in shape inside the step, or move the ifelse out of the scan. {detail}")


def _host_branch(op: BranchIfElse, node: Apply) -> Callable[..., object]:
    """A host barrier: read the condition, then run only the chosen branch (its own jit)."""
    dtypes = [np.dtype(o.dtype) for o in node.outputs]
    runners: dict[bool, Callable[..., tuple]] = {}

    def impl(c, *vals):
        take = bool(np.asarray(c) != 0)  # the host round trip
        run = runners.get(take)
        if run is None:
            run = runners[take] = host_runner(op.then_fgraph if take else op.else_fgraph)
        outs = tuple(jnp.asarray(o, dtype=d) for o, d in zip(run(*vals), dtypes))
        return outs[0] if len(outs) == 1 else outs

    return impl


HOST_IMPLS[BranchIfElse] = _host_branch


def _branch_statics(node: Apply) -> tuple[int, ...]:
    """Frontier inputs that a branch needs while tracing (a size, a loop length)."""
    op = node.op
    return tuple(sorted({1 + k for fg in (op.then_fgraph, op.else_fgraph) for k in static_argnums(fg)}))


@register(BranchIfElse, static_inputs=_branch_statics)
def _branch_ifelse(op, node):
    return _cond(op, node, build_closure(op.then_fgraph), build_closure(op.else_fgraph))


@register(IfElse)
def _ifelse(op, node):
    # An IfElse the lazy pass above did not rewrite (it rewrites all, so this is a fallback):
    # both branches arrive computed, lax.cond only picks one.
    n = op.n_outs
    return _cond(op, node, lambda *vals: tuple(vals[:n]), lambda *vals: tuple(vals[n:]))
