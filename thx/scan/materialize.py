"""Materialize: an identity that asks the backend to compute its input once, into memory.

A map-like scan lowers to ``jax.vmap``; values of its step that do not
depend on the mapped sequences (``sin(x)`` in the step of a Hessian) are
computed once by JAX, but XLA's loop fusion then recomputes such an
elementwise value for every element of the ``n x n`` result it feeds.
``thx.rewriting.scan.hoist_invariants`` puts this op on those values, and
its lowering (``thx/lowering/scan.py``) stores them before the map reads
them.
"""

from __future__ import annotations

from thx.graph.basic import Apply, as_variable
from thx.graph.op import Op

__all__ = ["Materialize", "materialize"]


class Materialize(Op):
    """Identity in value and gradient; a fusion boundary when lowered.

    Not a ``gradient._ViewOp``, though it has the same identity skeleton: the optimizer removes
    view ops, and this one must survive until lowering.
    """

    __props__ = ()

    def make_node(self, x):
        x = as_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0]

    def L_op(self, inputs, outputs, grads):
        return [grads[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def pprint(self, node, ins):
        return ins[0]


materialize = Materialize()
