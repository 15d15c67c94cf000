"""The ShardTo op: the identity, with a layout over the device mesh (lowered in ``thx/lowering/sharding.py``).

``thx.function`` puts these nodes into a graph from the sharding flags and
arguments (``thx/compile/sharding.py``); docs/distributed.md.
"""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Apply
from thx.graph.op import Op

__all__ = ["ShardTo"]


class ShardTo(Op):
    """The identity, with a layout over the device mesh (``spec``: a mesh axis or None per dimension).

    ``what`` names the variable in errors (a dimension that does not divide
    by its mesh axis); ``mesh`` is the mesh it was built for (``config.mesh``).
    """

    __props__ = ("spec", "mesh", "what")

    def __init__(self, spec: tuple, mesh: str, what: str) -> None:
        self.spec = tuple(spec)
        self.mesh = mesh
        self.what = what

    def make_node(self, x: Any) -> Apply:
        from thx.tensor.var import as_tensor_variable
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: Any, output_storage: Any) -> None:
        output_storage[0][0] = inputs[0]

    def grad(self, inputs: Any, output_grads: Any) -> list:
        return [output_grads[0]]  # the gradient's layout is XLA's to choose

    def R_op(self, inputs: Any, eval_points: Any) -> list:
        return list(eval_points)

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: list) -> list:
        return list(input_shapes)

    def pprint(self, node: Apply, ins: list[str]) -> str:
        return ins[0]  # a layout, not a computation: printed as its input

    def __str__(self) -> str:
        return f"ShardTo{{{', '.join(str(e) for e in self.spec)}}}"
