"""``theano.gradient.subgraph_grad``: backpropagate through a graph one subgraph at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.gradient import grad
from thx.graph.basic import Variable

__all__ = ["subgraph_grad"]


def subgraph_grad(wrt: Sequence[Variable], end: Sequence[Variable], start: dict | None = None,
                  cost: Variable | None = None, details: bool = False) -> tuple:
    """Gradients of one subgraph, given the gradients arriving at its outputs (Theano's signature).

    The subgraph lies between ``end`` (its inputs, held constant) and the
    variables of ``start`` and/or ``cost``.  Calling this on successive
    subgraphs, feeding each call's ``end`` gradients as the next ``start``,
    gives the same gradients as one ``grad`` over the whole graph, while
    letting each piece be handled (or truncated, scaled ...) separately.

    Parameters
    ----------
    wrt : list of Variable
        Variables inside the subgraph whose gradients are wanted.
    end : list of Variable
        The subgraph's inputs: gradients stop there and are returned too.
    start : dict, optional
        ``{variable: gradient}`` known at the subgraph's outputs.
    cost : scalar Variable, optional
        A cost whose gradient is added to the one coming from ``start``.
    details : bool
        Also return the gradients from ``start`` and from ``cost`` separately.

    Returns
    -------
    tuple
        ``(wrt_grads, end_grads)``, or ``(wrt_grads, end_grads, start_grads,
        cost_grads)`` with ``details``; the last two list ``wrt + end`` gradients
        (duplicates removed, first occurrence kept), or None when not given.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, w1, w2 = T.dscalars('x', 'w1', 'w2')
    >>> h = T.tanh(w1 * x)
    >>> cost = (w2 * h) ** 2
    >>> g2, gh = thx.subgraph_grad(wrt=[w2], end=[h], cost=cost)
    >>> g1, _ = thx.subgraph_grad(wrt=[w1], end=[x], start={h: gh[0]})
    >>> full = T.grad(cost, w1)
    >>> f = thx.function([x, w1, w2], [g1[0], full])
    >>> a, b = f(0.5, 0.3, 2.0)
    >>> bool(np.isclose(a, b))
    True
    """
    if cost is None and start is None:
        raise ValueError("subgraph_grad: give a cost, a start dict of known gradients, or both")
    if not isinstance(wrt, (list, tuple)) or not isinstance(end, (list, tuple)):
        raise TypeError("subgraph_grad: wrt and end must be lists of variables")
    if start is not None and not isinstance(start, dict):
        raise TypeError(f"subgraph_grad: start must be a dict {{variable: gradient}}, got "
                        f"{type(start).__name__}")
    params = list(dict.fromkeys(list(wrt) + list(end)))
    start_grads = cost_grads = None
    if start is not None:
        start_grads = list(grad(None, params, known_grads=dict(start), consider_constant=list(end),
                                disconnected_inputs="ignore"))
    if cost is not None:
        cost_grads = list(grad(cost, params, consider_constant=list(end),
                               disconnected_inputs="ignore"))
    if start_grads is None:
        grads = cost_grads
    elif cost_grads is None:
        grads = start_grads
    else:
        grads = [a + b for a, b in zip(start_grads, cost_grads)]
    by_param = dict(zip(params, grads))  # type: ignore[arg-type]
    wrt_grads = [by_param[v] for v in wrt]
    end_grads = [by_param[v] for v in end]
    if details:
        return wrt_grads, end_grads, start_grads, cost_grads
    return wrt_grads, end_grads
