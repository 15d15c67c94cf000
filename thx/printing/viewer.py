"""``to_html``: a self-contained interactive HTML viewer of a graph (the page template is ``viewer.html``).
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable
from thx.printing.drawing import _Graph, _truncate, is_shared
from thx.printing.pretty import _leaf_str, _pp_strings

__all__ = ["to_html"]


def _layers(nodes: list[dict], edges: list[dict]) -> None:
    """Longest-path layering, then a few barycenter sweeps to reduce crossings.

    Sets ``layer`` and ``order`` on every node dict.
    """
    preds: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    succs: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    for e in edges:
        if e.get("kind") == "update":
            continue  # back edges: drawn, but not used for layering
        preds[e["target"]].append(e["source"])
        succs[e["source"]].append(e["target"])
    by_id = {n["id"]: n for n in nodes}
    # nodes are listed in a topological order (inputs/constants before their users)
    layer: dict[str, int] = {}
    for n in nodes:
        p = preds[n["id"]]
        layer[n["id"]] = 1 + max((layer[q] for q in p), default=-1)
    # constants (and unused inputs) sit just above their first user, not at the top
    for n in nodes:
        if n["kind"] == "constant" and succs[n["id"]]:
            layer[n["id"]] = max(min(layer[s] for s in succs[n["id"]]) - 1, 0)
    n_layers = 1 + max(layer.values(), default=0)
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for n in nodes:
        rows[layer[n["id"]]].append(n["id"])
    pos = {nid: i for row in rows for i, nid in enumerate(row)}

    def sweep(rows_iter, neighbours):
        for row in rows_iter:
            def key(nid, row=row):
                ns = neighbours[nid]
                return (sum(pos[m] for m in ns) / len(ns)) if ns else pos[nid]
            row.sort(key=key)
            for i, nid in enumerate(row):
                pos[nid] = i

    for _ in range(4):
        sweep(rows[1:], preds)
        sweep(reversed(rows[:-1]), succs)
    for nid, n in by_id.items():
        n["layer"] = layer[nid]
        n["order"] = pos[nid]


def _html_model(fct: Any, max_label_size: int = 70, pp_limit: int = 400) -> dict:
    """The graph as plain data for the HTML viewer (nodes, edges, layers)."""
    g = _Graph(fct)
    strs = _pp_strings(g.outputs, limit=pp_limit)

    def pp_of(v: Variable) -> str:
        return _truncate(strs.get(v, _leaf_str(v)), 4 * pp_limit)

    nodes: list[dict] = []
    edges: list[dict] = []
    vid: dict[Variable, str] = {}
    aid: dict[Apply, str] = {}
    outputs = set(g.outputs)
    out_index = {v: k for k, v in enumerate(g.outputs)}

    def add_var_node(v: Variable, kind: str) -> str:
        if v in vid:
            return vid[v]
        nid = f"v{len(vid)}"
        vid[v] = nid
        if isinstance(v, Constant):
            d = str(np.asarray(v.data))
            label = _truncate(v.name or (d[: d.index("\n")] + " ..." if "\n" in d else d), max_label_size)
        elif kind == "output":
            label = v.name or (g.input_update[v].name + " (update)" if v in g.input_update
                               and g.input_update[v].name else f"out[{out_index[v]}]")
        else:
            label = v.name or str(v.type)
        info = {"type": str(v.type), "pp": pp_of(v)}
        if is_shared(v):
            info["value"] = _truncate(str(np.asarray(v.get_value(borrow=True))), 200)
        nodes.append({"id": nid, "kind": kind, "label": _truncate(label, max_label_size),
                      "name": v.name or "", **info})
        return nid

    for node in g.topo:
        for v in node.inputs:
            if v.owner is None and v not in vid:
                kind = ("constant" if isinstance(v, Constant) else
                        "shared" if is_shared(v) else "input")
                add_var_node(v, kind)
        nid = f"a{len(aid)}"
        aid[node] = nid
        nodes.append({"id": nid, "kind": "apply", "label": _truncate(str(node.op), max_label_size),
                      "op": str(node.op), "position": g.position[node],
                      "type": ", ".join(str(o.type) for o in node.outputs),
                      "pp": "\n".join(pp_of(o) for o in node.outputs),
                      "inputs": [i.name or str(i.type) if not isinstance(i, Constant) else str(i)
                                 for i in node.inputs]})
        if node.op.inner_graph is not None:  # scan: show the step's outputs
            inner_outs = node.op.inner_outputs
            inner_strs = _pp_strings(inner_outs, limit=pp_limit)
            nodes[-1]["inner"] = [_truncate(inner_strs.get(o, _leaf_str(o)), 4 * pp_limit)
                                  for o in inner_outs]
        for k, v in enumerate(node.inputs):
            src = vid[v] if v in vid else aid[v.owner]
            label = str(k) if len(node.inputs) > 1 else ""
            edges.append({"source": src, "target": nid, "label": label, "type": str(v.type)})
        for v in node.outputs:
            if v in outputs or v in g.input_update:
                oid = add_var_node(v, "output")
                edges.append({"source": nid, "target": oid, "label": "", "type": str(v.type)})
    for v in g.outputs:  # outputs that are inputs or constants (no Apply computes them)
        if v.owner is None and v not in vid:
            kind = "constant" if isinstance(v, Constant) else "input"
            add_var_node(v, kind)
    for out, shared_in in g.input_update.items():
        if out in vid and shared_in in vid:
            edges.append({"source": vid[out], "target": vid[shared_in], "label": "UPDATE",
                          "kind": "update", "type": str(out.type)})
    _layers(nodes, edges)
    title = getattr(fct, "name", None) if g.is_function else None
    return {"nodes": nodes, "edges": edges, "title": title or "thx graph",
            "n_apply": len(g.topo)}


def _template() -> str:
    """The page, with ``__TITLE__`` and ``__DATA__`` to fill in (package data next to this file)."""
    return resources.files("thx.printing").joinpath("viewer.html").read_text(encoding="utf-8")


def to_html(fct: Any, outfile: str | None = "graph.html", max_label_size: int = 70) -> str:
    """Write a self-contained interactive HTML viewer of a graph.

    The file needs nothing else (no network, no Graphviz): the graph is
    embedded as JSON and drawn as SVG by inline JavaScript.  Ops are
    ellipses; inputs (green), shared variables (cyan), constants (grey) and
    outputs (blue) are boxes, placed in layers from inputs (top) to outputs
    (bottom).  Hovering or clicking a node shows its type, its ``pp`` form
    and, for ops, the toposort position; the page pans, zooms and can
    highlight nodes by label; ``page.html#select=<label>`` opens with that node
    selected.  Like Theano's ``d3viz``.

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
        A function shows its optimized graph (``f.maker.fgraph``), with
        ``UPDATE`` edges from each update to its shared variable.
    outfile : str or None
        Where to write the page; None only returns it.
    max_label_size : int
        Longer labels are cut with ``...``.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> page = to_html((x ** 2).sum(), outfile=None)
    >>> page.startswith('<!DOCTYPE html>') and 'http' not in page.replace(
    ...     'http://www.w3.org/2000/svg', '')
    True
    """
    model = _html_model(fct, max_label_size=max_label_size)
    data = json.dumps(model).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = _template().replace("__TITLE__", html.escape(model["title"])).replace("__DATA__", data)
    if outfile is not None:
        with open(outfile, "w", encoding="utf-8") as fh:
            fh.write(page)
    return page
