"""Helpers shared by the rule files: phase names, reading an Elemwise node, building one, keeping shapes."""

from __future__ import annotations

from collections.abc import Sequence

from thx.graph.basic import Variable
from thx.tensor import elemwise as E
from thx.tensor.elemwise import SCALAR_OPS, Elemwise, elemwise_op

CANON = "canonicalize"
ALL_PHASES = ("canonicalize", "specialize")


def op_name(v: Variable) -> str | None:
    """The scalar-op name of the Elemwise computing ``v`` (None otherwise).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> op_name(T.exp(x)), op_name(x)
    ('exp', None)
    """
    n = v.owner
    if n is not None and isinstance(n.op, Elemwise):
        return n.op.scalar_op.name
    return None


def n_clients(fgraph, v: Variable) -> int:
    """How many nodes (or graph outputs) of ``fgraph`` read ``v``."""
    return len(fgraph.clients.get(v, ()))


def apply_op(name: str, *args: Variable) -> Variable:
    """The elementwise op of table row ``name`` applied to ``args``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> print(apply_op('mul', x, x))
    Elemwise{mul,no_inplace}.0
    """
    return elemwise_op(SCALAR_OPS[name])(*args)


def contributes_shape(model: Variable, v: Variable) -> bool:
    """True if ``model`` has a non-broadcastable dim where ``v`` broadcasts."""
    return any(vb and not mb for vb, mb in zip(v.broadcastable, model.broadcastable))


def keep_shapes(result: Variable, models: Sequence[Variable]) -> Variable:
    """``result`` filled to the shape of ``models`` wherever they give it a dimension.

    A rewrite that drops a term (``x - x -> 0``) keeps the shape the term gave.
    """
    for m in models:
        if contributes_shape(m, result):
            result = E.second(m, result)
    return result
