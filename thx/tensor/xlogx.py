"""Theano's ``theano.tensor.xlogx`` module: ``xlogx`` and ``xlogy0``, with 0 * log(0) = 0.

Both are rows of the elementwise table (``thx.tensor.elemwise.SCALAR_OPS``),
added here; their JAX implementations sit in ``thx/lowering/elemwise.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Variable
from thx.tensor.elemwise import SCALAR_OPS, ScalarOp, elemwise_op, float_out, log

__all__ = ["xlogx", "xlogy0", "XlogX", "XlogY0", "scalar_xlogx", "scalar_xlogy0"]


def _xlogx_np(x):
    x = np.asarray(x)
    out = float_out([str(x.dtype)])
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0, x * np.log(x)).astype(out)


def _xlogy0_np(x, y):
    x, y = np.asarray(x), np.asarray(y)
    out = float_out([str(x.dtype), str(y.dtype)])
    with np.errstate(all="ignore"):
        return np.where(x == 0, 0, x * np.log(y)).astype(out)


def _xlogx_jax(ns):
    jnp = ns.jnp
    return lambda x: jnp.where(x == 0, 0, x * jnp.log(jnp.where(x == 0, 1, x))).astype(x.dtype)


def _xlogy0_jax(ns):
    jnp = ns.jnp
    return lambda x, y: jnp.where(x == 0, 0, x * jnp.log(jnp.where(x == 0, 1, y)))


# Theano's gradients: d/dx x log x = 1 + log x; d xlogy0 = (log y, x / y).
XlogX = ScalarOp("xlogx", 1, None, float_out, _xlogx_np, _xlogx_jax,
                 lambda i, o, g: [g * (1 + log(i[0]))])
XlogY0 = ScalarOp("xlogy0", 2, None, float_out, _xlogy0_np, _xlogy0_jax,
                  lambda i, o, g: [g * log(i[1]), g * i[0] / i[1]])
scalar_xlogx, scalar_xlogy0 = XlogX, XlogY0  # Theano's names of the scalar ops
SCALAR_OPS.setdefault("xlogx", XlogX)
SCALAR_OPS.setdefault("xlogy0", XlogY0)
_xlogx_op = elemwise_op(XlogX)
_xlogy0_op = elemwise_op(XlogY0)


def xlogx(x: Any) -> Variable:
    """``x * log(x)`` elementwise, 0 where ``x == 0`` (Theano's ``tensor.xlogx.xlogx``).

    Its gradient is ``1 + log(x)``.

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.tensor.xlogx import xlogx
    >>> x = T.dvector('x')
    >>> xlogx(x).eval({x: np.array([0.0, 1.0, np.e])})
    array([0.        , 0.        , 2.71828183])
    """
    return _xlogx_op(x)


def xlogy0(x: Any, y: Any) -> Variable:
    """``x * log(y)`` elementwise, 0 where ``x == 0`` (Theano's ``tensor.xlogx.xlogy0``).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.tensor.xlogx import xlogy0
    >>> x, y = T.dvectors('x', 'y')
    >>> xlogy0(x, y).eval({x: np.array([0.0, 2.0]), y: np.array([0.0, np.e])})
    array([0., 2.])
    """
    return _xlogy0_op(x, y)
