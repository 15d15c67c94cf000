"""Scan rewrite: keep only the steps an output's readers need (Theano's ``ScanSaveMem``).

A Scan returns each output's full trace, one row per step.  When every reader
of a trace takes only its last rows (``h[-1]``, ``h[-k:]``, the frontend's
``h = trace[1:]`` followed by ``h[-1]``, a shared variable's update
``trace[-1]``; in a reverse scan, its first rows: a gradient's ``trace[0]``),
the node is rebuilt with ``store_steps`` (see ``thx.scan.op``) so that the
output holds only those rows: a recurrent state then lives in
``lax.scan``'s carry alone, and no ``[n_steps, ...]`` array is stacked.  A
state nobody reads outside but that the step needs keeps just its taps.

Readers may go through chains of views: ``trace[c:]`` (c >= 0, nested:
``h[1:][-1]`` is ``trace[1:][1:][-1]``), a full slice indexing other axes
(``h[:, 0][-1]``), a reversal read from its start (``h[::-1][0]``), and, when
the number of steps is a constant, a row counted from the start
(``h[2:][0]`` of 5 steps is the 3rd row from the end).

Indexing the last rows of the stored output gives what indexing the full
trace gave: a read from the end (``[-1]``, ``[-3:-1]``) is unchanged; a view
``trace[c:]`` becomes the stored rows at or after row ``c`` (other axes indexed
as before); a row counted from the start is read from the end.  A read that
is out of range in the full trace is out of range in the stored rows too: it
needs more rows than the trace has, so the stored output holds the whole trace.
Scans with a stop condition keep every step (their length is known only at run time).
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
        full_rows = _constant(node.inputs[0])
        if op.reverse:
            found = _tail_readers(fgraph, out, True)
        else:
            lag = op.lags[k] if k < nr else 0
            found = _forward_plan(fgraph, out, (0, ()), None if full_rows is None else full_rows + lag, lag, 0)
        if found is None or not found[0]:
            continue
        need, views = found
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
    for k, (_, fixes) in plans.items():
        lag = op.lags[k] if k < nr else 0
        for fix in fixes:
            result[fix[0].outputs[0]] = _fixed(fix, new[k], node.inputs[0] + lag)
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


def _tail_readers(fgraph, v: Variable, reverse: bool):
    """``(rows, [])`` if every reader of ``v`` reads only its ``rows`` most recent rows
    (its last ones; its first in a reverse scan), else None."""
    need = 0
    for client, i in fgraph.clients.get(v, ()):
        if client == "output" or i != 0 or type(client.op) is not Subtensor:
            return None
        e, _ = _first_entry(client)
        rows = _rows_from_start(e) if reverse else _rows_from_end(e)
        if rows is None:
            return None
        need = max(need, rows)
    return need, []


_MAX_CHAIN = 8


def _forward_plan(fgraph, v: Variable, view: tuple, n_full: int | None, lag: int, depth: int):
    """``(rows, fixes)`` if every reader of ``v`` reads only the last ``rows`` rows of the trace,
    else None.  ``v`` is the trace or ``trace[c:]`` with other axes indexed by ``links``
    (``view = (c, links)``); ``fixes`` are the readers to rebuild on the stored rows
    (``(node, kind, view, ...)``, see ``_fixed``); ``n_full``: the trace's length, if constant;
    ``lag``: its initial rows."""
    c, links = view
    need, fixes, direct, singles = 0, [], False, True
    for client, i in fgraph.clients.get(v, ()):
        if client == "output" or i != 0 or type(client.op) is not Subtensor:
            return None
        e, used = _first_entry(client)
        rest = (tuple(client.op.idx_list[1:]), tuple(client.inputs[1 + used:]))
        rows = _rows_from_end(e)
        if rows is not None:  # unchanged on the stored rows
            need, direct, singles = max(need, rows), True, singles and _is_int(e)
            continue
        if _is_int(e) and e >= 0 and n_full is not None:  # row c + e of a trace of known length
            back = n_full - c - e
            if back < 1:
                return None
            need = max(need, back)
            fixes.append((client, "row", view, -back, rest))
            continue
        if depth >= _MAX_CHAIN:
            return None
        start = _view_start(e)
        if start is not None:  # trace[c:][start:] is trace[c + start:]
            sub = _forward_plan(fgraph, client.outputs[0], (c + start, links + (rest,)), n_full, lag, depth + 1)
        elif e == ("slice", None, None, -1):  # reversed: read from its start
            sub = _tail_readers(fgraph, client.outputs[0], True)
            if sub is not None:
                fixes.append((client, "flip", view, None, rest))
        else:
            return None
        if sub is None:
            return None
        need = max(need, sub[0])
        fixes.extend(sub[1])
    if direct and (c or links):
        # single rows read from the end of the trace past its initial rows (``h[-1]``): all the
        # stored rows, no length arithmetic (which would keep the function from shape buckets;
        # it differs only for a scan of 0 steps); past more rows: the exact view
        fixes.append((v.owner, "view", view, None if singles and c <= lag else c, None))
    return need, fixes


def _view_start(e) -> int | None:
    """``c`` if ``x[e]`` is ``x[c:]`` with a constant ``c >= 0`` (``x[:]``: 0), else None."""
    if (isinstance(e, tuple) and (e[1] is None or (_is_int(e[1]) and e[1] >= 0)) and e[2] is None
            and e[3] in (None, 1)):
        return e[1] or 0
    return None


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


def _fixed(fix, stored: Variable, full_rows: Variable) -> Variable:
    """The replacement of a reader (``_forward_plan``'s fixes) computed from the stored rows."""
    node, kind, (c, links), value, rest = fix
    if kind == "view":  # trace[c:][links] read from the end
        return _stored_view(stored, value, links, full_rows)
    base = _stored_view(stored, None if kind == "row" else c, links, full_rows)  # a row: in range
    entry = value if kind == "row" else ("slice", None, None, -1)
    return Subtensor((entry,) + rest[0] + _ALL * (base.ndim - 1 - _dims_read(rest[0])))(base, *rest[1])


def _stored_view(stored: Variable, c: int | None, links: tuple, full_rows: Variable) -> Variable:
    """``full[c:]`` on the stored rows: those at or after row ``c`` of the full trace
    (``full_rows`` rows), i.e. ``stored[max(len(stored) + c - full_rows, 0):]``, then each
    link's indexing of the other axes; with ``c`` None (only single rows from the end are
    read) all the stored rows, as with ``c`` 0 (``len(stored) <= full_rows``)."""
    import thx.tensor as T
    if not c:
        out = stored
    else:
        start = T.maximum(stored.shape[0] + c - T.cast(full_rows, "int64"), 0)
        out = Subtensor((("slice", "?", None, None),) + _ALL * (stored.ndim - 1))(stored, start)
    for entries, inputs in links:
        if any(e != _ALL[0] for e in entries):
            out = Subtensor(_ALL + entries + _ALL * (out.ndim - 1 - _dims_read(entries)))(out, *inputs)
    return out


_ALL = (("slice", None, None, None),)


def _dims_read(entries: tuple) -> int:
    """How many axes an index tuple reads (a ``None`` entry adds an axis)."""
    return sum(e is not None for e in entries)
