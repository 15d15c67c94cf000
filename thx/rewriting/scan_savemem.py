"""Scan rewrite: keep only the steps an output's readers need (Theano's ``ScanSaveMem``).

A Scan returns each output's full trace, one row per step.  When every reader
of a trace takes only its last rows (``h[-1]``, ``h[-k:]``, the frontend's
``h = trace[1:]`` followed by ``h[-1]``, a shared variable's update
``trace[-1]``; in a reverse scan, its first rows: a gradient's ``trace[0]``),
the node is rebuilt with ``store_steps`` (see ``thx.scan.op``) so that the
output holds only those rows: a recurrent state then lives in
``lax.scan``'s carry alone, and no ``[n_steps, ...]`` array is stacked.  A
state nobody reads outside but that the step needs keeps just its taps.

Indexing the last rows of the stored output gives what indexing the full
trace gave: a read from the end (``[-1]``, ``[-3:-1]``) is unchanged; a view
``trace[c:]`` (c >= 0) becomes the stored rows at or after row ``c``.  Scans
with a stop condition keep every step (their length is known only at run time).
"""

from __future__ import annotations

from thx.graph.basic import Constant, Variable
from thx.rewriting.engine import local_rewrite
from thx.scan.op import Scan
from thx.tensor.subtensor import Subtensor


@local_rewrite(Scan, phase="specialize", tags=("scan",))
def local_scan_save_mem(fgraph, node):  # scan(...)[-1] -> scan{store=[1]}(...)[-1]
    op = node.op
    if op.as_while:
        return None
    nr = op.n_rec
    plans: dict[int, tuple[int, list]] = {}
    for k, out in enumerate(node.outputs):
        if op.stored(k):
            continue
        if not fgraph.clients.get(out):
            if k < nr:  # read by the step only: its taps
                plans[k] = (op.lags[k], [])
            continue
        found = _tail_readers(fgraph, out, op.reverse, views=True)
        if found is None:
            continue
        need, views = found
        full_rows = _constant(node.inputs[0])
        if full_rows is not None and need >= full_rows + (op.lags[k] if k < nr else 0):
            continue  # it already keeps no more than that
        plans[k] = (need, views)
    if not plans:
        return None
    new_op = op.clone_with(store_steps=[plans[k][0] if k in plans else op.stored(k)
                                        for k in range(len(node.outputs))])
    new = new_op(*node.inputs)
    new = new if isinstance(new, list) else [new]
    result: dict[Variable, Variable] = {}
    for k, (_, views) in plans.items():
        lag = op.lags[k] if k < nr else 0
        for view, c in views:
            result[view.outputs[0]] = _stored_view(view, c, new[k], node.inputs[0] + lag)
    result.update(zip(node.outputs, new))
    return result


def _constant(v: Variable) -> int | None:
    return int(v.data) if isinstance(v, Constant) else None


def _first_entry(node) -> tuple[object, int]:
    """The first index entry of a Subtensor node with constant inputs resolved (``"?"`` stays
    for a symbolic one), and how many index inputs it reads."""
    e = node.op.idx_list[0]
    ins = iter(node.inputs[1:])
    used = 0

    def value(p):
        nonlocal used
        if p != "?":
            return p
        used += 1
        v = next(ins)
        return int(v.data) if isinstance(v, Constant) and v.ndim == 0 else "?"

    if isinstance(e, tuple):
        return ("slice",) + tuple(value(p) for p in e[1:]), used
    if e is None or e == "a":
        return "?", 0
    return value(e), used


def _tail_readers(fgraph, v: Variable, reverse: bool, views: bool):
    """``(rows, views)`` if every reader of ``v`` reads only its ``rows`` most recent rows
    (its last ones; its first in a reverse scan), else None.  ``views`` lists the readers
    ``v[c:]`` (``(node, c)``, forward only) whose own readers all read from the end."""
    need, found = 0, []
    for client, i in fgraph.clients.get(v, ()):
        if client == "output" or i != 0 or type(client.op) is not Subtensor:
            return None
        e, _ = _first_entry(client)
        rows = _rows_from_start(e) if reverse else _rows_from_end(e)
        if rows is None and views and not reverse and _is_view(e):
            inner = _tail_readers(fgraph, client.outputs[0], reverse, views=False)
            if inner is None:
                return None
            rows = inner[0]
            # read only at single rows from the end: any suffix of >= rows rows reads the same
            ints = all(_is_int(_first_entry(n)[0]) for n, _ in fgraph.clients[client.outputs[0]])
            found.append((client, None if ints else e[1]))
        if rows is None:
            return None
        need = max(need, rows)
    return (need, found) if need else None


def _is_int(p) -> bool:
    return isinstance(p, int) and not isinstance(p, bool)


def _rows_from_end(e) -> int | None:
    """Rows from the end that ``x[e]`` reads: ``x[-2]`` 2, ``x[-3:]`` / ``x[-3:-1]`` 3."""
    if _is_int(e):
        return -e if e < 0 else None
    if isinstance(e, tuple):
        start, stop, step = e[1:]
        if (_is_int(start) and start < 0 and (stop is None or (_is_int(stop) and stop < 0))
                and step in (None, 1)):
            return -start
    return None


def _rows_from_start(e) -> int | None:
    """Rows from the start that ``x[e]`` reads: ``x[0]`` 1, ``x[:2]`` 2."""
    if _is_int(e):
        return e + 1 if e >= 0 else None
    if isinstance(e, tuple):
        start, stop, step = e[1:]
        if start in (None, 0) and _is_int(stop) and stop > 0 and step in (None, 1):
            return stop
    return None


def _is_view(e) -> bool:
    """``x[c:]`` with a constant ``c >= 0`` (the frontend's trace without its initial rows)."""
    return (isinstance(e, tuple) and _is_int(e[1]) and e[1] >= 0 and e[2] is None
            and e[3] in (None, 1))


def _stored_view(view, c: int, stored: Variable, full_rows: Variable) -> Variable:
    """``full[c:][rest]`` on the stored rows: those at or after row ``c`` of the full trace
    (``full_rows`` rows), i.e. ``stored[max(len(stored) + c - full_rows, 0):][rest]``;
    with ``c`` None (only single rows from the end are read) all the stored rows."""
    import thx.tensor as T
    _, n_first = _first_entry(view)
    rest = tuple(view.op.idx_list[1:])
    if c is None:
        return Subtensor((("slice", None, None, None),) + rest)(stored, *view.inputs[1 + n_first:])
    start = T.maximum(stored.shape[0] + c - T.cast(full_rows, "int64"), 0)
    return Subtensor((("slice", "?", None, None),) + rest)(stored, start, *view.inputs[1 + n_first:])
