"""``debugprint``: Theano's indented tree of a graph, one variable per line with ``[id A]`` labels.

Ops that run an inner graph (Scan) are printed again, with that graph, in a
closing "Inner graphs of the scan ops:" section; the op says what its inner
graph is (``Op.inner_graph``, ``Op.inner_to_outer``).  Every walk is
iterative, so graphs thousands of nodes deep print.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from thx.graph.basic import Apply, Constant, Variable
from thx.printing.pretty import _leaf_str

__all__ = ["debugprint", "char_from_number"]


def char_from_number(number: int) -> str:
    """Theano's debugprint label: ``number`` in base 26 with digits A-Z (0 -> A, 26 -> BA).

    Examples
    --------
    >>> [char_from_number(n) for n in (0, 1, 25, 26, 27)]
    ['A', 'B', 'Z', 'BA', 'BB']
    """
    if number == 0:
        return "A"
    s = ""
    while number:
        number, r = divmod(number, 26)
        s = chr(ord("A") + r) + s
    return s


def _outputs_of(obj: Any) -> list[tuple[Variable, list[Apply] | None, Any]]:
    """``(variable, toposort or None, fgraph or None)`` for each thing debugprint prints."""
    items = list(obj) if isinstance(obj, (list, tuple, set)) else [obj]
    result: list[tuple[Variable, list[Apply] | None, Any]] = []
    for o in items:
        if isinstance(o, Variable):
            result.append((o, None, None))
        elif isinstance(o, Apply):
            result.extend((v, None, None) for v in o.outputs)
        elif hasattr(o, "maker"):  # a compiled Function
            fg = o.maker.fgraph
            topo = fg.toposort()
            result.extend((v, topo, fg) for v in fg.outputs)
        elif hasattr(o, "outputs") and hasattr(o, "toposort"):  # a FunctionGraph
            topo = o.toposort()
            result.extend((v, topo, o) for v in o.outputs)
        elif hasattr(o, "variable") and isinstance(o.variable, Variable):  # In / Out
            result.append((o.variable, None, None))
        else:
            raise TypeError(f"debugprint cannot print an object of type {type(o).__name__}: {o!r}")
    return result


def debugprint(obj: Any, depth: int = -1, print_type: bool = False, file: Any = None,
               ids: str = "CHAR", stop_on_name: bool = False, done: dict | None = None,
               print_storage: bool = False, print_clients: bool = False,
               used_ids: dict | None = None) -> Any:
    """Print a graph as an indented tree, one variable per line, in Theano's format.

    Each line is an op (``Elemwise{mul,no_inplace} [id A] ''``, with the
    variable's name between quotes) or a graph input (``x [id B]``); the
    inputs of an op follow it, indented with `` |``.  A node seen before is
    printed again with its id but not expanded.  For a compiled function
    each op line ends with the node's position in the toposort (its
    execution order).

    Parameters
    ----------
    obj : Variable, Apply, compiled Function, FunctionGraph, or a list of them
    depth : int
        Print at most this many levels (-1: all).
    print_type : bool
        Also print each variable's type (``<TensorType(float64, scalar)>``).
    file : file-like, ``'str'`` or None
        Where to write: None prints to stdout, ``'str'`` returns the text.
    ids : {'CHAR', 'int', 'id', ''}
        Node labels: letters (``[id A]``), integers (``[id 0]``), Python
        ids, or none.
    stop_on_name : bool
        Do not expand variables that have a name.
    done, used_ids : dict, optional
        Share labels between several calls.
    print_storage : bool
        Accepted for compatibility: thx functions keep no per-node storage.
    print_clients : bool
        For compiled functions, list the clients of variables used more than once.

    Returns
    -------
    str if ``file == 'str'``; ``file`` if a file was given; else None.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> debugprint(x * 2)
    Elemwise{mul,no_inplace} [id A] ''
     |x [id B]
     |TensorConstant{2} [id C]
    >>> debugprint(x * 2, ids='int', print_type=True)
    Elemwise{mul,no_inplace} [id 0] <TensorType(float64, scalar)> ''
     |x [id 1] <TensorType(float64, scalar)>
     |TensorConstant{2} [id 2] <TensorType(int8, scalar)>
    """
    if not isinstance(depth, int):
        raise TypeError(f"debugprint: depth must be an int, got {depth!r}")
    if ids not in ("CHAR", "int", "id", ""):
        raise ValueError(f"debugprint: ids must be 'CHAR', 'int', 'id' or '', got {ids!r}")
    if file == "str":
        out = io.StringIO()
    elif file is None:
        out = sys.stdout
    else:
        out = file
    printer = _DebugPrinter(out, print_type, ids, stop_on_name,
                            {} if done is None else done,
                            {} if used_ids is None else used_ids)
    for var, topo, fg in _outputs_of(obj):
        printer.order = {n: i for i, n in enumerate(topo)} if topo is not None else None
        printer.clients = fg.clients if (fg is not None and print_clients) else None
        printer.print_tree(var, depth)
    printer.print_inner_graphs(depth)
    if file == "str":
        return out.getvalue()
    if file is None:
        out.flush()
        return None
    return file


class _DebugPrinter:
    """The state of one ``debugprint`` call (labels handed out, nodes expanded)."""

    def __init__(self, out, print_type, ids, stop_on_name, done, used_ids):
        self.out = out
        self.print_type = print_type
        self.ids = ids
        self.stop_on_name = stop_on_name
        self.done = done
        self.used_ids = used_ids
        self.order: dict[Apply, int] | None = None
        self.clients: dict | None = None
        self.inner_graph_nodes: list[tuple[Variable, Any]] = []

    def id_str(self, obj: Any, var: Variable, printed: bool = True) -> str:
        if obj in self.used_ids:
            s = self.used_ids[obj]
        elif obj == "output":
            s = "output"
        elif self.ids == "id":
            s = f"[id {id(var)}]"
        elif self.ids == "int":
            s = f"[id {len(self.used_ids)}]"
        elif self.ids == "CHAR":
            s = f"[id {char_from_number(len(self.used_ids))}]"
        else:
            s = ""
        if printed:
            self.done[obj] = s
        self.used_ids[obj] = s
        return s

    def print_tree(self, root: Variable, depth: int, prefix: str = "", prefix_child: str | None = None,
                   inner_to_outer: dict | None = None) -> None:
        # Explicit stack, pre-order: (variable, prefix, prefix of its children, depth left).
        stack = [(root, prefix, prefix if prefix_child is None else prefix_child, depth)]
        while stack:
            r, prefix, prefix_child, depth = stack.pop()
            if depth == 0:
                continue
            type_str = f" <{r.type}>" if self.print_type else ""
            a = r.owner
            if a is None:
                if inner_to_outer is not None and r in inner_to_outer:
                    outer = inner_to_outer[r]
                    id_s = self.id_str(r, r)
                    outer_key = outer.owner if outer.owner is not None else outer
                    self.out.write(f"{prefix}{_debug_leaf(r)} {id_s}{type_str} -> "
                                   f"{self.id_str(outer_key, outer)}\n")
                else:
                    self.out.write(f"{prefix}{_debug_leaf(r)} {self.id_str(r, r)}{type_str}\n")
                continue
            if a.op.inner_graph is not None and all(r is not s for s, _ in self.inner_graph_nodes):
                self.inner_graph_nodes.append((r, inner_to_outer))
            already_printed = a in self.done
            id_s = self.id_str(a, r)
            idx = "" if len(a.outputs) == 1 else f".{a.outputs.index(r)}"
            o = ""
            if self.order:
                o = str(self.order[a]) if a in self.order else ""
            clients = ""
            if self.clients is not None and len(self.clients.get(r, ())) > 1:
                cl = [(self.id_str(c, r, printed=False),
                       self.order.get(c, "") if (self.order and c != "output") else "")
                      for c, _ in self.clients[r]]
                clients = " clients:" + str(cl)
            name = r.name if r.name is not None else ""
            self.out.write(f"{prefix}{a.op}{idx} {id_s}{type_str} '{name}'   {o}{clients}\n")
            if already_printed or (self.stop_on_name and r.name is not None):
                continue
            children = []
            for k, i in enumerate(a.inputs):
                last = k == len(a.inputs) - 1
                children.append((i, prefix_child + " |", prefix_child + ("  " if last else " |"),
                                 depth - 1))
            stack.extend(reversed(children))

    def print_inner_graphs(self, depth: int) -> None:
        """Theano's "Inner graphs of the scan ops:" section, for ops with an inner graph."""
        if not self.inner_graph_nodes:
            return
        self.out.write("\nInner graphs of the scan ops:\n")
        k = 0
        saved_order, self.order, self.clients = self.order, None, None
        while k < len(self.inner_graph_nodes):
            r, _ = self.inner_graph_nodes[k]
            k += 1
            op = r.owner.op
            inner_to_outer = op.inner_to_outer(r.owner)
            self.out.write("\n")
            self.print_tree(r, 1)  # the outer node's line: already labelled
            for o in op.inner_outputs:
                self.print_tree(o, depth, prefix=" >", prefix_child=" >",
                                inner_to_outer=inner_to_outer)
        self.order = saved_order


def _debug_leaf(v: Variable) -> str:
    if isinstance(v, Constant):
        return _leaf_str(v)
    return str(v)
