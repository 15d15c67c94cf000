"""FunctionGraph: a graph with fixed inputs and outputs that rewrites can edit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph import trace
from thx.graph.basic import Apply, Constant, Variable, clone, describe, io_toposort


class InconsistencyError(Exception):
    """A replacement would make the graph invalid."""


class MissingInputError(Exception):
    """A graph needs a root variable that is not one of the function's inputs."""


class FunctionGraph:
    """The subgraph between ``inputs`` and ``outputs``, with client lists.

    Parameters
    ----------
    inputs, outputs : list of Variable
    clone : bool
        Work on a copy (default) so the user's graph is never changed.

    Attributes
    ----------
    clients : dict
        ``variable -> {(node, input_index): None}`` (an insertion-ordered set:
        iterate it for the ``(node, i)`` pairs; removal is O(1), so a variable
        with many clients costs nothing extra to rewrite); an output's client
        is ``("output", i)``.
    apply_nodes : set of Apply
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True) -> None:
        if clone:
            inputs, outputs = _clone_graph(inputs, outputs)
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        self.clients: dict[Variable, dict[tuple[Any, int], None]] = {}
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self._listeners: list[Any] = []
        for i in self.inputs:
            self._add_var(i)
        for node in io_toposort(self.inputs, self.outputs):
            self._import_node(node, check=False)
        for i, out in enumerate(self.outputs):
            self._add_var(out)
            self.clients[out][("output", i)] = None
        for node in self.apply_nodes:
            for v in node.inputs:
                if v.owner is None and v not in self.inputs and not isinstance(v, Constant):
                    raise MissingInputError(
                        f"An input of the graph, used to compute {node.op}, was not provided and "
                        f"not given a value: {v!r}. Pass it in the list of inputs, or use givens.")

    # ------------------------------------------------------------ bookkeeping
    def _add_var(self, v: Variable) -> None:
        if v not in self.variables:
            self.variables.add(v)
            self.clients.setdefault(v, {})

    def _import_node(self, node: Apply, check: bool = True) -> None:
        if node in self.apply_nodes:
            return
        for v in node.inputs:
            if check and v.owner is None and v not in self.variables and not isinstance(v, Constant):
                raise MissingInputError(f"replacement introduces an input not in the graph: {v!r}")
            self._add_var(v)
        self.apply_nodes.add(node)
        for o in node.outputs:
            self._add_var(o)
        for i, v in enumerate(node.inputs):
            self.clients[v][(node, i)] = None
        for l in self._listeners:
            l.on_import(self, node)

    def _import_graph(self, var: Variable) -> None:
        """Import the nodes computing ``var`` that are not in the graph yet.

        Walks only the new nodes (it stops at known variables), so a rewrite
        costs the size of what it adds, not the size of the graph.
        """
        order: list[Apply] = []
        entered: set[Apply] = set()
        stack: list[tuple[Variable, bool]] = [(var, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v.owner)
                continue
            node = v.owner
            if node is None or v in self.variables or node in entered or node in self.apply_nodes:
                continue
            entered.add(node)
            stack.append((v, True))
            stack.extend((i, False) for i in reversed(node.inputs))
        for node in order:
            self._import_node(node)
        self._add_var(var)

    def _prune(self, v: Variable) -> None:
        """Remove the nodes that nothing uses any more, starting at ``v``."""
        stack = [v]
        while stack:
            var = stack.pop()
            node = var.owner
            if node is None or node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            for l in self._listeners:
                l.on_prune(self, node)
            for i, inp in enumerate(node.inputs):
                cl = self.clients.get(inp)
                if cl is not None:
                    cl.pop((node, i), None)
                    if not cl and inp.owner is not None:
                        stack.append(inp)

    # ------------------------------------------------------------ editing
    def change_input(self, node: Any, i: int, new: Variable, reason: str | None = None) -> None:
        """Make input ``i`` of ``node`` (or output ``i`` if node is "output") be ``new``."""
        if node == "output":
            old = self.outputs[i]
            if old is new:
                return
            self.outputs[i] = new
        else:
            old = node.inputs[i]
            if old is new:
                return
            node.inputs[i] = new
        self._import_graph(new)
        self.clients[new][(node, i)] = None
        del self.clients[old][(node, i)]
        for l in self._listeners:
            l.on_change_input(self, node, i, old, new, reason)
        if not self.clients[old] and old.owner is not None:
            self._prune(old)

    def replace(self, var: Variable, new_var: Variable, reason: str | None = None) -> None:
        """Replace every use of ``var`` by ``new_var`` (types must agree)."""
        if var is new_var:
            return
        if var.type != new_var.type:
            conv = var.type.convert_variable(new_var)
            if conv is None:
                raise TypeError(
                    f"Cannot replace {var} of type {var.type} by {new_var} of type {new_var.type}"
                    + (f" (rewrite {reason})" if reason else ""))
            new_var = conv
        if var not in self.variables:
            return
        if new_var.owner is not None and new_var not in self.variables:
            trace.inherit(var, new_var)  # Theano's copy_stack_trace: errors point at the user's line
        for node, i in list(self.clients[var]):
            self.change_input(node, i, new_var, reason)

    def replace_all(self, pairs: Sequence[tuple[Variable, Variable]], reason: str | None = None) -> None:
        for var, new in pairs:
            self.replace(var, new, reason)

    def attach_feature(self, listener: Any) -> None:
        self._listeners.append(listener)

    def remove_feature(self, listener: Any) -> None:
        self._listeners.remove(listener)

    # ------------------------------------------------------------ queries
    def toposort(self) -> list[Apply]:
        """The graph's Apply nodes in a topological order."""
        return io_toposort(self.inputs, self.outputs)

    def __str__(self) -> str:
        return "FunctionGraph(" + ", ".join(describe(o) for o in self.outputs) + ")"

    def clone(self) -> FunctionGraph:
        return FunctionGraph(self.inputs, self.outputs, clone=True)


def _clone_graph(inputs, outputs):
    """Copy the graph with fresh copies of ``inputs`` (constants are shared)."""
    return clone(inputs, outputs)
