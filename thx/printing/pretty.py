"""``pp`` / ``pprint``: Theano's one-line, fully parenthesised form of a graph (each op prints itself).

The walk is iterative (one toposort pass), so graphs thousands of nodes deep print.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable, io_toposort, leaf_str

__all__ = ["pp", "pprint"]

_leaf_str = leaf_str  # Theano's LeafPrinter: one definition, in thx/graph/basic.py


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
        s = node.op.pprint(node, ins)
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
