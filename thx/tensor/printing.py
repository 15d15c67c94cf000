"""The ``Print`` op: an identity that prints its input's value while a compiled function runs.

Its JAX form (a ``jax.debug.callback``) is in ``thx/lowering/printing.py``;
users reach it as ``thx.printing.Print`` (Theano's ``theano.printing.Print``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor.var import as_tensor_variable

__all__ = ["Print"]


def _print_fn(op: "Print", xin: Any) -> None:
    for attr in op.attrs:
        temp = getattr(xin, attr)
        print(op.message, attr, "=", temp() if callable(temp) else temp)


class Print(Op):
    """An identity op that prints its input's value when the function runs (Theano's ``Print``).

    Parameters
    ----------
    message : str
        Printed before each attribute.
    attrs : tuple of str
        Attributes (or methods, called) of the NumPy value to print.
    global_fn : callable, optional
        ``global_fn(op, value)`` does the printing.

    Notes
    -----
    Compiled functions call it from inside the jitted code (through
    ``jax.debug.callback``); with several Print ops the order of the lines is
    only guaranteed between ops that depend on each other, as in Theano.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector()
    >>> hello_world_op = Print('hello world')
    >>> printed_x = hello_world_op(x)
    >>> f = thx.function([x], printed_x)
    >>> r = f([1, 2, 3])
    hello world __str__ = [1. 2. 3.]
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",), global_fn: Any = _print_fn) -> None:
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def __str__(self) -> str:
        return f"Print{{{self.message}}}" if self.message else "Print"

    def make_node(self, xin: Any) -> Apply:
        if not isinstance(xin, Variable):
            xin = as_tensor_variable(xin)
        return Apply(self, [xin], [xin.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        output_storage[0][0] = inputs[0]
        self.global_fn(self, inputs[0])

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list[Variable]:
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pprint(self, node: Apply, ins: list[str]) -> str:
        return ins[0]
