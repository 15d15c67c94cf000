"""Theano's ``OpFromGraph`` (``theano.OpFromGraph``, ``theano.compile.builders``): a graph
wrapped as one op.

``OpFromGraph(inputs, outputs)`` copies the graph from ``inputs`` to ``outputs`` into an inner
:class:`~thx.graph.fg.FunctionGraph`; applying the op to other variables computes the same
thing on them.  Shared variables the graph reads become hidden inputs of every node (as in
Theano), so the gradient reaches them.

* ``inline=True``: the optimizer replaces each node by a copy of the inner graph before any
  other rewrite (``local_inline_op_from_graph``), so the optimized graph no longer shows it.
* ``inline=False`` (default): the node stays in the optimized graph (``debugprint`` prints its
  inner graph); the lowering (``thx/lowering/op_from_graph.py``) traces the inner graph,
  optimized on its own, into the same ``jax.jit`` program: XLA sees one program either way.
* The gradient is another ``OpFromGraph`` (of the inputs and the output gradients), built once
  per op from ``grad_overrides``: ``'default'`` (the inner graph's gradient), a callable
  ``f(inputs, output_grads) -> list``, an ``OpFromGraph`` taking ``inputs + output_grads``, a
  ``NullType``/``DisconnectedType`` variable, or a list of one of those per input.
  ``rop_overrides`` works the same way for ``R_op`` (callables get ``(inputs, eval_points)``).

Two ops compare equal only if they are the same object (Theano's), so ``op(x)`` applied twice
merges, but two ``OpFromGraph`` of equal graphs do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from thx.graph.basic import Apply, Constant, Variable, ancestors, clone_replace, graph_inputs
from thx.graph.evaluate import evaluate
from thx.graph.fg import FunctionGraph, MissingInputError
from thx.graph.op import Op
from thx.graph.type import DisconnectedType, NullType
from thx.gradient import Rop, grad
from thx.tensor.sharedvar import SharedVariable
from thx.tensor.var import as_tensor_variable

__all__ = ["OpFromGraph"]

_OVERRIDE_TYPE_ERROR = ("Gradient override should be (single or list of) 'default' | OpFromGraph | "
                        "callable | Variable with NullType or DisconnectedType, got {}")


def _special(v: Any) -> bool:
    return isinstance(v, Variable) and isinstance(v.type, (NullType, DisconnectedType))


class OpFromGraph(Op):
    """An op computing ``outputs`` from ``inputs`` (Theano's ``OpFromGraph``).

    Parameters
    ----------
    inputs : list of Variable
        The graph's inputs; applying the op takes variables of the same types.
    outputs : list of Variable
        The graph's outputs (a list, as in Theano).
    inline : bool
        Replace each node by its graph before optimizing (True), or keep it (False).
    grad_overrides, rop_overrides : see the module docstring
    connection_pattern : list of list of bool, optional
        ``[input][output]``: which outputs depend on which inputs (default: from the graph).
    name : str, optional
        Printed instead of ``OpFromGraph``.
    **kwargs
        Theano's ``theano.function`` arguments for the inner function (``mode``,
        ``on_unused_input`` ...): accepted; thx compiles the inner graph into the outer
        function.  ``updates`` and ``givens`` are refused, as in Theano.

    Raises
    ------
    TypeError
        If ``outputs`` is not a list, an entry is not a Variable, or ``updates``/``givens`` are
        given.
    MissingInputError
        If the outputs depend on a variable that is neither an input, a shared variable nor a
        constant.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, y, z = T.scalars('xyz')
    >>> op = thx.OpFromGraph([x, y, z], [x + y * z])
    >>> f = thx.function([x, y, z], op(x, y, z) + op(z, y, x))
    >>> f(1., 2., 3.)
    array(12.)
    """

    def __init__(self, inputs: Sequence[Variable], outputs: list[Variable], inline: bool = False,
                 grad_overrides: Any = "default", rop_overrides: Any = "default",
                 connection_pattern: list[list[bool]] | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(outputs, list):
            raise TypeError(f"outputs must be list, got {type(outputs)}")
        inputs = list(inputs)
        for v in inputs + outputs:
            if not isinstance(v, Variable):
                raise TypeError("inputs and outputs must be Variable instances", v)
        if "updates" in kwargs or "givens" in kwargs:
            raise TypeError("updates and givens are not allowed here")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be None or a string, got {name!r}")
        self.is_inline = bool(inline)
        self.name = name
        self.kwargs = kwargs
        given = set(inputs)
        self.shared_inputs = [v for v in graph_inputs(outputs)
                              if isinstance(v, SharedVariable) and v not in given]
        local = [v.type() for v in inputs + self.shared_inputs]
        for new, old in zip(local, inputs + self.shared_inputs):
            new.name = old.name
        local_outputs = clone_replace(outputs, dict(zip(inputs + self.shared_inputs, local)))
        missing = [v for v in graph_inputs(local_outputs)
                   if v.owner is None and not isinstance(v, Constant) and v not in set(local)]
        if missing:
            raise MissingInputError(
                f"OpFromGraph: the outputs depend on {missing[0]}, which is not one of its inputs "
                f"(list it in inputs, or make it a shared variable)")
        self.fgraph = FunctionGraph(local, local_outputs, clone=False)
        self.input_types = [v.type for v in inputs]
        self.output_types = [v.type for v in outputs]
        self._connection_pattern = connection_pattern
        self._grad_overrides = grad_overrides
        self._rop_overrides = rop_overrides
        self._grad_op: tuple[OpFromGraph, list] | None = None
        self._rop_op: tuple[OpFromGraph, list] | None = None

    # ------------------------------------------------------------ the graph
    @property
    def local_inputs(self) -> list[Variable]:
        """The inner graph's inputs: the op's inputs, then one per shared variable."""
        return list(self.fgraph.inputs)

    @property
    def local_outputs(self) -> list[Variable]:
        """The inner graph's outputs."""
        return list(self.fgraph.outputs)

    @property
    def inner_graph(self) -> FunctionGraph:
        """The wrapped graph: debugprint prints it under "Inner graphs"."""
        return self.fgraph

    def inner_to_outer(self, node: Apply) -> dict[Variable, Variable]:
        return dict(zip(self.fgraph.inputs, node.inputs))

    def __str__(self) -> str:
        return f"{self.name or type(self).__name__}{{inline={self.is_inline}}}"

    # ------------------------------------------------------------ applying it
    def make_node(self, *inputs):
        if len(inputs) != len(self.input_types):
            raise ValueError(f"{self} takes {len(self.input_types)} inputs, got {len(inputs)}")
        ins = [_conform(v, t, self) for v, t in zip(inputs, self.input_types)]
        return Apply(self, ins + list(self.shared_inputs), [t() for t in self.output_types])

    def perform(self, node, inputs, out):
        values = evaluate(self.fgraph.outputs, dict(zip(self.fgraph.inputs, inputs)))
        for o, v in zip(out, values):
            o[0] = v

    def infer_shape(self, fgraph, node, input_shapes):
        from thx.tensor.shape import shape
        outs = self.fgraph.outputs
        dims = [shape(o)[d] for o in outs for d in range(o.ndim)]
        dims = clone_replace(dims, dict(zip(self.fgraph.inputs, node.inputs))) if dims else []
        res, k = [], 0
        for o in outs:
            res.append(tuple(dims[k:k + o.ndim]))
            k += o.ndim
        return res

    def connection_pattern(self, node) -> list[list[bool]]:
        if self._connection_pattern is not None:
            return [list(row) for row in self._connection_pattern]
        reach = [set(ancestors([o])) for o in self.fgraph.outputs]
        return [[i in r for r in reach] for i in self.fgraph.inputs]

    # ------------------------------------------------------------ derivatives
    def L_op(self, inputs, outputs, output_grads):
        op, overrides = self._gradient_op()
        grads = op(*inputs, *output_grads)
        grads = grads if isinstance(grads, list) else [grads]
        return [ov.type() if ov is not None else g for g, ov in zip(grads, overrides)]

    def R_op(self, inputs, eval_points):
        op, overrides = self._rop_op_built()
        points = [inp.zeros_like() if e is None else e for inp, e in zip(inputs, eval_points)]
        res = op(*inputs, *points)
        res = res if isinstance(res, list) else [res]
        return [ov if ov is not None else r for r, ov in zip(res, overrides)]

    def _gradient_op(self) -> tuple[OpFromGraph, list]:
        """The gradient as an OpFromGraph of ``local_inputs + output_grads``, and per input the
        special (Null/Disconnected) variable that replaces its result, or None."""
        if self._grad_op is None:
            self._grad_op = self._build_grad()
        return self._grad_op

    def _build_grad(self) -> tuple[OpFromGraph, list]:
        spec = self._grad_overrides
        local = self.local_inputs
        if isinstance(spec, OpFromGraph):
            return spec, [None] * len(local)
        ograds = [t() for t in self.output_types]

        def default(wrt):
            return grad(None, wrt, known_grads=dict(zip(self.local_outputs, ograds)),
                        disconnected_inputs="ignore", return_disconnected="Disconnected",
                        null_gradients="return") if wrt else []

        if isinstance(spec, str) and spec == "default":
            raw = default(local)
        elif isinstance(spec, Variable):
            if not _special(spec):
                raise ValueError(f"Overriding Variable instance can only have type of "
                                 f"DisconnectedType or NullType, got {spec.type}")
            raw = [spec.type() for _ in local]
        elif isinstance(spec, list):
            if len(spec) != len(local):
                raise ValueError(f"Need to override {len(local)} gradients, got {len(spec)}", spec)
            defaults = iter(default([v for v, s in zip(local, spec) if isinstance(s, str) and s == "default"]))
            raw = []
            for v, s in zip(local, spec):
                if isinstance(s, str) and s == "default":
                    raw.append(next(defaults))
                elif isinstance(s, Variable):
                    if not _special(s):
                        raise ValueError(f"Overriding Variable instance can only have type of "
                                         f"DisconnectedType or NullType, got {s.type}")
                    raw.append(s.type())
                elif callable(s):
                    raw.append(_call_override(s, local, ograds, single=True))
                else:
                    raise TypeError(_OVERRIDE_TYPE_ERROR.format(s))
        elif callable(spec):
            raw = _call_override(spec, local, ograds, single=False)
            if len(raw) != len(local):
                raise ValueError(f"Gradient overriding function should return list of {len(local)} "
                                 f"outputs, got {len(raw)}")
        else:
            raise TypeError(_OVERRIDE_TYPE_ERROR.format(spec))
        grads, overrides = [], []
        for g, v in zip(raw, local):
            if _special(g):
                grads.append(v.zeros_like())
                overrides.append(g)
            else:
                grads.append(_conform(as_tensor_variable(g), v.type, "gradient override"))
                overrides.append(None)
        op = OpFromGraph(local + ograds, grads, inline=self.is_inline,
                         name=None if self.name is None else self.name + "_grad",
                         on_unused_input="ignore")
        return op, overrides

    def _rop_op_built(self) -> tuple[OpFromGraph, list]:
        if self._rop_op is None:
            self._rop_op = self._build_rop()
        return self._rop_op

    def _build_rop(self) -> tuple[OpFromGraph, list]:
        spec = self._rop_overrides
        local, outs = self.local_inputs, self.local_outputs
        if isinstance(spec, OpFromGraph):
            return spec, [None] * len(outs)
        points = [v.type() for v in local]

        def default():
            return Rop(outs, local, points, disconnected_outputs="ignore")

        if isinstance(spec, str) and spec == "default":
            raw = default()
        elif callable(spec) and not isinstance(spec, Variable):
            raw = _call_override(spec, local, points, single=False)
        elif isinstance(spec, list):
            if len(spec) != len(outs):
                raise ValueError(f"Need to override {len(outs)} Rop outputs, got {len(spec)}", spec)
            base = default() if any(isinstance(s, str) and s == "default" for s in spec) else None
            raw = []
            for k, s in enumerate(spec):
                if isinstance(s, str) and s == "default":
                    raw.append(base[k])
                elif isinstance(s, Variable) and _special(s):
                    raw.append(s.type())
                elif callable(s):
                    raw.append(_call_override(s, local, points, single=True))
                else:
                    raise TypeError(_OVERRIDE_TYPE_ERROR.format(s))
        elif _special(spec):
            raw = [spec.type() for _ in outs]
        else:
            raise TypeError(_OVERRIDE_TYPE_ERROR.format(spec))
        res, overrides = [], []
        for r, o in zip(raw, outs):
            if isinstance(r, Variable) and isinstance(r.type, NullType):
                res.append(o.zeros_like())
                overrides.append(r)
            elif r is None or (isinstance(r, Variable) and isinstance(r.type, DisconnectedType)):
                res.append(o.zeros_like())  # R_op has no disconnected results: zeros, as Theano
                overrides.append(None)
            else:
                res.append(_conform(as_tensor_variable(r), o.type, "R_op override"))
                overrides.append(None)
        op = OpFromGraph(local + points, res, inline=self.is_inline,
                         name=None if self.name is None else self.name + "_rop",
                         on_unused_input="ignore")
        return op, overrides


def _call_override(fn: Callable, inputs: list, grads: list, single: bool) -> Any:
    res = fn(list(inputs), list(grads))
    if single:
        if isinstance(res, (list, tuple)):
            raise TypeError("an override in a list must return one Variable, got a "
                            f"{type(res).__name__}")
        return res
    if not isinstance(res, list):
        raise TypeError(f'Gradient overriding function should return a list, got "{type(res)}"')
    return res


def _conform(v: Any, t: Any, who: Any) -> Variable:
    """``v`` as a variable of type ``t``: the same type, or one that converts without loss (a
    broadcastable pattern to relax, a Python number); else Theano's TypeError."""
    if not isinstance(v, Variable):
        v = as_tensor_variable(v)
        if v.dtype != t.dtype:
            from thx.tensor.elemwise import cast
            v = cast(v, t.dtype)
    if v.type == t:
        return v
    conv = t.convert_variable(v) if hasattr(t, "convert_variable") else None
    if conv is None:
        raise TypeError(f"{who}: Wrong type, expected {t} but got {v.type}")
    return conv
