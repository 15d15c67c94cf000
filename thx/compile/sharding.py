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
from thx.graph.basic import Variable, ancestors, clone_replace
from thx.tensor.sharding import ShardTo
from thx.tensor.sharedvar import SharedVariable

__all__ = ["ShardTo", "annotate"]


def _name(v: Variable) -> str:
    return f"variable {v.name}" if v.name else f"variable {v}"


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
