"""``theano.tensor.signal.conv.conv2d``: 2D convolution of single images or stacks (2D/3D tensors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable
from thx.tensor.nnet import conv as nnet_conv
from thx.tensor.var import as_tensor_variable

__all__ = ["conv2d"]


def conv2d(input: Any, filters: Any, image_shape: Sequence[Any] | None = None,
           filter_shape: Sequence[Any] | None = None, border_mode: str = "valid",
           subsample: Sequence[int] = (1, 1), **kargs: Any) -> Variable:
    """Convolve images ``(rows, cols)`` or ``(batch, rows, cols)`` with filters ``(kr, kc)`` or ``(nkern, kr, kc)``.

    The output is ``(batch, nkern, rows, cols)`` with the batch and filter axes
    left out where the input and the filters have none; ``image_shape`` and
    ``filter_shape`` are optional hints, ``kargs`` the C code's tuning arguments (ignored).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.signal import conv
    >>> x, w = T.dmatrix('x'), T.dtensor3('w')
    >>> thx.function([x, w], conv.conv2d(x, w))(np.ones((3, 3)), np.ones((2, 2, 2))).shape
    (2, 2, 2)
    """
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    if input.ndim not in (2, 3) or filters.ndim not in (2, 3):
        raise TypeError(f"signal.conv.conv2d needs 2D or 3D input and filters, got {input.type} and "
                        f"{filters.type}")
    x4 = input.dimshuffle("x", "x", 0, 1) if input.ndim == 2 else input.dimshuffle(0, "x", 1, 2)
    w4 = filters.dimshuffle("x", "x", 0, 1) if filters.ndim == 2 else filters.dimshuffle(0, "x", 1, 2)
    out = nnet_conv.conv2d(x4, w4, border_mode=border_mode, subsample=subsample, **kargs)
    if input.ndim == 2 and filters.ndim == 2:
        return out[0, 0]
    if input.ndim == 2:
        return out[0]
    if filters.ndim == 2:
        return out[:, 0]
    return out
