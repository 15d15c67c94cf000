"""``pp`` / ``pprint``: Theano's one-line, fully parenthesised form of a graph (each op prints itself).

The walk is iterative (one toposort pass), so graphs thousands of nodes deep print.

An op prints itself (``Op.pprint``).  Theano's way of changing that is kept: ``pprint`` is a
:class:`PPrinter`, and ``pprint.assign(op_or_condition, printer)`` makes ``printer`` print the
matching variables (``FunctionPrinter('f')``, ``OperatorPrinter('+', precedence)``,
``PatternPrinter('%(0)s ^ %(1)s')``, ``MemberPrinter('T')``, ``IgnorePrinter()``, or any object
with Theano's ``process(output, pstate)``); the printers assigned last are tried first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable, io_toposort, leaf_str

__all__ = ["pp", "pprint", "PPrinter", "PrinterState", "OperatorPrinter", "PatternPrinter",
           "FunctionPrinter", "MemberPrinter", "IgnorePrinter", "LeafPrinter", "DefaultPrinter"]

_leaf_str = leaf_str  # Theano's LeafPrinter: one definition, in thx/graph/basic.py


def _pp(*args: Any, **kwargs: Any) -> str:
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
        assigned = _assigned_printer(node) if _ASSIGNED else None
        if assigned is not None:
            state = PrinterState(memo)
            for o in node.outputs:
                memo[o] = assigned.process(o, state)
            continue
        s = node.op.pprint(node, ins)
        for k, o in enumerate(node.outputs):
            memo[o] = s if len(node.outputs) == 1 else f"{s}[{k}]"
    return memo


# ------------------------------------------------------------------ Theano's printer objects

_ASSIGNED: list[tuple[Any, Any]] = []  # (condition(pstate, variable) -> bool, printer), newest first


def _assigned_printer(node: Any) -> Any:
    state = PrinterState({})
    for cond, printer in _ASSIGNED:
        if cond(state, node.outputs[0]):
            return printer
    return None


class PrinterState:
    """What a printer's ``process(output, pstate)`` gets: ``pstate.pprinter.process(v)`` is the
    string of a variable already printed (an input of the node being printed)."""

    def __init__(self, memo: dict, precedence: int = -1000) -> None:
        self.memo = memo
        self.precedence = precedence
        self.pprinter = _StringsOf(memo)


class _StringsOf:
    def __init__(self, memo: dict) -> None:
        self.memo = memo

    def process(self, r: Variable, pstate: Any = None) -> str:
        return self.memo[r] if r in self.memo else _leaf_str(r)


def _input_strings(output: Variable, pstate: PrinterState) -> list[str]:
    if output.owner is None:
        raise TypeError(f"a printer of an op cannot print the leaf variable {output}")
    return [pstate.pprinter.process(i, pstate) for i in output.owner.inputs]


class OperatorPrinter:
    """Prints ``(a <operator> b)`` (binary and more), ``(<operator>a)`` (unary), fully
    parenthesised as thx's built-in operators; ``precedence``/``assoc`` are Theano's signature."""

    def __init__(self, operator: str, precedence: int, assoc: str = "left") -> None:
        if assoc not in ("left", "right", "either"):
            raise ValueError(f"OperatorPrinter: assoc must be 'left', 'right' or 'either', got {assoc!r}")
        self.operator, self.precedence, self.assoc = operator, precedence, assoc

    def process(self, output: Variable, pstate: PrinterState) -> str:
        ins = _input_strings(output, pstate)
        if len(ins) == 1:
            return f"({self.operator}{ins[0]})"
        return "(" + f" {self.operator} ".join(ins) + ")"


class PatternPrinter:
    """Prints by a ``%``-pattern per output: ``PatternPrinter('%(0)s ^ %(1)s')`` (or
    ``(pattern, precedence...)`` tuples, Theano's form), ``%(k)s`` being input ``k``."""

    def __init__(self, *patterns: Any) -> None:
        self.patterns = [p[0] if isinstance(p, tuple) else p for p in patterns]

    def process(self, output: Variable, pstate: PrinterState) -> str:
        ins = _input_strings(output, pstate)
        k = output.owner.outputs.index(output)
        return self.patterns[k] % {str(i): s for i, s in enumerate(ins)}


class FunctionPrinter:
    """Prints ``name(inputs)``, one name per output (Theano's ``FunctionPrinter``)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def process(self, output: Variable, pstate: PrinterState) -> str:
        ins = _input_strings(output, pstate)
        k = output.owner.outputs.index(output)
        return f"{self.names[k]}({', '.join(ins)})"


class MemberPrinter:
    """Prints ``input.name``, one name per output (Theano's ``MemberPrinter``)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def process(self, output: Variable, pstate: PrinterState) -> str:
        ins = _input_strings(output, pstate)
        return f"{ins[0]}.{self.names[output.owner.outputs.index(output)]}"


class IgnorePrinter:
    """Prints the node's first input, as if the op were not there (Theano's ``IgnorePrinter``)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        return _input_strings(output, pstate)[0]


class LeafPrinter:
    """Prints a variable's name, or its type's description (Theano's ``LeafPrinter``)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        return _leaf_str(output)


class DefaultPrinter:
    """Prints as the op does by default (``Op.pprint``: ``op(inputs)`` for most)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        node = output.owner
        if node is None:
            return _leaf_str(output)
        s = node.op.pprint(node, _input_strings(output, pstate))
        return s if len(node.outputs) == 1 else f"{s}[{node.outputs.index(output)}]"


class PPrinter:
    """Theano's pretty printer object: calling it is :func:`pp`; ``assign`` changes how the
    variables a condition selects print.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> from thx.printing import pprint, FunctionPrinter
    >>> x = T.dvector('x')
    >>> pprint(T.exp(x) + 1)
    '(exp(x) + TensorConstant{1})'
    >>> pprint.assign(T.exp, FunctionPrinter('e^'))   # an op (an elementwise function's op)
    >>> pprint(T.exp(x) + 1)
    '(e^(x) + TensorConstant{1})'
    >>> pprint.remove(T.exp)
    """

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        return _pp(*args, **kwargs)

    __call__.__doc__ = _pp.__doc__

    def assign(self, condition: Any, printer: Any) -> None:
        """Print the variables ``condition`` selects with ``printer`` (its ``process(output,
        pstate)``).  ``condition``: an op (outputs of nodes whose op equals it), an op class
        (outputs of its instances), an elementwise function such as ``T.exp``, or a callable
        ``(pstate, variable) -> bool``."""
        _ASSIGNED.insert(0, (_condition(condition), printer))
        _KEYS.insert(0, condition)

    def remove(self, condition: Any) -> None:
        """Undo every ``assign`` of ``condition``."""
        keep = [(k, a) for k, a in zip(_KEYS, _ASSIGNED) if k is not condition]
        _KEYS[:] = [k for k, _ in keep]
        _ASSIGNED[:] = [a for _, a in keep]

    def process(self, r: Variable, pstate: Any = None) -> str:
        """The ``pp`` string of ``r``."""
        return _pp(r)


_KEYS: list[Any] = []


def _condition(condition: Any) -> Any:
    from thx.graph.op import Op
    op = getattr(condition, "op", None)  # an elementwise function (T.exp) carries its op
    if isinstance(op, Op) and not isinstance(condition, Op):
        condition = op
    if isinstance(condition, Op):
        return lambda pstate, r, c=condition: r.owner is not None and r.owner.op == c
    if isinstance(condition, type):
        return lambda pstate, r, c=condition: r.owner is not None and isinstance(r.owner.op, c)
    if callable(condition):
        return condition
    raise TypeError(f"pprint.assign: condition must be an op, an op class or a callable, got {condition!r}")


pprint = PPrinter()
pp = pprint


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
