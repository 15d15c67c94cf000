"""``thx.scalar``: Theano's ``theano.scalar`` names (scalar types are 0-d tensors, see ``basic``)."""

from thx.scalar import basic
from thx.scalar.basic import *  # noqa: F401,F403
from thx.scalar.basic import __all__ as _basic_all

__all__ = list(_basic_all) + ["basic"]
