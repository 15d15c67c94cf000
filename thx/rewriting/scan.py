"""Rewrites of a Scan's inner graph, run when the scan is lowered (``optimize_inner``)."""

from __future__ import annotations

import thx.tensor as T
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import optimize
from thx.rewriting.mode import get_mode
from thx.scan.materialize import Materialize, materialize
from thx.scan.op import Scan
from thx.tensor.elemwise import DimShuffle, Elemwise
from thx.rewriting.constants import const_value, scalar_value
from thx.rewriting.utils import op_name
from thx.tensor.basic import ARange, is_zeros
from thx.tensor.math import Dot
from thx.tensor.subtensor import IncSubtensor


def optimize_inner(op: Scan, vmapped: bool) -> FunctionGraph:
    """A rewritten copy of ``op``'s step graph, ready to lower.

    The step is optimised with the scan's own mode; a step lowered under
    ``jax.vmap`` (``vmapped``) also gets :func:`onehot_increments` (then the
    mode again: products sink into the one-hot's taken branch),
    :func:`merge_switch_sums`, :func:`onehot_dots` and :func:`hoist_invariants`.
    """
    fg = op.fgraph.clone()
    optimize(fg, get_mode(op.mode))
    if vmapped:
        onehot_increments(fg, fg.inputs[: op.n_seqs])
        optimize(fg, get_mode(op.mode))
        merge_switch_sums(fg)
        onehot_dots(fg)
        hoist_invariants(fg, fg.inputs[: op.n_seqs])
    return fg


def merge_switch_sums(fg) -> None:
    """Sums of one-hot selects with one condition -> one select of the sum.

    After the products have sunk into the one-hots, the step of a Hessian is
    a sum of such selects; merged, the mapped result is one select of one
    (hoisted) vector.  Before -> after::

        switch(c, a, 0) + switch(c, b, 0) - switch(c, d, 0) -> switch(c, a + b - d, 0)
    """
    for node in fg.toposort():
        name = op_name(node.outputs[0])
        if name not in ("add", "sub") or node.outputs[0] not in fg.variables:
            continue
        parts = [_zero_else(v) for v in node.inputs]
        if any(p is None for p in parts) or any(p[0] is not parts[0][0] for p in parts):
            continue
        inner = T.add(*[p[1] for p in parts]) if name == "add" else T.sub(parts[0][1], parts[1][1])
        zero = parts[0][2]
        new = T.switch(parts[0][0], inner, zero)
        old = node.outputs[0]
        if new.dtype != old.dtype or new.broadcastable != old.broadcastable:
            continue
        fg.replace(old, new, reason="scan_vmap_merge_switch_sums")


def _zero_else(v):
    """``(c, a, zero)`` if ``v`` is ``switch(c, a, zero)`` with a constant zero ``zero``, else None."""
    if op_name(v) != "switch":
        return None
    c, a, z = v.owner.inputs
    if const_value(z) is None or scalar_value(z) != 0:
        return None
    return c, a, z


def onehot_dots(fg) -> None:
    """A matrix product with a one-hot vector -> one column (row) of the matrix, scaled.

    The step of ``jacobian(f(dot(W, x)), x)`` backpropagates the one-hot of
    ``y[i]`` through the product: ``dot(W.T, switch(m, u, 0))``.  Mapped over
    ``i`` that is a product of an ``n x n`` diagonal matrix with ``W``, ``n``
    times the work of scaling the rows of ``W`` (``jax.jacrev`` does the
    product).  ``m`` is the mask :func:`onehot_increments` builds,
    ``eq(arange(n), j)``; ``u[j]`` stands for ``u`` when ``u`` is broadcast.
    Before -> after::

        dot(A, switch(eq(arange(n), j), u, 0)) -> specify_shape(A, (m, n))[:, j] * u[j]
        dot(switch(eq(arange(n), j), u, 0), B) -> specify_shape(B, (n, m))[j] * u[j]

    The ``specify_shape`` keeps the product's check that ``A``'s columns are
    as many as the one-hot's ``n``.  An index outside ``[0, n)`` was an error
    of the increment the mask came from, and is the indexing's error here.
    """
    for node in fg.toposort():
        if type(node.op) is not Dot or node.outputs[0] not in fg.variables:
            continue
        a, b = node.inputs
        for mat, vec, vec_first in ((a, b, False), (b, a, True)):
            if mat.ndim != 2 or vec.ndim != 1 or (hot := _onehot(vec)) is None:
                continue
            j, u, n = hot
            if u.ndim and u.broadcastable[0] and isinstance(u.owner and u.owner.op, DimShuffle):
                u = u.owner.inputs[0]  # a scalar broadcast: the scalar
            uj = u if u.ndim == 0 else (u[0] if u.broadcastable[0] else u[j])
            # the product's shape check: a matrix whose contracted axis is not the one-hot's
            # length n is the error the product raised, not a row taken anyway
            mat = T.specify_shape(mat, (n, mat.shape[1]) if vec_first else (mat.shape[0], n))
            new = (mat[j] if vec_first else mat[:, j]) * uj
            old = node.outputs[0]
            new = T.cast(new, old.dtype) if new.dtype != old.dtype else new
            if new.broadcastable != old.broadcastable:
                continue
            fg.replace(old, new, reason="scan_vmap_onehot_dot")
            break


