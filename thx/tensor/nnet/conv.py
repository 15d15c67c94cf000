"""The pre-1.0 ``theano.tensor.nnet.conv.conv2d`` (``image_shape``, 'valid'/'full'), on the abstract convolution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable
from thx.tensor.nnet.abstract_conv import AbstractConv2d, get_conv_shape_1axis
from thx.tensor.var import as_tensor_variable

__all__ = ["conv2d", "ConvOp"]

# the tuning arguments of Theano's C ConvOp: accepted and ignored (XLA chooses the algorithm)
_TUNING = {"unroll_batch", "unroll_kern", "unroll_patch", "openmp", "verbose", "version",
           "direction_hint", "imshp_logical", "kshp_logical", "kshp_logical_top_aligned"}


def _constant_shape(shape_: Sequence[Any] | None, what: str) -> tuple | None:
    if shape_ is None:
        return None
    from thx.tensor.basic import NotScalarConstantError, get_scalar_constant_value
    out = []
    for s in shape_:
        if s is None:
            out.append(None)
            continue
        try:
            out.append(int(get_scalar_constant_value(as_tensor_variable(s))))
        except NotScalarConstantError:
            raise NotScalarConstantError(f"The convolution needs constant shape information; got "
                                         f"{s} in the {what} parameter") from None
    if len(out) != 4:
        raise ValueError(f"{what} must have 4 elements, got {tuple(shape_)}")
    return tuple(out)


class ConvOp(AbstractConv2d):
    """Theano's old ``ConvOp``: a 2D convolution (flipped filters), 'valid' or 'full' only.

    ``ConvOp.getOutputShape(inshp, kshp, stride, mode)`` gives the output rows and columns.
    """

    def __init__(self, imshp=None, kshp=None, nkern=None, bsize=None, dx=1, dy=1,
                 output_mode="valid", **kwargs):
        unknown = set(kwargs) - _TUNING
        if unknown:
            raise TypeError(f"ConvOp() got unexpected keyword arguments {sorted(unknown)}")
        if output_mode not in ("valid", "full"):
            raise ValueError(f"ConvOp: output_mode must be 'valid' or 'full', got {output_mode!r}")
        imshp4 = None if imshp is None else (bsize,) + tuple(imshp)[-3:]
        kshp4 = None if kshp is None else (nkern, None if imshp is None else tuple(imshp)[-3]) + tuple(kshp)
        super().__init__(imshp=imshp4 if imshp4 and len(imshp4) == 4 else None,
                         kshp=kshp4 if kshp4 and len(kshp4) == 4 else None,
                         border_mode=output_mode, subsample=(dx, dy))

    @staticmethod
    def getOutputShape(inshp: Sequence[Any], kshp: Sequence[Any], stride: Sequence[int] = (1, 1),
                       mode: str = "valid") -> tuple:
        """Output ``(rows, cols)`` for images ``inshp`` and filters ``kshp`` (None where unknown).

        Examples
        --------
        >>> from thx.tensor.nnet.conv import ConvOp
        >>> ConvOp.getOutputShape((28, 28), (5, 5)), ConvOp.getOutputShape((28, 28), (5, 5), (2, 2), 'full')
        ((24, 24), (16, 16))
        """
        return tuple(get_conv_shape_1axis(i, k, mode, d) for i, k, d in zip(inshp, kshp, stride))


def conv2d(input: Any, filters: Any, image_shape: Sequence[Any] | None = None,
           filter_shape: Sequence[Any] | None = None, border_mode: str = "valid",
           subsample: Sequence[int] = (1, 1), **kargs: Any) -> Variable:
    """Convolve a batch of images with a bank of filters (the pre-1.0 ``theano.tensor.nnet.conv.conv2d``).

    Parameters
    ----------
    input : 4D tensor ``(batch, stack, rows, cols)``
    filters : 4D tensor ``(nb filters, stack, krows, kcols)``
    image_shape, filter_shape : 4-tuples of constant ints or None, optional
        Shape hints (checked against each other).
    border_mode : {'valid', 'full'}
        'valid': ``image - filter + 1``; 'full': ``image + filter - 1``.
    subsample : (int, int)
        Output strides.
    **kargs
        The C implementation's tuning arguments (``unroll_batch`` ...), ignored.

    Returns
    -------
    4D tensor ``(batch, nb filters, out rows, out cols)``

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.nnet import conv
    >>> x, w = T.dtensor4('x'), T.dtensor4('w')
    >>> f = thx.function([x, w], conv.conv2d(x, w, border_mode='full'))
    >>> f(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    image_shape = _constant_shape(image_shape, "image_shape")
    filter_shape = _constant_shape(filter_shape, "filter_shape")
    if image_shape and filter_shape and None not in (image_shape[1], filter_shape[1]) \
            and image_shape[1] != filter_shape[1]:
        raise ValueError(f"conv2d: image_shape {image_shape} and filter_shape {filter_shape} "
                         f"disagree on the stack size")
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    if input.ndim != 4 or filters.ndim != 4:
        raise TypeError(f"conv2d requires 4D input and filters, got {input.type} and {filters.type}")
    op = ConvOp(imshp=None if image_shape is None else image_shape[1:],
                kshp=None if filter_shape is None else filter_shape[2:],
                nkern=None if filter_shape is None else filter_shape[0],
                bsize=None if image_shape is None else image_shape[0],
                dx=subsample[0], dy=subsample[1], output_mode=border_mode, **kargs)
    return op(input, filters)
