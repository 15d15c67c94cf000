"""``theano.clone``: copy a graph, replacing some of its variables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Constant, Variable, io_toposort

__all__ = ["clone"]


def clone(output: Variable | Sequence[Variable], replace: Any = None, strict: bool = True,
          share_inputs: bool = True, copy_inputs: Any = None) -> Any:
    """A copy of the graph computing ``output``, with the variables in ``replace`` substituted.

    Parameters
    ----------
    output : Variable or list of Variable
        What to copy; a list gives a list.
    replace : dict or list of pairs, optional
        ``{old: new}``: ``old`` is replaced by ``new`` in the copy (what only
        ``old`` computed is not copied).
    strict : bool
        If True, a replacement must have exactly the type of the variable it
        replaces; if False, a compatible type (another broadcastable pattern) is accepted.
    share_inputs : bool
        If True the copy uses the same root inputs (and shared variables) as
        ``output``; if False they are cloned too (a cloned shared variable
        shares its value).
    copy_inputs : bool, optional
        Deprecated Theano spelling of ``not share_inputs``.

    Returns
    -------
    Variable or list of Variable

    Raises
    ------
    TypeError
        If ``strict`` and a replacement's type differs from the original's.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> z = thx.clone(x ** 2 + 1, replace={x: y})
    >>> thx.pp(z)
    '((y ** TensorConstant{2}) + TensorConstant{1})'
    """
    if copy_inputs is not None:
        share_inputs = not copy_inputs
    single = isinstance(output, Variable)
    outs = [output] if single else list(output)
    pairs = list(replace.items()) if isinstance(replace, dict) else list(replace or [])
    memo: dict[Variable, Variable] = {}
    for old, new in pairs:
        if not isinstance(old, Variable) or not isinstance(new, Variable):
            raise TypeError(f"clone: replace must map Variables to Variables, got {old!r}: {new!r}")
        if new.type != old.type:
            converted = old.type.convert_variable(new) if not strict else None
            if converted is None:
                raise TypeError(f"clone: cannot replace {old} (type {old.type}) by {new} (type "
                                f"{new.type})" + (" with strict=True" if strict else ""))
            new = converted
        memo[old] = new
    for node in io_toposort(list(memo), outs):
        if all(o in memo for o in node.outputs):
            continue
        for v in node.inputs:
            if v not in memo:
                fresh = not share_inputs and v.owner is None and not isinstance(v, Constant)
                memo[v] = v.clone() if fresh else v
        new_node = node.clone_with_new_inputs([memo[v] for v in node.inputs], strict=False)
        for o, n in zip(node.outputs, new_node.outputs):
            n.name = o.name
            memo.setdefault(o, n)
    result = []
    for o in outs:
        if o not in memo:
            fresh = not share_inputs and o.owner is None and not isinstance(o, Constant)
            memo[o] = o.clone() if fresh else o
        result.append(memo[o])
    return result[0] if single else result
