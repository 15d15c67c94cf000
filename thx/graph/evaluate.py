"""The one NumPy interpreter of graphs: run each Apply's ``op.perform`` in topological order.

Used by ``Scan.perform`` (its inner graph, once per step), by constant folding's
callers and by the tests, where it is an oracle independent of JAX.  The walk is
iterative (``io_toposort``), so graphs thousands of nodes deep evaluate fine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from thx.graph.basic import Apply, Constant, Variable, io_toposort


def evaluate(outputs: Sequence[Variable], givens: Mapping[Variable, Any]) -> list[Any]:
    """Values of ``outputs``, given values of the variables in ``givens``.

    Each Apply between ``givens`` and ``outputs`` runs its op's NumPy
    ``perform``; constants supply their own data.  ``givens`` may bind any
    variables, not only graph inputs: evaluation stops there.

    Parameters
    ----------
    outputs
        The variables wanted.
    givens
        A value for every non-constant root the outputs depend on.

    Returns
    -------
    list
        One value per output, as ``perform`` produced it (no dtype cast).

    Raises
    ------
    ValueError
        If a non-constant root of the graph has no value in ``givens``.

    Examples
    --------
    >>> import numpy as np
    >>> import thx.tensor as T
    >>> from thx.graph.evaluate import evaluate
    >>> x = T.dvector("x")
    >>> evaluate([T.exp(x) * 2], {x: np.zeros(2)})
    [array([2., 2.])]
    """
    env: dict[Variable, Any] = dict(givens)
    for node in io_toposort(list(env), outputs):
        ins = [_value(env, v, node) for v in node.inputs]
        storage: list[list[Any]] = [[None] for _ in node.outputs]
        node.op.perform(node, ins, storage)
        for o, (val,) in zip(node.outputs, storage):
            env[o] = val
    return [_value(env, o, None) for o in outputs]


def _value(env: dict[Variable, Any], v: Variable, node: Apply | None) -> Any:
    if v in env:
        return env[v]
    if isinstance(v, Constant):
        return v.data
    where = f" (an input of {node.op})" if node is not None else ""
    raise ValueError(f"evaluate: no value given for variable {v}{where}")
