"""Printing graphs: ``pp`` (Theano's pretty printer) and ``debugprint``.

Each op says how it prints (its ``pprint`` method); this module walks the
graph (iteratively) and handles leaves, constants and formatting.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from thx.config import config
from thx.graph.basic import Apply, Constant, Variable, io_toposort

__all__ = ["pp", "pprint", "debugprint", "min_informative_str"]


def _leaf_str(v: Variable) -> str:
    if isinstance(v, Constant):
        if config.print_constants == "short" and v.name is None:
            from thx.tensor.var import _constant_text
            return _constant_text(v.data) if hasattr(v, "data") else str(v)
        return str(v)
    if v.name is not None:
        return v.name
    return f"<{v.type}>"


def _default_pprint(node: Apply, ins: list[str]) -> str:
    return f"{node.op}({', '.join(ins)})"


def pp(*args: Any, **kwargs: Any) -> str:
    """Theano's pretty printer: a one-line, fully parenthesised form of a graph.

    Accepts a variable, a list of variables, or a compiled function (its
    optimized outputs).  Constants print as ``TensorConstant{2}`` or, with
    ``config.print_constants = 'short'``, as ``2``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> pp((x + 1) * x)
    '((x + TensorConstant{1}) * x)'
    """
    if len(args) != 1:
        raise TypeError("pp takes one variable, list of variables, or function")
    obj = args[0]
    if hasattr(obj, "maker"):
        outs = obj.maker.fgraph.outputs
        return "\n".join(_pp_var(o) for o in outs)
    if hasattr(obj, "outputs") and hasattr(obj, "toposort"):  # a FunctionGraph
        return "\n".join(_pp_var(o) for o in obj.outputs)
    if isinstance(obj, (list, tuple)):
        return "\n".join(_pp_var(o) for o in obj)
    if not isinstance(obj, Variable):
        raise TypeError(f"pp cannot print {type(obj).__name__}: give it a variable or a function")
    return _pp_var(obj)


pprint = pp


def _pp_var(out: Variable) -> str:
    memo: dict[Variable, str] = {}
    for node in io_toposort([], [out]):
        ins = [memo[i] if i in memo else _leaf_str(i) for i in node.inputs]
        printer = getattr(node.op, "pprint", None)
        if printer is None:
            s = _default_pprint(node, ins)
            if len(node.outputs) > 1:
                for k, o in enumerate(node.outputs):
                    memo[o] = f"{s}[{k}]"
                continue
        else:
            s = printer(node, ins)
        for k, o in enumerate(node.outputs):
            memo[o] = s if len(node.outputs) == 1 else f"{s}[{k}]"
    return memo.get(out, _leaf_str(out))


def _id_gen(ids: str):
    count = [0]

    def next_id() -> str:
        n = count[0]
        count[0] += 1
        if ids == "int":
            return str(n)
        if ids == "":
            return ""
        s = ""
        n1 = n + 1
        while n1:
            n1, r = divmod(n1 - 1, 26)
            s = chr(65 + r) + s
        return s
    return next_id


def debugprint(obj: Any, depth: int = -1, print_type: bool = False, file: Any = None,
               ids: str = "CHAR", stop_on_name: bool = False, done: dict | None = None,
               print_storage: bool = False, used_ids: dict | None = None) -> Any:
    """Print a graph as an indented tree, one node per line, in Theano's format.

    Parameters
    ----------
    obj : Variable, list of Variable, Apply, or compiled Function
    depth : int
        Print at most this many levels (-1: all).
    print_type : bool
        Also print each variable's type.
    file : file-like, ``'str'`` or None
        Where to write (``'str'`` returns the text; None prints to stdout).
    ids : {'CHAR', 'id', 'int', ''}
        How nodes are labelled (``[id A]``).
    stop_on_name : bool
        Do not expand named intermediate variables.

    Returns
    -------
    str if ``file == 'str'``, else ``file`` (or sys.stdout).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> print(debugprint(x * 2, file='str'))
    Elemwise{mul,no_inplace} [id A] ''
     |x [id B]
     |TensorConstant{2} [id C]
    """
    buf = io.StringIO()
    order: dict[Apply, int] | None = None
    if hasattr(obj, "maker"):
        fg = obj.maker.fgraph
        outs = list(fg.outputs)
        order = {n: i for i, n in enumerate(fg.toposort())}
    elif isinstance(obj, Variable):
        outs = [obj]
    elif isinstance(obj, Apply):
        outs = list(obj.outputs)
    elif isinstance(obj, (list, tuple)):
        outs = list(obj)
    elif hasattr(obj, "outputs") and hasattr(obj, "toposort"):
        outs = list(obj.outputs)
        order = {n: i for i, n in enumerate(obj.toposort())}
    else:
        raise TypeError(f"debugprint cannot print {type(obj).__name__}")
    ids_of: dict[Any, str] = {} if used_ids is None else used_ids
    next_id = _id_gen(ids if ids != "id" else "id")
    done_set: set = set() if done is None else set(done)
    for out in outs:
        _debugprint_one(out, buf, depth, print_type, ids, stop_on_name, done_set, ids_of, next_id, order)
    text = buf.getvalue()
    if file == "str":
        return text.rstrip("\n")
    target: TextIO = sys.stdout if file is None else file
    target.write(text)
    return target


def _debugprint_one(out, buf, depth, print_type, ids, stop_on_name, done, ids_of, next_id, order):
    # Explicit stack of (variable, prefix, level) in pre-order.
    stack: list[tuple[Variable, str, int]] = [(out, "", 0)]
    while stack:
        var, prefix, level = stack.pop()
        node = var.owner
        key = node if node is not None else var
        if ids == "id":
            label = f"[id {id(key)}]"
        elif ids == "":
            label = ""
        else:
            if key not in ids_of:
                ids_of[key] = next_id()
            label = f"[id {ids_of[key]}]"
        type_str = f" <{var.type}>" if print_type else ""
        if node is None:
            buf.write(f"{prefix}{_leaf_str(var) if isinstance(var, Constant) else (var.name or '<' + str(var.type) + '>')} {label}{type_str}".rstrip() + "\n")
            continue
        op_str = str(node.op)
        if len(node.outputs) > 1:
            op_str += f".{var.index}"
        name = var.name or ""
        line = f"{prefix}{op_str} {label} '{name}'{type_str}"
        if order is not None and node in order:
            line += f"   {order[node]}"
        buf.write(line + "\n")
        if key in done:
            continue
        done.add(key)
        if depth != -1 and level + 1 >= depth:
            continue
        if stop_on_name and var.name and level > 0:
            continue
        child_prefix = prefix + " |"
        for inp in reversed(node.inputs):
            stack.append((inp, child_prefix, level + 1))


def min_informative_str(obj: Any, indent_level: int = 0) -> str:
    """A short multi-line description of a variable's graph (names and ops)."""
    return debugprint(obj, file="str", ids="CHAR")


def _pydot_missing(*args, **kwargs):  # pragma: no cover - replaced when graph drawing lands
    raise ImportError("pydotprint needs Graphviz (the `dot` program); it is not installed")


def var_descriptor(v: Variable) -> str:
    return _pp_var(v)


_ = (Sequence,)
