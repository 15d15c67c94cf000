"""``thx.printing``: printing and drawing graphs in Theano's formats (this file only re-exports).

* ``pp`` / ``pprint`` (``pretty.py``): one math-like line per output, each op
  printing itself through its ``pprint`` method.
* ``debugprint`` (``debug.py``): the indented tree Theano prints, ``[id A]``
  labels, toposort positions for compiled functions, inner graphs of scans.
* ``min_informative_str``, ``var_descriptor`` (``describe.py``): short
  descriptions for messages.
* ``graph_to_dot`` / ``pydotprint`` (``dot.py``): DOT text, and a picture
  through Graphviz's ``dot`` program.
* ``to_html`` (``viewer.py`` + ``viewer.html``): a self-contained interactive
  HTML viewer.
* ``Print``: the op that prints a value while a function runs (it lives in
  ``thx/tensor/printing.py``).
"""

from thx.printing.debug import char_from_number, debugprint
from thx.printing.describe import min_informative_str, var_descriptor
from thx.printing.dot import GraphvizNotFoundError, default_colorCodes, graph_to_dot, pydot_imported, pydotprint
from thx.printing.pretty import (PP_MAX_CHARS, DefaultPrinter, FunctionPrinter, IgnorePrinter,
                                 LeafPrinter, MemberPrinter, OperatorPrinter, PatternPrinter, PPrinter,
                                 PrinterState, _leaf_str, _pp_strings, pp, pprint)
from thx.printing.viewer import _html_model, to_html
from thx.tensor.printing import Print, _print_fn  # noqa: F401 - pickles made before the move name _print_fn here

__all__ = ["pp", "pprint", "debugprint", "Print", "pydotprint", "graph_to_dot", "to_html",
           "min_informative_str", "var_descriptor", "char_from_number", "pydot_imported",
           "GraphvizNotFoundError", "PPrinter", "PrinterState", "OperatorPrinter", "PatternPrinter",
           "FunctionPrinter", "MemberPrinter", "IgnorePrinter", "LeafPrinter", "DefaultPrinter"]
