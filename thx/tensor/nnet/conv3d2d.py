"""Theano's ``theano.tensor.nnet.conv3d2d``: the older 3D convolution with the time axis second.

``conv3d(signals, filters)`` takes signals ``(batch, time, in_channels, rows, cols)`` and filters
``(out_channels, time, in_channels, rows, cols)`` and returns ``(batch, time, out_channels, rows,
cols)``: a true (flipped-filter) 'valid' convolution over time, rows and columns.  Theano built it
from 2D convolutions; thx moves the axes and uses its 3D convolution (``T.nnet.conv3d``,
``lax.conv_general_dilated``), which has the gradients and R-op.
"""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Variable
from thx.tensor.nnet.abstract_conv import conv3d as _conv3d
from thx.tensor.var import as_tensor_variable

__all__ = ["conv3d"]

_TIME_SECOND = (0, 2, 1, 3, 4)  # (b, t, c, r, w) <-> (b, c, t, r, w); its own inverse


def conv3d(signals: Any, filters: Any, signals_shape: Any = None, filters_shape: Any = None,
           border_mode: Any = "valid") -> Variable:
    """3D convolution of ``signals`` ``(b, t, c, r, w)`` with ``filters`` ``(o, t, c, r, w)``.

    Parameters
    ----------
    signals, filters : 5-d tensors
    signals_shape, filters_shape : tuple, optional
        Theano's shape hints (checked against the tensors' static shapes by the convolution).
    border_mode : 'valid' or ('valid', 'valid', 'valid')
        Theano's conv3d2d has only 'valid'.

    Raises
    ------
    NotImplementedError
        For another border mode (Theano's message).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.nnet.conv3d2d import conv3d
    >>> s, f = T.dtensor5('s'), T.dtensor5('f')
    >>> out = thx.function([s, f], conv3d(s, f))(np.ones((1, 4, 2, 5, 5)), np.ones((3, 2, 2, 3, 3)))
    >>> out.shape, float(out[0, 0, 0, 0, 0])
    ((1, 3, 3, 3, 3), 36.0)
    """
    modes = (border_mode,) * 3 if isinstance(border_mode, str) else tuple(border_mode)
    if modes != ("valid",) * 3:
        raise NotImplementedError(f"Only valid border mode is supported, got {border_mode!r}")
    signals, filters = as_tensor_variable(signals), as_tensor_variable(filters)
    for v, name in ((signals, "signals"), (filters, "filters")):
        if v.ndim != 5:
            raise TypeError(f"conv3d2d.conv3d: {name} must be a 5-d tensor, got {v.type}")

    def moved(shape_hint: Any) -> Any:
        return None if shape_hint is None else tuple(shape_hint[k] for k in _TIME_SECOND)

    out = _conv3d(signals.dimshuffle(*_TIME_SECOND), filters.dimshuffle(*_TIME_SECOND),
                  input_shape=moved(signals_shape), filter_shape=moved(filters_shape))
    return out.dimshuffle(*_TIME_SECOND)
