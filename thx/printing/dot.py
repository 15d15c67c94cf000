"""``graph_to_dot`` (the DOT text of a graph) and ``pydotprint`` (that text drawn by Graphviz's ``dot``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Constant, Variable, ancestors
from thx.ifelse import IfElse
from thx.printing.drawing import _Graph, _truncate, is_shared

__all__ = ["graph_to_dot", "pydotprint", "pydot_imported", "GraphvizNotFoundError"]

_logger = logging.getLogger("thx.printing")


class GraphvizNotFoundError(RuntimeError, ImportError):
    """Graphviz's ``dot`` program is needed (for ``pydotprint``) and was not found."""


def _dot_program() -> str | None:
    return shutil.which("dot")


pydot_imported = _dot_program() is not None  # Theano's flag name: can pydotprint draw here?

default_colorCodes = {"GpuFromHost": "red", "HostFromGpu": "red", "Scan": "yellow",
                      "Shape": "brown", "IfElse": "magenta", "Elemwise": "#FFAABB",
                      "Subtensor": "#FFAAFF", "Alloc": "#FFAA22", "Output": "blue"}


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={_dot_quote(v)}" for k, v in attrs.items())


def graph_to_dot(fct: Any, compact: bool = True, with_ids: bool = False, high_contrast: bool = True,
                 colorCodes: dict[str, str] | None = None, max_label_size: int = 70,
                 var_with_name_simple: bool = False, cond_highlight: Any = None) -> str:
    """The DOT text (Graphviz's language) that ``pydotprint`` draws.

    Needs no Graphviz: use it to inspect the drawing, or feed it to any DOT
    tool.  Apply nodes are ellipses labelled with their op (with their
    toposort position when labels repeat or ``with_ids``); variables are
    boxes: green for inputs, cyan for shared variables, blue for outputs,
    grey for unused outputs.  With ``compact``, unnamed intermediate
    variables are drawn as labelled edges.  Edges carry the input index when
    an op has several inputs; ``UPDATE`` edges link an update to its shared
    variable.

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
    compact, with_ids, high_contrast, colorCodes, max_label_size, var_with_name_simple, cond_highlight
        As in ``pydotprint``.

    Returns
    -------
    str

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> print(graph_to_dot(T.exp(x)))
    digraph G {
      graph [bgcolor="white"];
      "a0" [label="Elemwise{exp,no_inplace}", shape="ellipse", style="filled", fillcolor="#FFAABB"];
      "v0" [label="name=x TensorType(float64, vector)", shape="box", style="filled", fillcolor="green"];
      "v0" -> "a0";
      "a0" -> "v1";
      "v1" [label="TensorType(float64, vector)", shape="box", style="filled", fillcolor="blue"];
    }
    <BLANKLINE>
    """
    g = _Graph(fct)
    colors = default_colorCodes if colorCodes is None else colorCodes
    lines = ["digraph G {", '  graph [bgcolor="white"];']
    var_label: dict[Variable, str] = {}
    var_id: dict[Variable, str] = {}
    apply_label: dict[Apply, str] = {}
    apply_id: dict[Apply, str] = {}
    all_strings: set[str] = set()
    declared: set[str] = set()

    def var_name(var: Variable) -> tuple[str, str]:
        if var in var_label:
            return var_label[var], var_id[var]
        if var.name is not None:
            s = var.name if var_with_name_simple else f"name={var.name} {var.type}"
        elif isinstance(var, Constant):
            d = "val=" + str(np.asarray(var.data))
            if "\n" in d:
                d = d[: d.index("\n")]
            s = f"{d} {var.type}"
        elif var in g.input_update and g.input_update[var].name is not None:
            s = g.input_update[var].name + ("" if var_with_name_simple else f" {var.type}")
        else:
            s = str(var.type)
        s = _truncate(s, max_label_size)
        var_label[var] = s
        var_id[var] = f"v{len(var_id)}"
        all_strings.add(s)
        return s, var_id[var]

    def apply_name(node: Apply) -> tuple[str, str]:
        if node in apply_label:
            return apply_label[node], apply_id[node]
        s = str(node.op)
        if s in all_strings or with_ids:
            idx = f" id={g.position[node]}"
            s = (s[: max_label_size - 3 - len(idx)] + idx + "...") if len(s) + len(idx) > max_label_size \
                else s + idx
        elif len(s) > max_label_size:
            s = _truncate(s, max_label_size)
            k = 1
            while s in all_strings:
                k += 1
                suffix = f" id={k}"
                s = s[: max_label_size - 3 - len(suffix)] + "..." + suffix
        all_strings.add(s)
        apply_label[node] = s
        apply_id[node] = f"a{len(apply_id)}"
        return s, apply_id[node]

    def node_line(nid: str, attrs: dict[str, str]) -> None:
        if nid not in declared:
            declared.add(nid)
            lines.append(f"  {_dot_quote(nid)} [{_dot_attrs(attrs)}];")

    def edge_line(src: str, dst: str, attrs: dict[str, str]) -> None:
        a = f" [{_dot_attrs(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_quote(src)} -> {_dot_quote(dst)}{a};")

    def fill(attrs: dict[str, str], color: str) -> dict[str, str]:
        if high_contrast:
            attrs.update(style="filled", fillcolor=color)
        else:
            attrs.update(color=color)
        return attrs

    clusters = _cond_clusters(g, cond_highlight)
    outputs = set(g.outputs)
    for node in g.topo:
        label, aid = apply_name(node)
        color = None
        for op_name, c in colors.items():
            if op_name in type(node.op).__name__:
                color = c
        attrs = {"label": label, "shape": "ellipse"}
        node_line(aid, fill(attrs, color) if color is not None else attrs)
        for idx, var in enumerate(node.inputs):
            vlabel, vid = var_name(var)
            param = {"label": str(idx)} if len(node.inputs) > 1 else {}
            if var.owner is None:
                color = "cyan" if is_shared(var) else "green"
                node_line(vid, fill({"label": vlabel, "shape": "box"}, color))
                edge_line(vid, aid, param)
            elif var.name or not compact or var in outputs:
                edge_line(vid, aid, param)
            else:
                lab = (param["label"] + " " if param else "") + str(var.type)
                param["label"] = _truncate(lab, max_label_size)
                edge_line(apply_name(var.owner)[1], aid, param)
        for idx, var in enumerate(node.outputs):
            vlabel, vid = var_name(var)
            param = {"label": str(idx)} if len(node.outputs) > 1 else {}
            if var in outputs or var in g.input_update:
                edge_line(aid, vid, param)
                node_line(vid, fill({"label": vlabel, "shape": "box"}, colors.get("Output", "blue")))
            elif not g.clients.get(var):
                edge_line(aid, vid, param)
                node_line(vid, fill({"label": vlabel, "shape": "box"}, "grey"))
            elif var.name or not compact:
                if compact:
                    lab = (param["label"] + " " if param else "") + str(var.type)
                    param["label"] = _truncate(lab, max_label_size)
                edge_line(aid, vid, param)
                node_line(vid, {"label": vlabel, "shape": "box"})
    for out, shared_in in g.input_update.items():
        _, oid = var_name(out)
        _, sid = var_name(shared_in)
        edge_line(oid, sid, {"label": "UPDATE", "color": colors.get("Output", "blue")})
    for name, nodes in clusters:
        lines.append(f"  subgraph {_dot_quote('cluster_' + name)} {{")
        lines.append(f"    label={_dot_quote(name)};")
        for n in nodes:
            lines.append(f"    {_dot_quote(apply_name(n)[1])};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cond_clusters(g: _Graph, cond_highlight: Any) -> list[tuple[str, list[Apply]]]:
    """Left / Right / Middle clusters around an IfElse node (``cond_highlight``)."""
    if cond_highlight is None:
        return []
    cond = None
    for node in g.topo:
        if isinstance(node.op, IfElse) and (cond_highlight is True or node is cond_highlight
                                            or node.op.name == cond_highlight):
            cond = node
    if cond is None:
        _logger.warning("pydotprint: cond_highlight is set but there is no IfElse node in the graph")
        return []

    def nodes_of(v: Variable) -> set[Apply]:
        return {a.owner for a in ancestors([v]) if a.owner is not None}

    then_values, else_values = cond.op.branches(cond)
    left = set().union(*(nodes_of(v) for v in then_values))
    right = set().union(*(nodes_of(v) for v in else_values))
    middle = left & right
    order = g.position
    return [(name, sorted(s, key=lambda n: order.get(n, 0)))
            for name, s in (("Left", left - middle), ("Right", right - middle), ("Middle", middle))]


def pydotprint(fct: Any, outfile: str | None = None, compact: bool = True, format: str = "png",
               with_ids: bool = False, high_contrast: bool = True, cond_highlight: Any = None,
               colorCodes: dict[str, str] | None = None, max_label_size: int = 70,
               scan_graphs: bool = False, var_with_name_simple: bool = False,
               print_output_file: bool = True, return_image: bool = False) -> bytes | None:
    """Draw a graph to an image file with Graphviz's ``dot`` program (Theano's ``pydotprint``).

    thx writes the DOT text itself (``graph_to_dot``) and runs ``dot``; no
    pydot package is needed, only the Graphviz program (``apt-get install
    graphviz``, ``brew install graphviz``, ``conda install graphviz``).

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable, Apply or list of Variable
    outfile : str, optional
        The image file (default ``graph.<format>`` in the current
        directory); ``.<format>`` is appended if missing.
    compact : bool
        Draw unnamed intermediate variables as labelled edges.
    format : str
        Any format ``dot`` supports: ``'png'``, ``'svg'``, ``'pdf'`` ...
    with_ids : bool
        Add the toposort position to every op label.
    high_contrast : bool
        Fill nodes with their colour (else colour the border).
    cond_highlight : optional
        Cluster the ops of the two branches of an IfElse node.
    colorCodes : dict, optional
        Op class name (substring) -> colour.
    max_label_size : int
        Longer labels are cut with ``...``.
    scan_graphs : bool
        Also draw the inner graph of each scan, to ``<outfile>_<scan>_<position>.<format>``.
    var_with_name_simple : bool
        Label named variables with their name only (not name and type).
    print_output_file : bool
        Print where the file was written.
    return_image : bool
        Return the image bytes instead of writing a file.

    Returns
    -------
    bytes if ``return_image`` else None.

    Raises
    ------
    GraphvizNotFoundError
        (a RuntimeError and an ImportError) if the ``dot`` program is not installed.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> import shutil
    >>> if shutil.which('dot'):  # Graphviz installed
    ...     svg = pydotprint(x * 2, format='svg', return_image=True)
    ...     assert b'<svg' in svg
    """
    dot = _dot_program()
    if dot is None:
        raise GraphvizNotFoundError(
            "pydotprint needs the `dot` program of Graphviz, and it was not found on the PATH. "
            "Install Graphviz (e.g. `apt-get install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`), or use thx.printing.graph_to_dot(...) for the DOT text, "
            "or thx.printing.to_html(...) for a viewer that needs nothing installed.")
    text = graph_to_dot(fct, compact=compact, with_ids=with_ids, high_contrast=high_contrast,
                        colorCodes=colorCodes, max_label_size=max_label_size,
                        var_with_name_simple=var_with_name_simple, cond_highlight=cond_highlight)
    if outfile is None:
        outfile = f"graph.{format}"
    if not outfile.endswith("." + format):
        outfile += "." + format
    if scan_graphs:
        g = _Graph(fct)
        path, fn = os.path.split(outfile)
        base = fn[: -len(format) - 1]
        for pos, node in enumerate(g.topo):
            if node.op.inner_graph is None:
                continue
            name = getattr(node.op, "name", None)
            new = os.path.join(path, f"{base}_{name}_{pos}" if name else f"{base}_{pos}") + "." + format
            pydotprint(node.op.inner_outputs, new, compact, format, with_ids, high_contrast, None, colorCodes,
                       max_label_size, scan_graphs, var_with_name_simple, print_output_file)
    proc = subprocess.run([dot, "-T" + format], input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pydotprint: `dot -T{format}` failed (exit code {proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    if return_image:
        return proc.stdout
    with open(outfile, "wb") as fh:
        fh.write(proc.stdout)
    if print_output_file:
        print("The output file is available at", outfile)
    return None
