"""Rewrites declared as data: ``(op, arg, ...)`` patterns and their replacement templates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.fg import FunctionGraph
from thx.graph.op import Op
from thx.rewriting.constants import scalar_value
from thx.rewriting.engine import LocalRewrite, Replacement, register


def _op_matcher(spec: Any) -> Callable[[Op], bool]:
    from thx.tensor.elemwise import Elemwise
    if isinstance(spec, str):
        return lambda op: isinstance(op, Elemwise) and op.scalar_op.name == spec
    if hasattr(spec, "op") and isinstance(spec.op, Op):
        spec = spec.op
    if isinstance(spec, Op):
        return lambda op: op == spec
    if isinstance(spec, type) and issubclass(spec, Op):
        return lambda op: isinstance(op, spec)
    raise TypeError(f"bad op in a pattern: {spec!r}")


def _compile_pattern(pat: Any) -> Any:
    """Patterns with op specs replaced by matcher functions (done once)."""
    if isinstance(pat, tuple):
        op = pat[0]
        commutative = False
        if hasattr(op, "op"):
            so = getattr(op.op, "scalar_op", None)
            commutative = bool(so is not None and so.commutative)
        if isinstance(op, str):
            from thx.tensor.elemwise import SCALAR_OPS
            commutative = SCALAR_OPS[op].commutative
        return (_op_matcher(op), commutative) + tuple(_compile_pattern(p) for p in pat[1:])
    return pat


def match(pattern: Any, var: Variable, bindings: dict[str, Variable]) -> bool:
    """Match a compiled pattern against ``var``, filling ``bindings``.

    A string binds a variable (the same name twice must be the same
    variable), a number matches a constant of that value (seen through
    broadcasting DimShuffles), a tuple ``(op, *args)`` matches a node.
    Recursion here follows the pattern (a few levels), not the graph.
    """
    if isinstance(pattern, str):
        bound = bindings.get(pattern)
        if bound is None:
            bindings[pattern] = var
            return True
        return bound is var
    if isinstance(pattern, tuple):
        node = var.owner
        if node is None or not pattern[0](node.op) or len(node.inputs) != len(pattern) - 2:
            return False
        args = pattern[2:]
        orders = [node.inputs]
        if pattern[1] and len(node.inputs) == 2:
            orders.append(node.inputs[::-1])
        for inputs in orders:
            trial = dict(bindings)
            if all(match(p, v, trial) for p, v in zip(args, inputs)):
                bindings.clear()
                bindings.update(trial)
                return True
        return False
    value = scalar_value(var)
    return value is not None and bool(value == pattern)


def _build(template: Any, bindings: dict[str, Variable], like: Variable) -> Variable:
    if isinstance(template, str):
        return bindings[template]
    if isinstance(template, tuple):
        fn, *args = template
        return fn(*[_build(a, bindings, like) for a in args])
    from thx.tensor.var import constant
    return constant(np.asarray(template, dtype=like.dtype))


def pattern(name: str, before: tuple, after: Any, phase: str | Sequence[str] | None = None,
            when: Callable[..., bool] | None = None, tags: Sequence[str] = ()) -> LocalRewrite:
    """A rewrite declared as data: ``before`` pattern -> ``after`` template.

    Parameters
    ----------
    name : str
        ``local_<what>``.
    before : tuple
        ``(op, arg, ...)``; op is an elementwise function, an Op, an Op
        class or a scalar-op name; args are variable names, numbers, or
        nested patterns.
    after : str, tuple or callable
        A variable name, a ``(function, arg, ...)`` template (numbers become
        constants of the replaced output's dtype), or ``f(**bindings)``.
    when : callable, optional
        ``when(**bindings) -> bool``: an extra condition.

    Examples
    --------
    >>> import thx.tensor as T
    >>> rw = pattern("local_pow_one", (T.pow, "x", 1), "x")   # x ** 1 -> x
    >>> rw.keys
    (('elemwise', 'pow'),)
    """
    compiled = _compile_pattern(before)

    def fn(fgraph: FunctionGraph, node: Apply) -> Replacement:
        b: dict[str, Variable] = {}
        if not match(compiled, node.outputs[0], b):
            return None
        if when is not None and not when(**b):
            return None
        out = after(**b) if callable(after) else _build(after, b, node.outputs[0])
        return [out]

    rw = LocalRewrite(fn, (before[0],), name, tags)
    if phase is not None:
        register(rw, phase)
    return rw
