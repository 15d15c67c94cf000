"""``thx.tensor.signal``: Theano's signal-processing ops (``theano.tensor.signal.pool``)."""

from thx.tensor.signal import pool

__all__ = ["pool"]
