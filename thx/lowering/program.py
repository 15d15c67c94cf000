"""The one slot interpreter: a FunctionGraph as a straight-line program over numbered value slots.

``plan`` numbers the graph's values (constants get their NumPy value) and
picks each node's JAX implementation; ``execute`` runs such a program on a
list of slots, each node reading its input slots and writing its output
slots in topological order.  ``build_closure`` turns a graph into a Python
function of its inputs with them; the linker jits it, scan and ifelse call it
for their inner graphs, and ``segments.segmented_jit`` runs it in pieces.
Constants stay NumPy values, so shape arithmetic on them stays concrete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import itertools
import weakref

import jax
import numpy as np

from thx.graph import errors
from thx.graph.basic import Constant, Variable
from thx.graph.fg import FunctionGraph
from thx.lowering.registry import LOWERING_PASSES, ensure_loaded, jax_impl, static_inputs
from thx.tensor.shape import Shape
from thx.tensor.type import discrete_dtypes

Step = tuple[Callable[..., Any], Sequence[int], Sequence[int]]


def execute(steps: Sequence[Step], env: list[Any]) -> None:
    """Run ``(fn, input_slots, output_slots)`` steps in order on the slot list ``env``.

    A step with one output slot stores ``fn``'s result; with several, it
    stores the elements of the tuple ``fn`` returns.
    """
    for fn, ins, outs in steps:
        r = fn(*[env[i] for i in ins])
        if len(outs) == 1:
            env[outs[0]] = r
        else:
            for o, v in zip(outs, r):
                env[o] = v


@dataclass
class Plan:
    """A graph as a straight-line program over numbered value slots.

    ``initial`` holds the constants' NumPy values (None for other slots);
    ``program`` is ``(fn, input_slots, output_slots, node)`` in topological order.
    """

    initial: list[Any]
    in_slots: list[int]
    program: list[tuple[Callable[..., Any], tuple[int, ...], tuple[int, ...], Any]]
    out_slots: tuple[int, ...]
    clients: dict | None = None  # the graph's clients, for error messages


def plan(fgraph: FunctionGraph) -> Plan:
    """Run the lowering passes, then number the values and pick each node's implementation."""
    ensure_loaded()  # the families register the implementations and the passes
    for lowering_pass in LOWERING_PASSES:
        fgraph = lowering_pass(fgraph)
    slot: dict[Variable, int] = {}
    initial: list[Any] = []

    def slot_of(v: Variable) -> int:
        s = slot.get(v)
        if s is None:
            s = slot[v] = len(initial)
            initial.append((v.data if v.type.host_only else np.asarray(v.data))
                           if isinstance(v, Constant) else None)
        return s

    in_slots = [slot_of(v) for v in fgraph.inputs]
    program = [(scoped(jax_impl(node.op, node), node), tuple(slot_of(v) for v in node.inputs),
                tuple(slot_of(v) for v in node.outputs), node) for node in fgraph.toposort()]
    return Plan(initial, in_slots, program, tuple(slot_of(v) for v in fgraph.outputs), fgraph.clients)


# Each node's lowering runs inside ``jax.named_scope("<OpClass>#<n>")``: the HLO ops it emits carry
# that name in their ``op_name`` metadata (only metadata: the optimized HLO is unchanged), which is
# how the profiler (thx/compile/profiling.py) maps XLA's per-op times back to Apply nodes.
NODE_OF_SCOPE: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_SCOPE_IDS = itertools.count()


def scoped(fn: Callable[..., Any], node: Any) -> Callable[..., Any]:
    """``fn`` run inside a named scope naming ``node`` (registered in ``NODE_OF_SCOPE``)."""
    name = f"{type(node.op).__name__}#{next(_SCOPE_IDS)}"
    NODE_OF_SCOPE[name] = node

    def run(*args):
        with jax.named_scope(name):
            return fn(*args)
    return run


def build_closure(fgraph: FunctionGraph | Plan) -> Callable[..., tuple]:
    """A Python function of the graph's inputs returning the tuple of its outputs."""
    p = fgraph if isinstance(fgraph, Plan) else plan(fgraph)
    return closure(p.initial, p.in_slots, [(fn, ins, outs) for fn, ins, outs, _ in p.program],
                   p.out_slots, (p.program, p.clients))


def closure(initial: Sequence[Any], in_slots: Sequence[int], program: Sequence[tuple],
            out_slots: Sequence[int], nodes: tuple | None = None) -> Callable[..., tuple]:
    """The function running ``program`` (``(fn, ins, outs)`` steps) on fresh slots: the
    arguments go to ``in_slots``, the values of ``out_slots`` come back.  With ``nodes``
    (a Plan's program and clients), an error names the node that raised it (``errors``)."""
    n_in = len(in_slots)
    out_slots = tuple(out_slots)

    def run(*args):
        env = list(initial)
        for k in range(n_in):
            env[in_slots[k]] = args[k]
        try:
            execute(program, env)
        except Exception as e:
            # the failing step: the first whose outputs were not written
            k = next((k for k, step in enumerate(program) if env[step[2][0]] is None), None)
            if nodes is None or k is None:
                raise
            node, ins = nodes[0][k][3], program[k][1]
            raise errors.with_node(e, node, [env[i] for i in ins], k, nodes[1]) from None
        return tuple(env[o] for o in out_slots)

    return run


def static_argnums(fgraph: FunctionGraph) -> tuple[int, ...]:
    """Positions of integer scalar inputs whose value sets a shape or a size.

    A value flowing into a node's ``static_inputs`` must be known while
    tracing; if it comes from a graph input (through shape arithmetic), that
    input becomes a static argument of ``jax.jit``.
    """
    need: list[Variable] = []
    for node in fgraph.apply_nodes:
        for k in static_inputs(node):
            need.append(node.inputs[k])
    if not need:
        return ()
    inputs = {v: i for i, v in enumerate(fgraph.inputs)}
    seen: set[Variable] = set()
    result: set[int] = set()
    stack = list(need)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in inputs:
            if getattr(v.type, "ndim", None) == 0 and v.dtype in discrete_dtypes:
                result.add(inputs[v])
            continue
        if v.owner is not None:
            if isinstance(v.owner.op, Shape):
                continue  # shapes are concrete while tracing
            stack.extend(v.owner.inputs)
    return tuple(sorted(result))
