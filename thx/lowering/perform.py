"""Python ops: a user's ``Op`` with a NumPy ``perform`` and no JAX lowering of its own.

Theano's "Creating a new Op: Python implementation" and ``as_op`` give an op a ``perform``
only.  The factory here is registered for the base class ``Op``, so the registry finds it for
every op class without a lowering of its own (``registry.lowered_by_perform``):

* At the top level of a function such a node is a host barrier (``registry.runs_on_host``,
  ``thx/lowering/segments.py``): the segment before it computes its inputs, ``perform`` runs on
  them as NumPy arrays, and the next segment is compiled for the shapes it returned.  Any
  output shape works, and no ``infer_shape`` is needed.
* Inside a traced context (a ``scan``/``map`` step, which has no host between segments) the
  node becomes a ``jax.pure_callback``, which needs its output shapes while tracing: the op's
  ``infer_shape`` gives them from the (static) input shapes.  Without one, a clear error.

``perform``'s outputs are checked against the node's output types (``TensorType.filter``: the
dtype, the number of dimensions, broadcastable dimensions of length 1).  An op without
``perform`` either raises the registry's "no JAX lowering" error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.evaluate import evaluate
from thx.graph.op import Op, call_infer_shape, has_perform
from thx.lowering.registry import register
from thx.lowering.segments import host_form, host_step


def run_perform(op: Op, node: Apply, values: Sequence[Any]) -> list[np.ndarray]:
    """``op.perform`` on NumPy copies of ``values``; its outputs checked against the node's types.

    Raises
    ------
    ValueError
        If ``perform`` left an output unset.
    TypeError
        If an output does not fit its type (dtype, number of dimensions).
    """
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    if getattr(op, "perform_reads_inputs_only", False):  # thx's own (sparse) ops: no copies
        inputs = [v if i.type.host_only else np.asarray(v) for i, v in zip(node.inputs, values)]
    else:  # copies: a user's perform may write or alias them (a SciPy matrix copies itself)
        inputs = [v.copy() if i.type.host_only else np.array(v) for i, v in zip(node.inputs, values)]
    op.perform(node, inputs, storage)
    outs = []
    for k, (var, (value,)) in enumerate(zip(node.outputs, storage)):
        if value is None:
            raise ValueError(f"{op}.perform stored no value for output {k} "
                             f"(output_storage[{k}][0] is still None)")
        try:
            outs.append(var.type.filter(value))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{op}.perform stored a value for output {k} that is not a "
                            f"{var.type}: {e}") from None
    return outs


def _output_shapes(op: Op, node: Apply, values: Sequence[Any]) -> list[tuple[int, ...]]:
    """The output shapes for inputs of the static shapes of ``values``, from ``infer_shape``."""
    shapes = [tuple(int(d) for d in np.shape(v)) for v in values]
    why = ""
    try:
        result = call_infer_shape(op, None, node, shapes)
    except NotImplementedError:
        result, why = None, "it has no infer_shape"
    if result is not None:
        dims = [d for shp in result for d in shp]
        symbolic = [d for d in dims if isinstance(d, Variable)]
        try:
            if symbolic:  # an expression of input shapes: evaluated on zero-stride stand-ins
                givens = {i: np.broadcast_to(np.zeros((), i.dtype), s)
                          for i, s in zip(node.inputs, shapes) if hasattr(i, "dtype")}
                found = dict(zip(symbolic, evaluate(symbolic, givens)))
                result = [tuple(found.get(d, d) if isinstance(d, Variable) else d for d in shp)
                          for shp in result]
            return [tuple(int(d) for d in shp) for shp in result]
        except Exception as e:  # noqa: BLE001 - any failure is the same missing information
            why = f"its infer_shape did not give integers ({type(e).__name__}: {e})"
    raise NotImplementedError(
        f"{op} has no JAX lowering, so thx runs its perform on the host; inside a scan or map "
        f"step that needs the shapes of its outputs while the step is compiled, and {why}. "
        f"Give {type(op).__name__} an infer_shape(node, input_shapes), or call it at the top "
        f"level of the function.")


@register(Op)
def _perform(op, node):
    if not has_perform(op):
        raise NotImplementedError(
            f"No JAX lowering registered for op {op} ({type(op).__name__}), and it has no perform: "
            f"give it a perform(node, inputs, output_storage) computing its outputs with NumPy "
            f"(thx runs it on the host), or register a lowering with thx.lowering.registry.register")
    n_out = len(node.outputs)

    def impl(*values):
        if not any(isinstance(v, jax.core.Tracer) for v in values):  # the host step between segments
            values = [host_form(v) for v in values]  # (a sparse value back in SciPy's form)
            outs = host_step(run_perform, op, node, values, who=f"{op}.perform")
            return outs[0] if n_out == 1 else tuple(outs)
        shapes = _output_shapes(op, node, values)
        result = tuple(jax.ShapeDtypeStruct(s, np.dtype(o.dtype)) for s, o in zip(shapes, node.outputs))

        def host(*arrays):
            outs = run_perform(op, node, arrays)
            for k, (got, want) in enumerate(zip(outs, shapes)):
                if got.shape != want:
                    raise ValueError(f"{op}.perform gave output {k} the shape {got.shape}, but its "
                                     f"infer_shape said {want}")
            return tuple(outs)

        outs = jax.pure_callback(host, result, *values, vmap_method="sequential")
        return outs[0] if n_out == 1 else tuple(outs)
    return impl
