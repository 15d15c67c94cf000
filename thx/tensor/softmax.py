"""The softmax ops (Softmax, LogSoftmax): a float op along the last axis, stable, with gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.math import sum
from thx.tensor.type import float_dtypes
from thx.tensor.var import as_tensor_variable

__all__ = ["Softmax", "LogSoftmax", "softmax", "logsoftmax"]


class _LastAxisOp(Op):
    """A float op along the last axis whose output has the input's type (softmax family)."""

    __props__ = ()

    name = ""

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"{self.name} needs at least one dimension")
        if x.dtype not in float_dtypes:
            x = E.cast(x, "float64")
        if x.ndim == 1:
            # Theano 1.0: a vector is taken as a one-row matrix, and so is the result
            x = x.dimshuffle("x", 0)
        return Apply(self, [x], [x.type()])

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self._jvp(self(inputs[0]), eval_points[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def pprint(self, node, ins):
        return f"{self.name}({ins[0]})"


class Softmax(_LastAxisOp):
    """``exp(x) / sum(exp(x))`` along the last axis, computed stably."""

    name = "softmax"

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        out[0][0] = (e / np.sum(e, axis=-1, keepdims=True)).astype(x.dtype)

    def L_op(self, inputs, outputs, grads):
        (sm,), (gz,) = outputs, grads
        owner = gz.owner
        if (owner is not None and getattr(getattr(owner.op, "scalar_op", None), "name", None) == "true_div"
                and owner.inputs[1] is sm):
            # gz = g / sm comes from log(softmax(x)): (g/sm - sum(g))*sm -> g - sum(g)*sm, finite
            # where sm underflows to 0 (Theano's local_log_softmax gradient rewrite)
            g = owner.inputs[0]
            return [g - sum(g, axis=-1, keepdims=True) * sm]
        return [(gz - sum(gz * sm, axis=-1, keepdims=True)) * sm]

    @staticmethod
    def _jvp(sm, ev):
        return sm * (ev - sum(ev * sm, axis=-1, keepdims=True))


class LogSoftmax(_LastAxisOp):
    """``x - logsumexp(x)`` along the last axis."""

    name = "logsoftmax"

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        m = np.max(x, axis=-1, keepdims=True)
        out[0][0] = (x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))).astype(x.dtype)

    def L_op(self, inputs, outputs, grads):
        (ls,), (gz,) = outputs, grads
        return [gz - E.exp(ls) * sum(gz, axis=-1, keepdims=True)]

    @staticmethod
    def _jvp(ls, ev):
        return ev - sum(E.exp(ls) * ev, axis=-1, keepdims=True)


_softmax = Softmax()
_logsoftmax = LogSoftmax()


def softmax(x: Any, axis: int = -1) -> Variable:
    """Softmax along the last axis (``axis`` other than -1 is transposed there).

    As in Theano 1.0, a vector ``x`` gives a one-row matrix ``(1, n)``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> thx.function([x], T.nnet.softmax(x))([0., 0.])
    array([[0.5, 0.5]])
    """
    x = as_tensor_variable(x)
    if axis in (-1, x.ndim - 1):
        return _softmax(x)
    order = [d for d in range(x.ndim) if d != axis % x.ndim] + [axis % x.ndim]
    inv = list(np.argsort(order))
    return _softmax(x.dimshuffle(order)).dimshuffle(inv)


def logsoftmax(x: Any, axis: int = -1) -> Variable:
    """``log(softmax(x))`` computed stably, along the last axis (a vector gives a ``(1, n)`` row)."""
    x = as_tensor_variable(x)
    if axis in (-1, x.ndim - 1):
        return _logsoftmax(x)
    order = [d for d in range(x.ndim) if d != axis % x.ndim] + [axis % x.ndim]
    inv = list(np.argsort(order))
    return _logsoftmax(x.dimshuffle(order)).dimshuffle(inv)
