"""Printing and drawing graphs, in Theano's formats.

* ``pp`` / ``pprint``: one math-like line per output (each op prints itself
  through its ``pprint`` method).
* ``debugprint``: the indented tree Theano prints, one variable per line,
  ``[id A]`` labels, toposort positions for compiled functions.
* ``pydotprint``: a picture through Graphviz's ``dot`` program
  (``graph_to_dot`` gives the DOT text without needing Graphviz).
* ``to_html``: a self-contained interactive HTML viewer (inline SVG and
  JavaScript, nothing downloaded).

Every walk here is iterative, so graphs thousands of nodes deep print.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from thx.config import config
from thx.graph.basic import Apply, Constant, Variable, ancestors, io_toposort
from thx.graph.op import Op

__all__ = ["pp", "pprint", "debugprint", "Print", "pydotprint", "graph_to_dot", "to_html",
           "min_informative_str", "var_descriptor", "char_from_number", "pydot_imported",
           "GraphvizNotFoundError"]

_logger = logging.getLogger("thx.printing")

# Theano's LeafPrinter prints these variable names as TeX symbols.
greek = dict(alpha="\\alpha", beta="\\beta", gamma="\\gamma", delta="\\delta", epsilon="\\epsilon")
special = dict(middle_dot="\\dot", big_sigma="\\Sigma")


# ======================================================================== pp

def _leaf_str(v: Variable) -> str:
    if isinstance(v, Constant):
        if config.print_constants == "short" and v.name is None and hasattr(v, "data"):
            from thx.tensor.var import _constant_text
            return _constant_text(v.data)
        return str(v)
    if v.name is not None:
        return greek.get(v.name, v.name)
    return f"<{v.type}>"


def _default_pprint(node: Apply, ins: list[str]) -> str:
    return f"{node.op}({', '.join(ins)})"


def pp(*args: Any, **kwargs: Any) -> str:
    """Theano's pretty printer: a one-line, fully parenthesised form of a graph.

    Parameters
    ----------
    obj : Variable, list of Variable, compiled Function or FunctionGraph
        A function prints its optimized outputs, one per line.

    Returns
    -------
    str

    Notes
    -----
    Constants print as ``TensorConstant{2}`` (Theano 1.0) or, with
    ``config.print_constants = 'short'``, as ``2`` (older Theano).
    Broadcasting DimShuffles print as their input; variables named
    ``alpha`` ... ``epsilon`` print as ``\\alpha`` ... like Theano's.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> pp((x + 1) * x)
    '((x + TensorConstant{1}) * x)'
    >>> pp(T.grad(x ** 2, x))
    '((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * (x ** (TensorConstant{2} - TensorConstant{1})))'
    """
    if kwargs:
        raise TypeError(f"pp takes no keyword arguments, got {sorted(kwargs)}")
    if len(args) != 1:
        raise TypeError("pp takes one variable, list of variables, or function")
    obj = args[0]
    if hasattr(obj, "maker"):
        return "\n".join(_pp_var(o) for o in obj.maker.fgraph.outputs)
    if hasattr(obj, "outputs") and hasattr(obj, "toposort"):  # a FunctionGraph
        return "\n".join(_pp_var(o) for o in obj.outputs)
    if isinstance(obj, (list, tuple)):
        return "\n".join(_pp_var(o) for o in obj)
    if not isinstance(obj, Variable):
        raise TypeError(f"pp cannot print {type(obj).__name__}: give it a variable, a list of "
                        f"variables or a compiled function")
    return _pp_var(obj)


pprint = pp


def _pp_strings(outputs: Sequence[Variable], limit: int | None = None) -> dict[Variable, str]:
    """``pp`` strings of every variable computing ``outputs`` (one toposort pass).

    With ``limit``, an input string longer than ``limit`` is elided, so the
    cost stays linear even where shared subgraphs would make the full
    strings exponentially long.
    """
    memo: dict[Variable, str] = {}
    for node in io_toposort([], outputs):
        ins = []
        for i in node.inputs:
            s = memo[i] if i in memo else _leaf_str(i)
            if limit is not None and len(s) > limit:
                s = s[: limit // 2] + "..." + s[-(limit // 4):]
            ins.append(s)
        printer = getattr(node.op, "pprint", None)
        s = _default_pprint(node, ins) if printer is None else printer(node, ins)
        for k, o in enumerate(node.outputs):
            memo[o] = s if len(node.outputs) == 1 else f"{s}[{k}]"
    return memo


PP_MAX_CHARS = 20_000_000


def _pp_var(out: Variable) -> str:
    # pp repeats shared subexpressions, so its length can grow exponentially with depth
    # (a gradient reuses the forward graph): estimate it first instead of exhausting memory.
    size: dict[Variable, int] = {}
    for node in io_toposort([], [out]):
        n = 8 + sum(size.get(i, len(_leaf_str(i))) for i in node.inputs)
        for o in node.outputs:
            size[o] = n
    if size.get(out, 0) > PP_MAX_CHARS:
        raise ValueError(f"pp: the one-line form of this graph would be about {float(size[out]):.3g} "
                         f"characters long (pp repeats shared subexpressions); use "
                         f"thx.printing.debugprint, which prints each node once")
    memo = _pp_strings([out])
    return memo.get(out, _leaf_str(out))


# ================================================================ debugprint

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
            if _inner_graph(a.op) is not None and all(r is not s for s, _ in self.inner_graph_nodes):
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
            inner_inputs, inner_outputs, inner_to_outer = _inner_graph(r.owner.op, r.owner)
            self.out.write("\n")
            self.print_tree(r, 1)  # the outer node's line: already labelled
            for o in inner_outputs:
                self.print_tree(o, depth, prefix=" >", prefix_child=" >",
                                inner_to_outer=inner_to_outer)
        self.order = saved_order


def _inner_graph(op: Any, node: Apply | None = None):
    """``(inner_inputs, inner_outputs, inner_input -> outer_input)`` of ops with an inner graph.

    With ``node`` None, only says whether ``op`` has one (True) or not (None).
    An op opts in with an ``inner_graph(node)`` method returning the three;
    thx's Scan is recognised by its layout (``fgraph`` with sequences, state
    taps and non-sequences as inputs; outer inputs ``n_steps, sequences,
    initial states, non-sequences``).
    """
    fn = getattr(op, "inner_graph", None)
    is_scan = all(hasattr(op, a) for a in ("fgraph", "split_outer_inputs", "inner_seqs",
                                            "inner_taps", "inner_nonseqs", "n_rec"))
    if not callable(fn) and not is_scan:
        return None
    if node is None:
        return True
    if callable(fn):
        return fn(node)
    _, seqs, inits, nonseqs = op.split_outer_inputs(node.inputs)
    inner_to_outer: dict[Variable, Variable] = {}
    for inner, outer in zip(op.inner_seqs(), seqs):
        inner_to_outer[inner] = outer
    for k in range(op.n_rec):
        for inner in op.inner_taps(k):
            inner_to_outer[inner] = inits[k]
    for inner, outer in zip(op.inner_nonseqs(), nonseqs):
        inner_to_outer[inner] = outer
    return list(op.fgraph.inputs), list(op.fgraph.outputs), inner_to_outer


def _debug_leaf(v: Variable) -> str:
    if isinstance(v, Constant):
        return _leaf_str(v)
    return str(v)


# ============================================================ the Print op

def _print_fn(op: "Print", xin: Any) -> None:
    for attr in op.attrs:
        temp = getattr(xin, attr)
        print(op.message, attr, "=", temp() if callable(temp) else temp)


class Print(Op):
    """An identity op that prints its input's value when the function runs (Theano's ``Print``).

    Parameters
    ----------
    message : str
        Printed before each attribute.
    attrs : tuple of str
        Attributes (or methods, called) of the NumPy value to print.
    global_fn : callable, optional
        ``global_fn(op, value)`` does the printing.

    Notes
    -----
    Compiled functions call it from inside the jitted code (through
    ``jax.debug.callback``); with several Print ops the order of the lines is
    only guaranteed between ops that depend on each other, as in Theano.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector()
    >>> hello_world_op = Print('hello world')
    >>> printed_x = hello_world_op(x)
    >>> f = thx.function([x], printed_x)
    >>> r = f([1, 2, 3])
    hello world __str__ = [1. 2. 3.]
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",), global_fn: Any = _print_fn) -> None:
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def __str__(self) -> str:
        return f"Print{{{self.message}}}" if self.message else "Print"

    def make_node(self, xin: Any) -> Apply:
        if not isinstance(xin, Variable):
            from thx.tensor.var import as_tensor_variable
            xin = as_tensor_variable(xin)
        return Apply(self, [xin], [xin.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        output_storage[0][0] = inputs[0]
        self.global_fn(self, inputs[0])

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list[Variable]:
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pprint(self, node: Apply, ins: list[str]) -> str:
        return ins[0]


# ============================================================ small strings

def min_informative_str(obj: Any, indent_level: int = 0) -> str:
    """A short description of a variable: its graph down to named variables.

    Each line is ``TAG. name`` for a named variable or ``TAG. op`` followed by
    the op's inputs one indentation level deeper; a variable seen before
    prints as ``<TAG>`` (Theano's format, meant for error messages).

    Examples
    --------
    >>> import thx.tensor as T
    >>> A, B, D, E = T.matrices('A', 'B', 'D', 'E')
    >>> C = A + B
    >>> C.name = 'C'
    >>> print(min_informative_str(C + (D + E)))
    A. Elemwise{add,no_inplace}
     B. C
     C. Elemwise{add,no_inplace}
      D. D
      E. E
    """
    tags: dict[int, str] = {}
    lines: list[str] = []
    stack: list[tuple[Any, int]] = [(obj, indent_level)]
    while stack:
        o, level = stack.pop()
        indent = " " * level
        if id(o) in tags:
            lines.append(f"{indent}<{tags[id(o)]}>")
            continue
        tag = char_from_number(len(tags))
        tags[id(o)] = tag
        children: list[Any] = []
        if hasattr(o, "__array__") and not isinstance(o, Variable):
            name = "<ndarray>"
        elif getattr(o, "name", None) is not None:
            name = o.name
        elif getattr(o, "owner", None) is not None:
            name = str(o.owner.op)
            children = o.owner.inputs
        else:
            name = str(o)
        lines.append(f"{indent}{tag}. {name}")
        stack.extend((c, level + 1) for c in reversed(children))
    return "\n".join(lines)


def var_descriptor(obj: Any) -> str:
    """A one-line string fully specifying how a variable is computed (Theano's format).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> var_descriptor(x * x)
    'A=Elemwise{mul,no_inplace}(B=x,<B>)'
    """
    import hashlib

    tags: dict[int, str] = {}
    parts: list[str] = []
    # Stack of tokens: an object to describe, or a literal string to emit.
    stack: list[Any] = [("obj", obj)]
    while stack:
        kind, o = stack.pop()
        if kind == "str":
            parts.append(o)
            continue
        if id(o) in tags:
            parts.append(f"<{tags[id(o)]}>")
            continue
        tag = char_from_number(len(tags))
        tags[id(o)] = tag
        if hasattr(o, "__array__") and not isinstance(o, Variable):
            import numpy as np
            arr = np.ascontiguousarray(o)
            parts.append(f"{tag}=<ndarray:strides=[{','.join(str(s) for s in arr.strides)}],"
                         f"digest={hashlib.md5(arr.tobytes()).hexdigest()}>")
        elif getattr(o, "owner", None) is not None:
            parts.append(f"{tag}={o.owner.op}(")
            todo: list[Any] = [("str", ")")]
            for k, i in enumerate(reversed(o.owner.inputs)):
                todo.append(("obj", i))
                if k != len(o.owner.inputs) - 1:
                    todo.append(("str", ","))
            stack.extend(todo)
        elif getattr(o, "name", None) is not None:
            parts.append(f"{tag}={o.name}")
        elif isinstance(o, Variable):
            parts.append(f"{tag}=thx_var{{type={o.type}}}")
        else:
            parts.append(f"{tag}={o}")
    return "".join(parts)


# ============================================================ graph drawing

class GraphvizNotFoundError(RuntimeError, ImportError):
    """Graphviz's ``dot`` program is needed (for ``pydotprint``) and was not found."""


def _dot_program() -> str | None:
    return shutil.which("dot")


pydot_imported = _dot_program() is not None  # Theano's flag name: can pydotprint draw here?

default_colorCodes = {"GpuFromHost": "red", "HostFromGpu": "red", "Scan": "yellow",
                      "Shape": "brown", "IfElse": "magenta", "Elemwise": "#FFAABB",
                      "Subtensor": "#FFAAFF", "Alloc": "#FFAA22", "Output": "blue"}


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


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={_dot_quote(v)}" for k, v in attrs.items())


def _truncate(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(n - 3, 0)] + "..."


def graph_to_dot(fct: Any, compact: bool = True, with_ids: bool = False, high_contrast: bool = True,
                 colorCodes: dict[str, str] | None = None, max_label_size: int = 70,
                 var_with_name_simple: bool = False, cond_highlight: Any = None) -> str:
    """The DOT text (Graphviz's language) that ``pydotprint`` draws.

    Needs no Graphviz: use it to inspect the drawing, or feed it to any DOT
    tool.  Apply nodes are ellipses labelled with their op (with their
    toposort position when labels repeat or ``with_ids``); variables are
    boxes: green for inputs, cyan for shared variables, blue for outputs,
    grey for unused outputs.  With ``compact``, unnamed intermediate
    variables are drawn as labelled edges.  Edges carry the input index when
    an op has several inputs; ``UPDATE`` edges link an update to its shared
    variable.

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
    compact, with_ids, high_contrast, colorCodes, max_label_size, var_with_name_simple, cond_highlight
        As in ``pydotprint``.

    Returns
    -------
    str

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> print(graph_to_dot(T.exp(x)))
    digraph G {
      graph [bgcolor="white"];
      "a0" [label="Elemwise{exp,no_inplace}", shape="ellipse", style="filled", fillcolor="#FFAABB"];
      "v0" [label="name=x TensorType(float64, vector)", shape="box", style="filled", fillcolor="green"];
      "v0" -> "a0";
      "a0" -> "v1";
      "v1" [label="TensorType(float64, vector)", shape="box", style="filled", fillcolor="blue"];
    }
    <BLANKLINE>
    """
    import numpy as np

    g = _Graph(fct)
    colors = default_colorCodes if colorCodes is None else colorCodes
    lines = ["digraph G {", '  graph [bgcolor="white"];']
    var_label: dict[Variable, str] = {}
    var_id: dict[Variable, str] = {}
    apply_label: dict[Apply, str] = {}
    apply_id: dict[Apply, str] = {}
    all_strings: set[str] = set()
    declared: set[str] = set()

    def var_name(var: Variable) -> tuple[str, str]:
        if var in var_label:
            return var_label[var], var_id[var]
        if var.name is not None:
            s = var.name if var_with_name_simple else f"name={var.name} {var.type}"
        elif isinstance(var, Constant):
            d = "val=" + str(np.asarray(var.data))
            if "\n" in d:
                d = d[: d.index("\n")]
            s = f"{d} {var.type}"
        elif var in g.input_update and g.input_update[var].name is not None:
            s = g.input_update[var].name + ("" if var_with_name_simple else f" {var.type}")
        else:
            s = str(var.type)
        s = _truncate(s, max_label_size)
        var_label[var] = s
        var_id[var] = f"v{len(var_id)}"
        all_strings.add(s)
        return s, var_id[var]

    def apply_name(node: Apply) -> tuple[str, str]:
        if node in apply_label:
            return apply_label[node], apply_id[node]
        s = str(node.op)
        if s in all_strings or with_ids:
            idx = f" id={g.position[node]}"
            s = (s[: max_label_size - 3 - len(idx)] + idx + "...") if len(s) + len(idx) > max_label_size \
                else s + idx
        elif len(s) > max_label_size:
            s = _truncate(s, max_label_size)
            k = 1
            while s in all_strings:
                k += 1
                suffix = f" id={k}"
                s = s[: max_label_size - 3 - len(suffix)] + "..." + suffix
        all_strings.add(s)
        apply_label[node] = s
        apply_id[node] = f"a{len(apply_id)}"
        return s, apply_id[node]

    def node_line(nid: str, attrs: dict[str, str]) -> None:
        if nid not in declared:
            declared.add(nid)
            lines.append(f"  {_dot_quote(nid)} [{_dot_attrs(attrs)}];")

    def edge_line(src: str, dst: str, attrs: dict[str, str]) -> None:
        a = f" [{_dot_attrs(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_quote(src)} -> {_dot_quote(dst)}{a};")

    def fill(attrs: dict[str, str], color: str) -> dict[str, str]:
        if high_contrast:
            attrs.update(style="filled", fillcolor=color)
        else:
            attrs.update(color=color)
        return attrs

    clusters = _cond_clusters(g, cond_highlight)
    outputs = set(g.outputs)
    for node in g.topo:
        label, aid = apply_name(node)
        color = None
        for op_name, c in colors.items():
            if op_name in type(node.op).__name__:
                color = c
        attrs = {"label": label, "shape": "ellipse"}
        node_line(aid, fill(attrs, color) if color is not None else attrs)
        for idx, var in enumerate(node.inputs):
            vlabel, vid = var_name(var)
            param = {"label": str(idx)} if len(node.inputs) > 1 else {}
            if var.owner is None:
                from thx.tensor.sharedvar import SharedVariable
                color = "cyan" if isinstance(var, SharedVariable) else "green"
                node_line(vid, fill({"label": vlabel, "shape": "box"}, color))
                edge_line(vid, aid, param)
            elif var.name or not compact or var in outputs:
                edge_line(vid, aid, param)
            else:
                lab = (param["label"] + " " if param else "") + str(var.type)
                param["label"] = _truncate(lab, max_label_size)
                edge_line(apply_name(var.owner)[1], aid, param)
        for idx, var in enumerate(node.outputs):
            vlabel, vid = var_name(var)
            param = {"label": str(idx)} if len(node.outputs) > 1 else {}
            if var in outputs or var in g.input_update:
                edge_line(aid, vid, param)
                node_line(vid, fill({"label": vlabel, "shape": "box"}, colors.get("Output", "blue")))
            elif not g.clients.get(var):
                edge_line(aid, vid, param)
                node_line(vid, fill({"label": vlabel, "shape": "box"}, "grey"))
            elif var.name or not compact:
                if compact:
                    lab = (param["label"] + " " if param else "") + str(var.type)
                    param["label"] = _truncate(lab, max_label_size)
                edge_line(aid, vid, param)
                node_line(vid, {"label": vlabel, "shape": "box"})
    for out, shared_in in g.input_update.items():
        _, oid = var_name(out)
        _, sid = var_name(shared_in)
        edge_line(oid, sid, {"label": "UPDATE", "color": colors.get("Output", "blue")})
    for name, nodes in clusters:
        lines.append(f"  subgraph {_dot_quote('cluster_' + name)} {{")
        lines.append(f"    label={_dot_quote(name)};")
        for n in nodes:
            lines.append(f"    {_dot_quote(apply_name(n)[1])};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cond_clusters(g: _Graph, cond_highlight: Any) -> list[tuple[str, list[Apply]]]:
    """Left / Right / Middle clusters around an IfElse node (``cond_highlight``)."""
    if cond_highlight is None:
        return []
    cond = None
    for node in g.topo:
        if type(node.op).__name__ == "IfElse" and (cond_highlight is True or node is cond_highlight
                                                     or getattr(node.op, "name", None) == cond_highlight):
            cond = node
    if cond is None:
        _logger.warning("pydotprint: cond_highlight is set but there is no IfElse node in the graph")
        return []

    def nodes_of(v: Variable) -> set[Apply]:
        return {a.owner for a in ancestors([v]) if a.owner is not None}

    left, right = nodes_of(cond.inputs[1]), nodes_of(cond.inputs[2])
    middle = left & right
    order = g.position
    return [(name, sorted(s, key=lambda n: order.get(n, 0)))
            for name, s in (("Left", left - middle), ("Right", right - middle), ("Middle", middle))]


def pydotprint(fct: Any, outfile: str | None = None, compact: bool = True, format: str = "png",
               with_ids: bool = False, high_contrast: bool = True, cond_highlight: Any = None,
               colorCodes: dict[str, str] | None = None, max_label_size: int = 70,
               scan_graphs: bool = False, var_with_name_simple: bool = False,
               print_output_file: bool = True, return_image: bool = False) -> bytes | None:
    """Draw a graph to an image file with Graphviz's ``dot`` program (Theano's ``pydotprint``).

    thx writes the DOT text itself (``graph_to_dot``) and runs ``dot``; no
    pydot package is needed, only the Graphviz program (``apt-get install
    graphviz``, ``brew install graphviz``, ``conda install graphviz``).

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
    outfile : str, optional
        The image file (default ``graph.<format>`` in the current
        directory); ``.<format>`` is appended if missing.
    compact : bool
        Draw unnamed intermediate variables as labelled edges.
    format : str
        Any format ``dot`` supports: ``'png'``, ``'svg'``, ``'pdf'`` ...
    with_ids : bool
        Add the toposort position to every op label.
    high_contrast : bool
        Fill nodes with their colour (else colour the border).
    cond_highlight : optional
        Cluster the ops of the two branches of an IfElse node.
    colorCodes : dict, optional
        Op class name (substring) -> colour.
    max_label_size : int
        Longer labels are cut with ``...``.
    scan_graphs : bool
        Also draw the inner graph of each scan, to ``<outfile>_<scan>_<position>.<format>``.
    var_with_name_simple : bool
        Label named variables with their name only (not name and type).
    print_output_file : bool
        Print where the file was written.
    return_image : bool
        Return the image bytes instead of writing a file.

    Returns
    -------
    bytes if ``return_image`` else None.

    Raises
    ------
    GraphvizNotFoundError
        (a RuntimeError and an ImportError) if the ``dot`` program is not installed.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> import shutil
    >>> if shutil.which('dot'):  # Graphviz installed
    ...     svg = pydotprint(x * 2, format='svg', return_image=True)
    ...     assert b'<svg' in svg
    """
    dot = _dot_program()
    if dot is None:
        raise GraphvizNotFoundError(
            "pydotprint needs the `dot` program of Graphviz, and it was not found on the PATH. "
            "Install Graphviz (e.g. `apt-get install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`), or use thx.printing.graph_to_dot(...) for the DOT text, "
            "or thx.printing.to_html(...) for a viewer that needs nothing installed.")
    text = graph_to_dot(fct, compact=compact, with_ids=with_ids, high_contrast=high_contrast,
                        colorCodes=colorCodes, max_label_size=max_label_size,
                        var_with_name_simple=var_with_name_simple, cond_highlight=cond_highlight)
    if outfile is None:
        outfile = f"graph.{format}"
    if not outfile.endswith("." + format):
        outfile += "." + format
    if scan_graphs:
        g = _Graph(fct)
        path, fn = os.path.split(outfile)
        base = fn[: -len(format) - 1]
        for pos, node in enumerate(g.topo):
            inner = _inner_graph(node.op, node) if _inner_graph(node.op) else None
            if inner is None:
                continue
            name = getattr(node.op, "name", None)
            new = os.path.join(path, f"{base}_{name}_{pos}" if name else f"{base}_{pos}") + "." + format
            pydotprint(list(inner[1]), new, compact, format, with_ids, high_contrast, None, colorCodes,
                       max_label_size, scan_graphs, var_with_name_simple, print_output_file)
    proc = subprocess.run([dot, "-T" + format], input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pydotprint: `dot -T{format}` failed (exit code {proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    if return_image:
        return proc.stdout
    with open(outfile, "wb") as fh:
        fh.write(proc.stdout)
    if print_output_file:
        print("The output file is available at", outfile)
    return None


# ============================================================ HTML viewer

def _layers(nodes: list[dict], edges: list[dict]) -> None:
    """Longest-path layering, then a few barycenter sweeps to reduce crossings.

    Sets ``layer`` and ``order`` on every node dict.
    """
    preds: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    succs: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    for e in edges:
        if e.get("kind") == "update":
            continue  # back edges: drawn, but not used for layering
        preds[e["target"]].append(e["source"])
        succs[e["source"]].append(e["target"])
    by_id = {n["id"]: n for n in nodes}
    # nodes are listed in a topological order (inputs/constants before their users)
    layer: dict[str, int] = {}
    for n in nodes:
        p = preds[n["id"]]
        layer[n["id"]] = 1 + max((layer[q] for q in p), default=-1)
    # constants (and unused inputs) sit just above their first user, not at the top
    for n in nodes:
        if n["kind"] == "constant" and succs[n["id"]]:
            layer[n["id"]] = max(min(layer[s] for s in succs[n["id"]]) - 1, 0)
    n_layers = 1 + max(layer.values(), default=0)
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for n in nodes:
        rows[layer[n["id"]]].append(n["id"])
    pos = {nid: i for row in rows for i, nid in enumerate(row)}

    def sweep(rows_iter, neighbours):
        for row in rows_iter:
            def key(nid, row=row):
                ns = neighbours[nid]
                return (sum(pos[m] for m in ns) / len(ns)) if ns else pos[nid]
            row.sort(key=key)
            for i, nid in enumerate(row):
                pos[nid] = i

    for _ in range(4):
        sweep(rows[1:], preds)
        sweep(reversed(rows[:-1]), succs)
    for nid, n in by_id.items():
        n["layer"] = layer[nid]
        n["order"] = pos[nid]


def _html_model(fct: Any, max_label_size: int = 70, pp_limit: int = 400) -> dict:
    """The graph as plain data for the HTML viewer (nodes, edges, layers)."""
    import numpy as np
    from thx.tensor.sharedvar import SharedVariable

    g = _Graph(fct)
    strs = _pp_strings(g.outputs, limit=pp_limit)

    def pp_of(v: Variable) -> str:
        return _truncate(strs.get(v, _leaf_str(v)), 4 * pp_limit)

    nodes: list[dict] = []
    edges: list[dict] = []
    vid: dict[Variable, str] = {}
    aid: dict[Apply, str] = {}
    outputs = set(g.outputs)
    out_index = {v: k for k, v in enumerate(g.outputs)}

    def add_var_node(v: Variable, kind: str) -> str:
        if v in vid:
            return vid[v]
        nid = f"v{len(vid)}"
        vid[v] = nid
        if isinstance(v, Constant):
            d = str(np.asarray(v.data))
            label = _truncate(v.name or (d[: d.index("\n")] + " ..." if "\n" in d else d), max_label_size)
        elif kind == "output":
            label = v.name or (g.input_update[v].name + " (update)" if v in g.input_update
                               and g.input_update[v].name else f"out[{out_index[v]}]")
        else:
            label = v.name or str(v.type)
        info = {"type": str(v.type), "pp": pp_of(v)}
        if isinstance(v, SharedVariable):
            info["value"] = _truncate(str(np.asarray(v.get_value(borrow=True))), 200)
        nodes.append({"id": nid, "kind": kind, "label": _truncate(label, max_label_size),
                      "name": v.name or "", **info})
        return nid

    for node in g.topo:
        for v in node.inputs:
            if v.owner is None and v not in vid:
                kind = ("constant" if isinstance(v, Constant) else
                        "shared" if isinstance(v, SharedVariable) else "input")
                add_var_node(v, kind)
        nid = f"a{len(aid)}"
        aid[node] = nid
        nodes.append({"id": nid, "kind": "apply", "label": _truncate(str(node.op), max_label_size),
                      "op": str(node.op), "position": g.position[node],
                      "type": ", ".join(str(o.type) for o in node.outputs),
                      "pp": "\n".join(pp_of(o) for o in node.outputs),
                      "inputs": [i.name or str(i.type) if not isinstance(i, Constant) else str(i)
                                 for i in node.inputs]})
        if _inner_graph(node.op):  # scan: show the step's outputs
            inner_outs = _inner_graph(node.op, node)[1]
            inner_strs = _pp_strings(inner_outs, limit=pp_limit)
            nodes[-1]["inner"] = [_truncate(inner_strs.get(o, _leaf_str(o)), 4 * pp_limit)
                                  for o in inner_outs]
        for k, v in enumerate(node.inputs):
            src = vid[v] if v in vid else aid[v.owner]
            label = str(k) if len(node.inputs) > 1 else ""
            edges.append({"source": src, "target": nid, "label": label, "type": str(v.type)})
        for v in node.outputs:
            if v in outputs or v in g.input_update:
                oid = add_var_node(v, "output")
                edges.append({"source": nid, "target": oid, "label": "", "type": str(v.type)})
    for v in g.outputs:  # outputs that are inputs or constants (no Apply computes them)
        if v.owner is None and v not in vid:
            kind = "constant" if isinstance(v, Constant) else "input"
            add_var_node(v, kind)
    for out, shared_in in g.input_update.items():
        if out in vid and shared_in in vid:
            edges.append({"source": vid[out], "target": vid[shared_in], "label": "UPDATE",
                          "kind": "update", "type": str(out.type)})
    _layers(nodes, edges)
    title = getattr(fct, "name", None) if g.is_function else None
    return {"nodes": nodes, "edges": edges, "title": title or "thx graph",
            "n_apply": len(g.topo)}


_HTML_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { margin: 0; font-family: sans-serif; display: flex; height: 100vh; }
  #canvas { flex: 1; position: relative; overflow: hidden; background: #fafafa; }
  #graph { width: 100%; height: 100%; cursor: grab; }
  #side { width: 360px; border-left: 1px solid #ccc; padding: 8px; overflow: auto; font-size: 13px; }
  #side h1 { font-size: 15px; margin: 4px 0 8px; }
  #info pre { white-space: pre-wrap; word-break: break-all; background: #f0f0f0; padding: 4px; }
  .node text { font-family: monospace; font-size: 12px; pointer-events: none; }
  .node { cursor: pointer; }
  .node.selected rect, .node.selected ellipse { stroke: #d00; stroke-width: 3; }
  .node.dim { opacity: 0.25; }
  .edge { fill: none; stroke: #555; stroke-width: 1.2; }
  .edge.update { stroke: blue; stroke-dasharray: 5 3; }
  .edge.hl { stroke: #d00; stroke-width: 2.5; }
  .edgelabel { font-family: monospace; font-size: 10px; fill: #333; }
  .legend span { display: inline-block; padding: 1px 5px; margin: 2px; border: 1px solid #888; }
  #search { width: 95%; }
</style>
</head>
<body>
<div id="canvas"><svg id="graph" xmlns="http://www.w3.org/2000/svg">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"
 orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>
<g id="viewport"><g id="edges"></g><g id="nodes"></g></g></svg></div>
<div id="side">
<h1 id="title"></h1>
<div class="legend">
 <span style="background:#9f9">input</span><span style="background:#9ff">shared</span>
 <span style="background:#ddd">constant</span><span style="background:#FFAABB">op</span>
 <span style="background:#99f">output</span>
</div>
<p><input id="search" placeholder="highlight nodes whose label contains..."></p>
<p>Hover or click a node. Drag to pan, wheel to zoom, double-click to fit.</p>
<div id="info"></div>
</div>
<script id="graph-data" type="application/json">__DATA__</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("graph");
  var nodeLayer = document.getElementById("nodes");
  var edgeLayer = document.getElementById("edges");
  var info = document.getElementById("info");
  document.getElementById("title").textContent = data.title + " (" + data.n_apply + " ops)";
  var CHAR_W = 7.3, PAD_X = 14, NODE_H = 28, GAP_X = 24, GAP_Y = 70;
  var FILL = {input: "#99ff99", shared: "#99ffff", constant: "#dddddd",
              apply: "#FFAABB", output: "#9999ff"};
  var byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; n.w = Math.max(40, n.label.length * CHAR_W + 2 * PAD_X); });
  // coordinates: one row per layer, nodes side by side in their order, rows centred
  var rows = [];
  data.nodes.forEach(function (n) { (rows[n.layer] = rows[n.layer] || []).push(n); });
  var maxW = 0;
  rows.forEach(function (row) {
    if (!row) return;
    row.sort(function (a, b) { return a.order - b.order; });
    var w = 0; row.forEach(function (n) { w += n.w + GAP_X; });
    row.width = w; if (w > maxW) maxW = w;
  });
  rows.forEach(function (row, k) {
    if (!row) return;
    var x = (maxW - row.width) / 2;
    row.forEach(function (n) { n.x = x + n.w / 2; n.y = 30 + k * GAP_Y; x += n.w + GAP_X; });
  });
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  var edgeEls = [];
  data.edges.forEach(function (e) {
    var s = byId[e.source], t = byId[e.target];
    var y1 = s.y + NODE_H / 2, y2 = t.y - NODE_H / 2, d;
    if (e.kind === "update") {
      y1 = s.y; y2 = t.y;
      var bend = Math.max(s.x, t.x) + Math.max(s.w, t.w) / 2 + 40;
      d = "M" + (s.x + s.w / 2) + "," + y1 + " C" + bend + "," + y1 + " " + bend + "," + y2 + " " +
          (t.x + t.w / 2) + "," + y2;
    } else {
      var my = (y1 + y2) / 2;
      d = "M" + s.x + "," + y1 + " C" + s.x + "," + my + " " + t.x + "," + my + " " + t.x + "," + y2;
    }
    var p = el("path", {"class": "edge" + (e.kind === "update" ? " update" : ""), d: d,
                        "marker-end": "url(#arrow)", "data-source": e.source, "data-target": e.target},
               edgeLayer);
    el("title", {}, p).textContent = e.type;
    edgeEls.push(p);
    if (e.label) {
      var lt = el("text", {"class": "edgelabel", x: (s.x + t.x) / 2 + 4, y: (y1 + y2) / 2}, edgeLayer);
      lt.textContent = e.label;
    }
  });
  var nodeEls = {};
  data.nodes.forEach(function (n) {
    var g = el("g", {"class": "node", id: "node-" + n.id, "data-id": n.id, "data-kind": n.kind,
                     transform: "translate(" + n.x + "," + n.y + ")"}, nodeLayer);
    if (n.kind === "apply") {
      el("ellipse", {rx: n.w / 2, ry: NODE_H / 2, fill: FILL.apply, stroke: "#333"}, g);
    } else {
      el("rect", {x: -n.w / 2, y: -NODE_H / 2, width: n.w, height: NODE_H, rx: 3,
                  fill: FILL[n.kind], stroke: "#333"}, g);
    }
    var t = el("text", {"text-anchor": "middle", "dominant-baseline": "central"}, g);
    t.textContent = n.label;
    el("title", {}, g).textContent = n.type;
    g.addEventListener("mouseenter", function () { show(n); });
    g.addEventListener("click", function (ev) { ev.stopPropagation(); select(n); });
    nodeEls[n.id] = g;
  });
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function show(n) {
    var h = "<p><b>" + esc(n.kind) + "</b>" + (n.position !== undefined ? " (toposort position " +
            n.position + ")" : "") + "</p>";
    h += "<p>" + (n.kind === "apply" ? "op: " + esc(n.op) : "label: " + esc(n.label)) + "</p>";
    h += "<p>type: <code>" + esc(n.type) + "</code></p>";
    if (n.inputs) h += "<p>inputs: <code>" + esc(n.inputs.join(", ")) + "</code></p>";
    if (n.value !== undefined) h += "<p>value:</p><pre>" + esc(n.value) + "</pre>";
    if (n.inner) h += "<p>inner graph outputs:</p><pre>" + esc(n.inner.join(String.fromCharCode(10))) + "</pre>";
    h += "<p>pp:</p><pre>" + esc(n.pp) + "</pre>";
    info.innerHTML = h;
  }
  var selected = null;
  function select(n) {
    if (selected) nodeEls[selected].classList.remove("selected");
    selected = n ? n.id : null;
    edgeEls.forEach(function (p) {
      var on = n && (p.getAttribute("data-source") === n.id || p.getAttribute("data-target") === n.id);
      p.classList.toggle("hl", !!on);
    });
    if (n) { nodeEls[n.id].classList.add("selected"); show(n); }
  }
  document.getElementById("search").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    data.nodes.forEach(function (n) {
      nodeEls[n.id].classList.toggle("dim", q !== "" && n.label.toLowerCase().indexOf(q) < 0);
    });
  });
  // pan and zoom through the viewBox
  var vb;
  function fit() {
    var w = maxW + 2 * GAP_X + 120, h = rows.length * GAP_Y + 40;
    vb = {x: -GAP_X, y: 0, w: Math.max(w, 200), h: Math.max(h, 120)};
    apply();
  }
  function apply() { svg.setAttribute("viewBox", vb.x + " " + vb.y + " " + vb.w + " " + vb.h); }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var f = ev.deltaY > 0 ? 1.15 : 1 / 1.15, r = svg.getBoundingClientRect();
    var px = vb.x + (ev.clientX - r.left) / r.width * vb.w, py = vb.y + (ev.clientY - r.top) / r.height * vb.h;
    vb = {x: px - (px - vb.x) * f, y: py - (py - vb.y) * f, w: vb.w * f, h: vb.h * f};
    apply();
  }, {passive: false});
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = {x: ev.clientX, y: ev.clientY, vb: vb}; });
  window.addEventListener("mouseup", function () { drag = null; });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    vb = {x: drag.vb.x - (ev.clientX - drag.x) / r.width * drag.vb.w,
          y: drag.vb.y - (ev.clientY - drag.y) / r.height * drag.vb.h, w: drag.vb.w, h: drag.vb.h};
    apply();
  });
  svg.addEventListener("dblclick", fit);
  svg.addEventListener("click", function () { select(null); });
  fit();
  // deep link: page.html#select=<node label or id> selects that node
  var m = /^#select=(.*)$/.exec(window.location.hash);
  if (m) {
    var want = decodeURIComponent(m[1]);
    var hit = data.nodes.filter(function (n) { return n.id === want || n.label === want; })[0];
    if (hit) select(hit);
  }
  svg.setAttribute("data-drawn", String(data.nodes.length));
})();
</script>
</body>
</html>
"""


def to_html(fct: Any, outfile: str | None = "graph.html", max_label_size: int = 70) -> str:
    """Write a self-contained interactive HTML viewer of a graph.

    The file needs nothing else (no network, no Graphviz): the graph is
    embedded as JSON and drawn as SVG by inline JavaScript.  Ops are
    ellipses; inputs (green), shared variables (cyan), constants (grey) and
    outputs (blue) are boxes, placed in layers from inputs (top) to outputs
    (bottom).  Hovering or clicking a node shows its type, its ``pp`` form
    and, for ops, the toposort position; the page pans, zooms and can
    highlight nodes by label; ``page.html#select=<label>`` opens with that node
    selected.  Like Theano's ``d3viz``.

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
        A function shows its optimized graph (``f.maker.fgraph``), with
        ``UPDATE`` edges from each update to its shared variable.
    outfile : str or None
        Where to write the page; None only returns it.
    max_label_size : int
        Longer labels are cut with ``...``.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> page = to_html((x ** 2).sum(), outfile=None)
    >>> page.startswith('<!DOCTYPE html>') and 'http' not in page.replace(
    ...     'http://www.w3.org/2000/svg', '')
    True
    """
    model = _html_model(fct, max_label_size=max_label_size)
    data = json.dumps(model).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = _HTML_TEMPLATE.replace("__TITLE__", html.escape(model["title"])).replace("__DATA__", data)
    if outfile is not None:
        with open(outfile, "w", encoding="utf-8") as fh:
            fh.write(page)
    return page
