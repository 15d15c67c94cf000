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
        op, overrides = self._rop_op_and_overrides()
        points = [inp.zeros_like() if e is None else e for inp, e in zip(inputs, eval_points)]
        res = op(*inputs, *points)
        res = res if isinstance(res, list) else [res]
        return [ov if ov is not None else r for r, ov in zip(res, overrides)]

    def _gradient_op(self) -> tuple[OpFromGraph, list]:
        """The gradient as an OpFromGraph of ``local_inputs + output_grads``, and per input the
        special (Null/Disconnected) variable that replaces its result, or None."""
        if self._grad_op is None:
            spec, local = self._grad_overrides, self.local_inputs
            if isinstance(spec, OpFromGraph):
                self._grad_op = spec, [None] * len(local)
            else:
                ograds = [t() for t in self.output_types]

                def default(which: list[int]) -> list:
                    return grad(None, [local[k] for k in which],
                                known_grads=dict(zip(self.local_outputs, ograds)),
                                disconnected_inputs="ignore", return_disconnected="Disconnected",
                                null_gradients="return") if which else []

                raw = _overridden(spec, len(local), default, (local, ograds), "gradients")
                self._grad_op = self._derived(ograds, raw, local, "_grad", (NullType, DisconnectedType))
        return self._grad_op

    def _rop_op_and_overrides(self) -> tuple[OpFromGraph, list]:
        """The R-op as an OpFromGraph of ``local_inputs + eval_points``, and per output the
        NullType variable that replaces its result, or None."""
        if self._rop_op is None:
            spec, local, outs = self._rop_overrides, self.local_inputs, self.local_outputs
            if isinstance(spec, OpFromGraph):
                self._rop_op = spec, [None] * len(outs)
            else:
                points = [v.type() for v in local]

                def default(which: list[int]) -> list:
                    res = Rop(outs, local, points, disconnected_outputs="ignore")
                    return [res[k] for k in which]

                raw = _overridden(spec, len(outs), default, (local, points), "Rop outputs")
                # R_op has no disconnected results: zeros, as in Theano
                self._rop_op = self._derived(points, raw, outs, "_rop", (NullType,))
        return self._rop_op

    def _derived(self, extra: list, raw: list, likes: list, suffix: str,
                 kept: tuple) -> tuple[OpFromGraph, list]:
        """An OpFromGraph of ``local_inputs + extra`` computing ``raw`` (a special variable, or
        None, becomes zeros shaped like its ``likes`` entry), and the special results of the
        ``kept`` types that replace its outputs after it is applied."""
        results, overrides = [], []
        for r, like in zip(raw, likes):
            if r is None or _special(r):
                results.append(like.zeros_like())
                overrides.append(r if r is not None and isinstance(r.type, kept) else None)
            else:
                results.append(_conform(as_tensor_variable(r), like.type, f"{self}{suffix} override"))
                overrides.append(None)
        op = OpFromGraph(self.local_inputs + extra, results, inline=self.is_inline,
                         name=None if self.name is None else self.name + suffix,
                         on_unused_input="ignore")
        return op, overrides


def _overridden(spec: Any, n: int, default: Callable[[list[int]], list], args: tuple,
                what: str) -> list:
    """The ``n`` raw results an override ``spec`` gives: 'default' (``default(all)``), a
    Null/Disconnected variable (for every one), a callable ``f(*args) -> list``, or a list of one
    of those per result."""
    def special_of(v: Variable) -> Variable:
        if not _special(v):
            raise ValueError(f"Overriding Variable instance can only have type of DisconnectedType or "
                             f"NullType, got {v.type}")
        return v.type()

    if isinstance(spec, str) and spec == "default":
        return default(list(range(n)))
    if isinstance(spec, Variable):
        return [special_of(spec) for _ in range(n)]
    if isinstance(spec, list):
        if len(spec) != n:
            raise ValueError(f"Need to override {n} {what}, got {len(spec)}", spec)
        wanted = [k for k, s in enumerate(spec) if isinstance(s, str) and s == "default"]
        base = dict(zip(wanted, default(wanted)))
        out = []
        for k, s in enumerate(spec):
            if k in base:
                out.append(base[k])
            elif isinstance(s, Variable):
                out.append(special_of(s))
            elif callable(s):
                out.append(_call_override(s, *args, single=True))
            else:
                raise TypeError(_OVERRIDE_TYPE_ERROR.format(s))
        return out
    if callable(spec):
        out = _call_override(spec, *args, single=False)
        if len(out) != n:
            raise ValueError(f"Overriding function should return list of {n} outputs, got {len(out)}")
        return out
    raise TypeError(_OVERRIDE_TYPE_ERROR.format(spec))


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
