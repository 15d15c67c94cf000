"""thx: Theano's front end (graphs, symbolic gradients, pp) compiled by JAX/XLA.

``import thx as theano`` runs Theano tutorial code unchanged.
"""

from __future__ import annotations

__version__ = "0.1.0"

from thx.config import change_flags, config
from thx import compile, gradient, printing, tensor
from thx.compile import (FAST_COMPILE, FAST_RUN, Function, In, Mode, Out, Param, SharedVariable,
                         UnusedInputError, function, shared)
from thx.gradient import Lop, Rop, grad
from thx.graph.fg import FunctionGraph, MissingInputError
from thx.graph.basic import Apply, Constant, Variable
from thx.graph.op import Op
from thx.graph.type import Type
from thx import graph as gof  # Theano's theano.gof: Op, Apply, Variable, Constant, Type (docs/extending.md)
from thx.printing import debugprint, pp, pprint
from thx import scan_module  # imports the thx.scan package first; `thx.scan` is then the function
from thx.scan import foldl, foldr, map, reduce, scan, scan_checkpoints  # noqa: A004 (Theano's names)
from thx import ifelse, sandbox
from thx.tensor import shared_randomstreams  # T.shared_randomstreams
from thx.alias import install_theano_alias, uninstall_theano_alias
from thx import scalar
from thx.compile.dump import function_dump
from thx.gradient_subgraph import subgraph_grad
from thx.graph.replace import clone
from thx.op_from_graph import OpFromGraph
from thx.scan import ctc as _ctc_module
from thx.updates import OrderedUpdates
from thx.compile import FunctionMaker, ProfileStats
from thx.compile.ops import as_op
from thx.tensor import dot
from thx import check
from thx.tensor import sharedvar as _sharedvar
from thx import distributed  # thx.distributed.initialize, thx run --processes N

# Theano offers the finite-difference and JAX checks as theano.gradient.verify_grad (T.verify_grad
# forwards there).  They compile functions, so they live in thx/check.py, above thx.compile; the
# top level publishes them under the Theano names (thx.gradient itself imports nothing above it).
for _name in ("verify_grad", "numeric_grad", "check_against_jax", "GradientMismatchError"):
    setattr(gradient, _name, getattr(check, _name))
gradient.subgraph_grad = subgraph_grad  # built on grad, in thx/gradient_subgraph.py
del _name

__all__ = ["config", "function", "shared", "grad", "Rop", "Lop", "pp", "pprint", "debugprint",
           "In", "Out", "Param", "Mode", "Function", "SharedVariable", "UnusedInputError",
           "MissingInputError", "FunctionGraph", "Apply", "Constant", "Variable", "tensor",
           "gradient", "printing", "compile", "FAST_RUN", "FAST_COMPILE", "__version__",
           "ifelse", "sandbox", "install_theano_alias", "uninstall_theano_alias",
           "scan", "map", "reduce", "foldl", "foldr", "scan_module", "scalar", "change_flags",
           "function_dump", "subgraph_grad", "clone", "dot", "distributed", "Op", "Type", "gof",
           "OpFromGraph", "scan_checkpoints", "OrderedUpdates", "FunctionMaker", "ProfileStats", "as_op"]

# thx.shared(scipy.sparse matrix) works before ``import thx.sparse`` (Theano needed that import):
# the sparse package (a floor above thx.tensor, and SciPy) loads on the first sparse value.
def _sparse_shared(value, **kwargs):
    if not type(value).__module__.startswith("scipy.sparse"):
        raise TypeError("not a SciPy sparse matrix")
    from thx.sparse.sharedvar import sparse_constructor
    return sparse_constructor(value, **kwargs)


_sharedvar.shared_constructor(_sparse_shared)

# Theano's T.nnet.ctc is a loop over time: its module lives with scan (thx/scan/ctc.py, a floor above
# thx.tensor), so the top level, which sees both floors, hangs it on T.nnet.
tensor.nnet.ctc = _ctc_module
