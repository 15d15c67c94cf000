"""``theano.compile.builders``: where Theano defines ``OpFromGraph`` (thx's is
``thx/op_from_graph.py``, a floor below the lowering that runs it)."""

from thx.op_from_graph import OpFromGraph

__all__ = ["OpFromGraph"]
