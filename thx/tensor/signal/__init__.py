"""``thx.tensor.signal``: Theano's signal-processing modules (``pool``, ``conv``, the old ``downsample``)."""

from thx.tensor.signal import conv, downsample, pool

__all__ = ["pool", "conv", "downsample"]
