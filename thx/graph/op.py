"""Op: the base class of every operation in a graph.

An Op keeps its whole story together: ``make_node`` (types and static
shapes), ``perform`` (the NumPy reference, used for constant folding),
``grad``/``L_op`` (the backward rule), ``R_op`` (the forward rule),
``infer_shape`` and its printed forms (``__str__``, ``pprint``, and for an
op that runs an inner graph, ``inner_graph``/``inner_to_outer`` for
debugprint and the drawings).  Its JAX implementation lives in
``thx/lowering/`` in the file named like the op's module.

A user's op (Theano's "Creating a new Op: Python implementation") subclasses
``Op`` the same way: ``make_node`` or ``itypes``/``otypes``, ``perform``,
optionally ``grad``, ``R_op`` and ``infer_shape`` with Theano 1.0's
signature ``(node, input_shapes)``.  Without a registered JAX lowering its
``perform`` runs on the host (``thx/lowering/perform.py``; docs/extending.md).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from thx.graph.basic import Apply, Variable

if TYPE_CHECKING:  # only for the annotation: fg imports this module
    from thx.graph.fg import FunctionGraph


class Op:
    """Base class for operations.

    ``__props__`` names the attributes that define the op: two ops of the
    same class with equal props are equal (and hash alike), so merge and
    the lowering cache see them as one.  A class that declares no
    ``__props__`` (nor inherits any from a class below ``Op``) compares by
    identity, as in Theano: two instances are never merged.

    ``itypes`` and ``otypes`` (lists of types) stand in for ``make_node``:
    the inputs must have exactly the types ``itypes``, and the outputs are
    new variables of the types ``otypes``.
    """

    __props__: tuple[str, ...] = ()
    # Number of outputs when called; ops with several outputs return a list.
    default_output: int | None = None
    itypes: Sequence[Any] | None = None
    otypes: Sequence[Any] | None = None
    _by_identity = True  # no __props__ declared: equality is identity (set per class below)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_identity = not any("__props__" in k.__dict__ for k in cls.__mro__ if k is not Op)

    def _props(self) -> tuple:
        return tuple(getattr(self, a) for a in self.__props__)

    def __eq__(self, other: object) -> bool:
        if self._by_identity:
            return self is other
        return type(self) is type(other) and self._props() == other._props()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        if self._by_identity:
            return id(self)
        return hash((type(self), self._props()))

    def __str__(self) -> str:
        if self.__props__:
            inner = ", ".join(f"{a}={getattr(self, a)}" for a in self.__props__)
            return f"{type(self).__name__}{{{inner}}}"
        return type(self).__name__

    def __repr__(self) -> str:  # follows subclasses' __str__ (Elemwise{add,no_inplace})
        return str(self)

    def __getstate__(self) -> dict:
        # attributes named _jax_* are caches of the lowering (jitted closures): not pickled
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_jax")}

    # ------------------------------------------------------------ building
    def make_node(self, *inputs: Any) -> Apply:
        """Build the Apply node of this op on ``inputs`` (checks and infers types).

        The default uses ``itypes``/``otypes``: a non-variable input becomes a
        constant of its ``itype``; a variable must have exactly that type.
        """
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(f"{type(self).__name__}: you can either define itypes and "
                                      f"otypes, or implement make_node")
        if len(inputs) != len(self.itypes):
            raise ValueError(f"We expected {len(self.itypes)} inputs but got {len(inputs)}.")
        inputs = tuple(x if isinstance(x, Variable) or t.constant_type is None
                       else t.constant_type(t, x) for x, t in zip(inputs, self.itypes))
        if not all(isinstance(x, Variable) and x.type == t for x, t in zip(inputs, self.itypes)):
            raise TypeError(f"We expected inputs of types '{list(self.itypes)}' but got types "
                            f"'{[getattr(x, 'type', type(x).__name__) for x in inputs]}'")
        return Apply(self, list(inputs), [t() for t in self.otypes])

    def __call__(self, *inputs: Any, **kwargs: Any):
        node = self.make_node(*inputs, **kwargs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    # ------------------------------------------------------------ reference
    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        """Compute the outputs with NumPy (the reference; used for constant folding)."""
        raise NotImplementedError(f"{type(self).__name__} has no NumPy perform")

    # ------------------------------------------------------------ derivatives
    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list[Variable]:
        """Gradients of a scalar cost w.r.t. ``inputs`` given those w.r.t. the outputs."""
        raise NotImplementedError(f"{type(self).__name__}.grad is not implemented")

    def L_op(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
             output_grads: Sequence[Variable]) -> list[Variable]:
        """Like ``grad``, with the forward outputs available (reuse them)."""
        return self.grad(inputs, output_grads)

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Variable | None]) -> list[Variable | None]:
        """Jacobian-vector products of the outputs along ``eval_points`` (None: zero)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement R_op (the R operator); "
            f"Rop through this op is not supported.")

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """``[input][output]`` booleans: does the output depend on the input?"""
        return [[True] * len(node.outputs) for _ in node.inputs]

    def infer_shape(self, fgraph, node: Apply, input_shapes: list) -> list:
        """Symbolic output shapes from input shapes (tuples of scalar variables)."""
        raise NotImplementedError(f"{type(self).__name__}.infer_shape")

    # ------------------------------------------------------------ printing
    def pprint(self, node: Apply, ins: list[str]) -> str:
        """``pp``'s one-line form of ``node``, given the strings of its inputs."""
        return f"{self}({', '.join(ins)})"

    @property
    def inner_graph(self) -> FunctionGraph | None:
        """The graph this op runs inside itself (Scan's step), or None for an ordinary op.

        debugprint prints it in an "Inner graphs" section, ``pydotprint(...,
        scan_graphs=True)`` draws it and the HTML viewer lists its outputs.
        """
        return None

    @property
    def inner_inputs(self) -> list[Variable]:
        """The inputs of ``inner_graph`` (empty without one)."""
        g = self.inner_graph
        return [] if g is None else list(g.inputs)

    @property
    def inner_outputs(self) -> list[Variable]:
        """The outputs of ``inner_graph`` (empty without one)."""
        g = self.inner_graph
        return [] if g is None else list(g.outputs)

    def inner_to_outer(self, node: Apply) -> dict[Variable, Variable]:
        """Which outer input of ``node`` each inner input stands for (debugprint's ``->`` links)."""
        return {}


def has_perform(op: Op) -> bool:
    """True if ``op``'s class defines its own ``perform`` (a NumPy implementation)."""
    return type(op).perform is not Op.perform


@functools.lru_cache(maxsize=None)
def _theano_signature(function: Any) -> bool:
    """True if an ``infer_shape`` function (unbound: ``self`` first) takes Theano 1.0's
    ``(node, input_shapes)``, not thx's ``(fgraph, node, input_shapes)``."""
    try:
        params = [p for p in inspect.signature(function).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 3


def call_infer_shape(op: Op, fgraph: Any, node: Apply, input_shapes: list) -> list:
    """``op.infer_shape`` called with the signature its class defines: thx's (and PyTensor's)
    ``(fgraph, node, input_shapes)`` or Theano 1.0's ``(node, input_shapes)``."""
    function = getattr(type(op), "infer_shape", None)
    if function is not None and _theano_signature(function):
        return op.infer_shape(node, input_shapes)
    return op.infer_shape(fgraph, node, input_shapes)
