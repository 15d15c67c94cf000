"""The pre-1.0 ``theano.tensor.signal.downsample`` module: ``max_pool_2d`` on top of :mod:`pool`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable
from thx.tensor.signal import pool

__all__ = ["max_pool_2d", "max_pool_2d_same_size", "DownsampleFactorMax"]

DownsampleFactorMax = pool.Pool
max_pool_2d_same_size = pool.max_pool_2d_same_size


def max_pool_2d(input: Any, ds: Sequence[int], ignore_border: bool | None = None,
                st: Sequence[int] | None = None, padding: Sequence[int] = (0, 0),
                mode: str = "max") -> Variable:
    """The old spelling of :func:`pool.pool_2d` (``ds``, ``st``, ``padding``); warns that it moved.

    Examples
    --------
    >>> import warnings, numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.signal import downsample
    >>> x = T.dmatrix('x')
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')
    ...     y = downsample.max_pool_2d(x, (2, 2), ignore_border=True)
    >>> thx.function([x], y)(np.arange(16.).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    warnings.warn("downsample module has been moved to the theano.tensor.signal.pool module; "
                  "use pool.pool_2d", DeprecationWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=pool.__name__)
        return pool.pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding, mode=mode)