def _onehot(v):
    """``(j, u, n)`` if ``v`` is ``switch(eq(arange(n), j), u, 0)`` (a vector: ``u[j]`` at ``j``),
    ``j`` a scalar or a broadcast one-element vector, ``arange`` from 0 by 1; else None."""
    parts = _zero_else(v)
    if parts is None or op_name(parts[0]) != "eq":
        return None
    c, u, _ = parts
    for r, j in (c.owner.inputs, c.owner.inputs[::-1]):
        node = r.owner
        if (node is not None and isinstance(node.op, ARange) and r.ndim == 1
                and scalar_value(node.inputs[0]) == 0 and const_value(node.inputs[0]) is not None
                and scalar_value(node.inputs[2]) == 1 and const_value(node.inputs[2]) is not None
                and j.dtype.startswith(("int", "uint")) and (j.ndim == 0 or j.broadcastable == (True,))
                and u.ndim <= 1):
            return (j if j.ndim == 0 else j[0]), u, node.inputs[1]
    return None


def _dependents(fg, batched) -> set:
    """The variables of ``fg`` that depend on ``batched`` (the mapped sequences)."""
    dep = set(batched)
    for node in fg.toposort():
        if any(v in dep for v in node.inputs):
            dep.update(node.outputs)
    return dep


def hoist_invariants(fg, batched) -> None:
    """Computed elementwise values that do not depend on the mapped sequences are stored once.

    Under ``jax.vmap`` such a value (``sin(x)`` in a Hessian's step) is
    computed unbatched, but XLA's loop fusion recomputes it for every element
    of the batched result it feeds (``n`` times ``sin`` per row of an ``n x n``
    Hessian).  Before -> after, for a batched consumer ``c``::

        c(sin(x), i) -> c(materialize(sin(x)), i)
    """
    dep = _dependents(fg, batched)
    done: dict = {}
    for node in fg.toposort():
        if node.outputs[0] not in dep or isinstance(node.op, Materialize):
            continue
        for k, v in enumerate(node.inputs):
            if v in dep or v.ndim == 0 or not _computed_elementwise(v):
                continue
            if v not in done:
                done[v] = materialize(v)
            fg.change_input(node, k, done[v], reason="scan_vmap_hoist_invariant")


# Elementwise ops XLA may recompute per element of a bigger result at little cost; any other
# (sin, exp, tanh, pow, division ...) in a hoisted value makes it worth storing once.
_CHEAP = frozenset({"add", "sub", "mul", "neg", "sqr", "abs", "second", "identity", "switch", "eq",
                    "neq", "lt", "le", "gt", "ge", "maximum", "minimum", "and_", "or_", "xor", "invert",
                    "Cast", "round_half_to_even", "floor", "ceil"})


def _computed_elementwise(v) -> bool:
    """Is ``v`` an elementwise result (maybe broadcast) that uses an op costlier than arithmetic?"""
    stack, seen = [v], set()
    while stack:
        node = stack.pop().owner
        if node is None or node in seen:
            continue
        seen.add(node)
        if isinstance(node.op, Elemwise):
            if node.op.scalar_op.name not in _CHEAP:
                return True
        elif not isinstance(node.op, DimShuffle):
            continue  # stop at other ops: their results are stored anyway
        stack.extend(node.inputs)
    return False


def onehot_increments(fg, batched) -> None:
    """``inc_subtensor(x[i], y)`` at a per-step index ``i`` -> an elementwise select.

    Under ``jax.vmap`` a scatter at a batched index becomes a loop of scatters
    (2x slower than ``jax.jacrev`` for the tutorial's Jacobian, whose
    ``grad(y[i], x)`` is such an increment); comparing ``arange(n)`` with
    ``i`` and selecting fuses with the surrounding elementwise work.
    Before -> after (``m`` = ``eq(arange(x.shape[0]), i mod n)``, broadcast)::

        inc_subtensor(x[i], y) -> x + switch(m, y, 0)
        set_subtensor(x[i], y) -> switch(m, y, x)
    """
    full = ("slice", None, None, None)
    dep = _dependents(fg, batched)
    for node in fg.toposort():
        if type(node.op) is not IncSubtensor or len(node.inputs) != 3:
            continue
        entries = node.op.idx_list
        if not entries or entries[0] != "?" or any(e != full for e in entries[1:]):
            continue
        x, y, i = node.inputs
        if i not in dep:
            continue
        n = x.shape[0]
        mask = T.eq(T.arange(n), T.switch(T.lt(i, 0), i + n, i))
        if x.ndim > 1:
            mask = mask.dimshuffle([0] + ["x"] * (x.ndim - 1))
        yb = T.shape_padleft(y, x.ndim - y.ndim)
        zero = T.constant(0, dtype=x.dtype)
        if is_zeros(x) and T.switch(mask, yb, zero).broadcastable == x.broadcastable:
            new = T.switch(mask, yb, zero)  # a one-hot: later muls sink into its taken branch
        elif node.op.set_instead_of_inc:
            new = T.switch(mask, yb, x)
        else:
            new = x + T.switch(mask, yb, zero)
        new = T.cast(new, x.dtype) if new.dtype != x.dtype else new
        fg.replace(node.outputs[0], T.patternbroadcast(new, x.broadcastable),
                   reason="scan_vmap_onehot_increment")
