"""``thx.compile``: function, Function, In/Out, shared variables, modes."""

from thx.compile.function import Function, FunctionMaker, In, Out, Param, UnusedInputError, function
from thx.compile.stats import stats
from thx.compile.profiling import ProfileStats
from thx.compile.nanguardmode import NanGuardMode
from thx.compile.debugmode import DebugMode
from thx.rewriting.mode import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode
from thx.tensor.sharedvar import SharedVariable, TensorSharedVariable, shared
from thx.compile import mode, sharedvalue  # Theano's theano.compile.mode / .sharedvalue paths
from thx.compile import ops  # Theano's theano.compile.ops: as_op
from thx.compile.ops import as_op
from thx.compile.builders import OpFromGraph

__all__ = ["function", "Function", "FunctionMaker", "In", "Out", "Param", "UnusedInputError",
           "Mode", "get_mode", "get_default_mode", "FAST_RUN", "FAST_COMPILE", "shared", "SharedVariable",
           "TensorSharedVariable", "stats", "ProfileStats", "NanGuardMode", "DebugMode", "as_op",
           "OpFromGraph"]
