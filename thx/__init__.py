"""thx: Theano's front end (graphs, symbolic gradients, pp) compiled by JAX/XLA.

``import thx as theano`` runs Theano tutorial code unchanged.
"""

from __future__ import annotations

__version__ = "0.1.0"

from thx.config import config
from thx import compile, gradient, printing, tensor
from thx.compile import (FAST_COMPILE, FAST_RUN, Function, In, Mode, Out, Param, SharedVariable,
                         UnusedInputError, function, shared)
from thx.gradient import Lop, Rop, grad
from thx.graph.fg import FunctionGraph, MissingInputError
from thx.graph.basic import Apply, Constant, Variable
from thx.printing import debugprint, pp, pprint

__all__ = ["config", "function", "shared", "grad", "Rop", "Lop", "pp", "pprint", "debugprint",
           "In", "Out", "Param", "Mode", "Function", "SharedVariable", "UnusedInputError",
           "MissingInputError", "FunctionGraph", "Apply", "Constant", "Variable", "tensor",
           "gradient", "printing", "compile", "FAST_RUN", "FAST_COMPILE", "__version__"]
