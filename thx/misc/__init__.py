"""``thx.misc``: Theano's ``theano.misc`` utilities that Theano programs use (``pkl_utils``: saving
models to a zip of NumPy arrays)."""

from thx.misc import pkl_utils

__all__ = ["pkl_utils"]
