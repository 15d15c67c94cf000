"""Theano's ``theano.d3viz``: an interactive HTML view of a graph (``d3viz``) and its DOT text
(``d3write``).

Theano's ``d3viz`` drew the graph with d3.js from a Graphviz layout; thx's page is
``thx.printing.to_html``: self-contained (no network, no Graphviz), with the same information
(op, type, ``pp`` form of each node, updates of a compiled function) and pan, zoom and search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thx.printing.dot import graph_to_dot
from thx.printing.viewer import to_html

__all__ = ["d3viz", "d3write"]


def d3viz(fct: Any, outfile: str, copy_deps: bool = True, *args: Any, **kwargs: Any) -> None:
    """Write an interactive HTML page of ``fct``'s graph to ``outfile`` (Theano's ``d3viz``).

    Parameters
    ----------
    fct : compiled Function, FunctionGraph, Variable or list of Variable
        A function shows its optimized graph.
    outfile : str
        The page's path (its directory is created).
    copy_deps : bool
        Theano copied its JavaScript next to the page; thx's page has none to copy, so this is
        accepted and ignored.
    *args, **kwargs
        ``max_label_size`` is passed on to ``thx.printing.to_html``; Theano's Graphviz options
        are accepted and ignored.

    Examples
    --------
    >>> import os, tempfile, thx, thx.tensor as T
    >>> from thx.d3viz import d3viz
    >>> x = T.dvector('x')
    >>> path = os.path.join(tempfile.mkdtemp(), 'graph', 'f.html')
    >>> d3viz(thx.function([x], T.exp(x) * 2), path)
    >>> os.path.getsize(path) > 1000
    True
    """
    path = Path(outfile)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_html(fct, str(path), **{k: v for k, v in kwargs.items() if k == "max_label_size"})


def d3write(fct: Any, path: str, *args: Any, **kwargs: Any) -> None:
    """Write ``fct``'s graph as Graphviz DOT text to ``path`` (Theano's ``d3write``)."""
    Path(path).write_text(graph_to_dot(fct))
