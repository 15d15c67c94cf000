"""jacobian and hessian: gradients of every entry of an expression, looped with scan (Theano's recipe).

They are ``thx.gradient.jacobian`` / ``thx.gradient.hessian`` for users; they live here because
they build a scan, a layer above the gradient core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import thx.tensor as T
from thx.gradient import _format_as, grad
from thx.graph.basic import Variable
from thx.scan.frontend import scan

__all__ = ["jacobian", "hessian"]


def jacobian(expression: Variable, wrt: Variable | Sequence[Variable],
             consider_constant: Sequence[Variable] | None = None,
             disconnected_inputs: str = "raise") -> Any:
    """Jacobian of ``expression`` w.r.t. ``wrt``, built with ``scan`` as in Theano.

    The expression is flattened to a vector ``y``; a scan over
    ``arange(y.shape[0])`` computes ``grad(y[i], wrt)`` (the tutorial's
    recipe). That scan is a map, so it runs as one ``jax.vmap`` pass.

    Parameters
    ----------
    expression : Variable
        Any number of dimensions (a scalar gives its gradient).
    wrt : Variable or list of Variable
        A list (or tuple) in gives a list (or tuple) out.
    consider_constant : list of Variable, optional
    disconnected_inputs : {'raise', 'warn', 'ignore'}

    Returns
    -------
    Variable or list of Variable
        For each ``wrt``, shape ``expression.shape + wrt.shape`` (for a vector
        expression this is Theano's ``(len(y),) + wrt.shape``).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> J = thx.gradient.jacobian(x ** 2, x)
    >>> thx.function([x], J)([4., 4.])
    array([[8., 0.],
           [0., 8.]])
    """
    expression = T.as_tensor_variable(expression)
    like = wrt
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    for k, w in enumerate(wrt_list):
        if not isinstance(w, Variable):
            raise TypeError(f"jacobian: wrt[{k}] must be a Variable, got {type(w).__name__}: {w!r}")
    if expression.ndim == 0:
        out = grad(expression, wrt_list, consider_constant=consider_constant,
                   disconnected_inputs=disconnected_inputs)
    else:
        flat = expression.flatten() if expression.ndim > 1 else expression

        def inner(i, y, *ws):
            return grad(y[i], list(ws), consider_constant=consider_constant,
                        disconnected_inputs=disconnected_inputs)

        jac, updates = scan(inner, sequences=T.arange(flat.shape[0]),
                            non_sequences=[flat] + wrt_list, return_list=True)
        assert not updates, "scan returned updates while computing a jacobian"
        out = list(jac)
        if expression.ndim > 1:
            out = [T.reshape(j, tuple(expression.shape[d] for d in range(expression.ndim))
                             + tuple(w.shape[d] for d in range(w.ndim)), ndim=expression.ndim + w.ndim)
                   for j, w in zip(out, wrt_list)]
    return _format_as(like, out)


def hessian(cost: Variable, wrt: Variable | Sequence[Variable],
            consider_constant: Sequence[Variable] | None = None,
            disconnected_inputs: str = "raise") -> Any:
    """Hessian of the scalar ``cost`` w.r.t. each element of ``wrt`` (via ``scan``, as Theano).

    For each ``w``: the jacobian of ``grad(cost, w)`` w.r.t. ``w``. As in
    Theano, the inner gradients use ``disconnected_inputs='ignore'`` (a cost
    linear in ``w`` has a zero Hessian); ``disconnected_inputs`` applies to
    ``grad(cost, w)``.

    Parameters
    ----------
    cost : scalar Variable
    wrt : Variable or list of Variable
        Vectors in Theano; any number of dimensions here.
    consider_constant : list of Variable, optional
    disconnected_inputs : {'raise', 'warn', 'ignore'}

    Returns
    -------
    Variable or list of Variable
        For each ``w``, shape ``w.shape + w.shape``.

    Raises
    ------
    TypeError
        If ``cost`` is not a scalar.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> thx.function([x], thx.gradient.hessian(T.sum(x ** 2), x))([4., 4.])
    array([[2., 0.],
           [0., 2.]])
    """
    cost = T.as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: cost must be a scalar, got {cost.type} ({cost})")
    like = wrt
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    out = []
    for w in wrt_list:
        g = grad(cost, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        out.append(jacobian(g, w, consider_constant=consider_constant, disconnected_inputs="ignore"))
    return _format_as(like, out)
