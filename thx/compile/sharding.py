"""Sharding annotations: Theano-level intent (flags, ``shared(sharding=)``, ``shardings=``) in a graph.

``thx.function`` calls ``annotate`` before it substitutes the givens.  When
a mesh is in play (the ``mesh`` or ``data_parallel`` flags, a ``shardings=``
argument, or a shared variable with a ``sharding``), it wraps variables in
``ShardTo`` nodes, identities that lower to ``jax.lax.with_sharding_constraint``:

* an explicit input, or any variable named in ``shardings``: the uses see the
  constrained value (``data_parallel``: the leading axis of each array input
  on the ``data`` mesh axis);
* a givens replacement computed from shared data (the minibatch
  ``data[i * bs:(i + 1) * bs]``) under ``data_parallel``: its leading axis;
* every update expression: the updated shared variable's own sharding
  (replicated unless told otherwise), so its stored layout never drifts.

Everything else (outputs, intermediates, gradients) gets its layout from
XLA's sharding propagation, and XLA inserts the collectives.  The annotations
are ordinary graph nodes, so the compile cache keys on them (and on the mesh,
a property of each ``ShardTo``).
"""

from __future__ import annotations

from typing import Any

from thx.config import config
from thx.graph.basic import Apply, Variable, ancestors, clone_replace
from thx.graph.op import Op
from thx.tensor.sharedvar import SharedVariable

__all__ = ["ShardTo", "annotate"]


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


def _name(v: Variable) -> str:
    return f"variable {v.name}" if v.name else f"variable {v}"


def _registered() -> None:
    """Register ShardTo's lowering (here, not in lowering/: the op lives on this floor)."""
    from thx.lowering.registry import JAX_IMPLS, register
    if ShardTo not in JAX_IMPLS:
        register(ShardTo)(_lower_shard_to)


def _lower_shard_to(op: ShardTo, node: Apply):
    from thx.lowering.sharding import constrain
    return lambda x: constrain(x, op.spec, op.what)


def _adopt_shared(exprs: list) -> None:
    """Put the shared values the graph reads on the mesh (uploaded earlier elsewhere: moved)."""
    from thx.lowering.sharding import adopt
    for v in ancestors(exprs):
        if isinstance(v, SharedVariable) and v._device_resident:
            adopt(v)


def _is_active(exprs: list, shardings: Any) -> bool:
    if shardings or config.mesh or config.data_parallel:
        return True
    return SharedVariable._any_sharded and any(
        isinstance(v, SharedVariable) and v.sharding is not None for v in ancestors(exprs))


def annotate(ins: list, out_vars: list[Variable], updates: list[tuple[Variable, Variable]],
             givens: dict[Variable, Variable], shardings: dict | None,
             spec: dict) -> tuple[list[Variable], list[tuple[Variable, Variable]]]:
    """``thx.function``'s hook: the outputs and updates with ``ShardTo`` nodes where layouts are known.

    ``ins`` (In objects) and ``givens`` are changed in place; ``spec`` (what
    rebuilds the function: copy, pickle) records ``shardings``.
    """
    if shardings is not None:
        if not isinstance(shardings, dict):
            raise TypeError(f"shardings must be a dict {{variable: (mesh axis or None, ...)}}, "
                            f"got {type(shardings).__name__}")
        spec["shardings"] = shardings
    in_updates = [i for i in ins if i.update is not None]
    exprs = out_vars + [u for _, u in updates] + [i.update for i in in_updates]
    if not _is_active(exprs, shardings):
        return out_vars, updates
    _registered()
    _adopt_shared(exprs)
    mesh = config.mesh
    wanted: dict[Variable, tuple] = {}
    for v, s in (shardings or {}).items():
        if not isinstance(v, Variable):
            raise TypeError(f"shardings: keys must be symbolic variables, got {v!r}")
        wanted[v] = _spec(s, v)
    if config.data_parallel:
        for i in ins:
            t = i.variable.type
            if i.variable not in wanted and getattr(t, "ndim", 0) >= 1:
                wanted[i.variable] = ("data",) + (None,) * (t.ndim - 1)
        for k, rep in givens.items():  # a minibatch sliced from a shared dataset
            if k not in wanted and rep.owner is not None and getattr(rep.type, "ndim", 0) >= 1 \
                    and any(isinstance(a, SharedVariable) for a in ancestors([rep])):
                wanted[k] = ("data",) + (None,) * (rep.type.ndim - 1)
    replace = {}
    for v, s in wanted.items():
        if v in givens:
            givens[v] = ShardTo(s, mesh, f"the value given for {_name(v)}")(givens[v])
        else:
            replace[v] = ShardTo(s, mesh, _name(v))(v)
    for k, rep in givens.items():  # an intermediate input: the graph is cut there by a given
        if rep in replace:
            givens[k] = replace[rep]
    new_updates = []
    for var, u in updates:
        s = wanted.get(var, var.sharding)
        s = s if s is not None else (None,) * var.type.ndim
        new_updates.append((var, ShardTo(s, mesh, f"the update of shared {_name(var)}")(u)))
    exprs = out_vars + [u for _, u in new_updates] + [i.update for i in in_updates]
    if replace:
        exprs = clone_replace(exprs, replace)
    n, m = len(out_vars), len(updates)
    for i, u in zip(in_updates, exprs[n + m:]):
        i.update = u
    return exprs[:n], [(v, u) for (v, _), u in zip(updates, exprs[n:n + m])]


def _spec(s: Any, v: Variable) -> tuple:
    ndim = getattr(v.type, "ndim", None)
    ok = isinstance(s, (tuple, list)) and len(s) == ndim and all(
        e is None or isinstance(e, (str, tuple)) for e in s)
    if not ok:
        raise ValueError(f"shardings: the sharding of {_name(v)} must be a tuple of {ndim} mesh "
                         f"axis names or None (one per dimension), got {s!r}")
    return tuple(s)
