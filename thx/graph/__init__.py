"""thx's graph IR: Variable, Constant, Apply, Op, Type, FunctionGraph."""

from thx.graph.basic import (Apply, Constant, Variable, ancestors, clone, clone_replace,
                             graph_inputs, io_toposort, toposort)
from thx.graph.fg import FunctionGraph, InconsistencyError, MissingInputError
from thx.graph.op import Op
from thx.graph.type import DisconnectedType, NullType, Type
from thx.graph import test_value  # noqa: F401 (watches compute_test_value; installs its node hook)

__all__ = ["Apply", "Constant", "Variable", "Op", "Type", "NullType", "DisconnectedType",
           "FunctionGraph", "InconsistencyError", "MissingInputError", "ancestors", "clone",
           "clone_replace", "graph_inputs", "io_toposort", "toposort"]
