"""Rewrites of a Scan's inner graph, run when the scan is lowered (``optimize_inner``)."""

from __future__ import annotations

import thx.tensor as T
from thx.graph.fg import FunctionGraph
from thx.rewriting.engine import optimize
from thx.rewriting.mode import get_mode
from thx.scan.op import Scan
from thx.tensor.subtensor import IncSubtensor


def optimize_inner(op: Scan, vmapped: bool) -> FunctionGraph:
    """A rewritten copy of ``op``'s step graph, ready to lower.

    The step is optimised with the scan's own mode; a step lowered under
    ``jax.vmap`` (``vmapped``) also gets :func:`onehot_increments`.
    """
    fg = op.fgraph.clone()
    optimize(fg, get_mode(op.mode))
    if vmapped:
        onehot_increments(fg, fg.inputs[: op.n_seqs])
    return fg


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
    dep = set(batched)
    for node in fg.toposort():
        if any(v in dep for v in node.inputs):
            dep.update(node.outputs)
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
        if node.op.set_instead_of_inc:
            new = T.switch(mask, yb, x)
        else:
            new = x + T.switch(mask, yb, T.constant(0, dtype=x.dtype))
        new = T.cast(new, x.dtype) if new.dtype != x.dtype else new
        fg.replace(node.outputs[0], T.patternbroadcast(new, x.broadcastable),
                   reason="scan_vmap_onehot_increment")
