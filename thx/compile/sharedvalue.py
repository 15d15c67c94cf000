"""``theano.compile.sharedvalue``: re-exports shared variables, which live in ``thx/tensor/sharedvar.py``."""

from thx.tensor.sharedvar import generic_shared
from thx.tensor.sharedvar import SharedVariable, TensorSharedVariable, shared

__all__ = ["SharedVariable", "TensorSharedVariable", "shared", "generic_shared"]
