"""``thx.tensor.nnet``: Theano's neural-network functions (``T.nnet.sigmoid``, ``conv2d``, ``bn`` ...)."""

from collections.abc import Sequence
from typing import Any

from thx.graph.basic import Variable
from thx.tensor.elemwise import sigmoid, softplus
from thx.tensor.math import (binary_crossentropy, categorical_crossentropy, elu, hard_sigmoid,
                             logsoftmax, relu, sigmoid_binary_crossentropy, softmax,
                             ultra_fast_sigmoid)
from thx.tensor.nnet import abstract_conv, bn, conv, conv3d2d, neighbours
from thx.tensor.nnet.neighbours import images2neibs, neibs2images
from thx.tensor.nnet.abstract_conv import (AbstractConv2d, AbstractConv2d_gradInputs,
                                           AbstractConv2d_gradWeights, AbstractConv3d,
                                           AbstractConv3d_gradInputs, AbstractConv3d_gradWeights,
                                           conv2d, conv2d_grad_wrt_inputs, conv3d, separable_conv2d)
from thx.tensor.nnet.activations import (confusion_matrix, crossentropy_categorical_1hot, crossentropy_softmax_1hot,
                                         crossentropy_softmax_1hot_with_bias,
                                         crossentropy_softmax_argmax_1hot_with_bias, h_softmax, selu,
                                         softmax_with_bias, softsign)
from thx.tensor.nnet.bn import batch_normalization

softmax_op = softmax
log_softmax = logsoftmax
scalar_sigmoid = sigmoid


def conv2d_transpose(input: Any, filters: Any, output_shape: Sequence[Any],
                     filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                     input_dilation: Sequence[int] = (1, 1), filter_flip: bool = True,
                     filter_dilation: Sequence[int] = (1, 1), num_groups: int = 1) -> Variable:
    """The transpose of :func:`conv2d` (a "deconvolution"): ``input`` upsampled to ``output_shape``.

    ``input_dilation`` is the ``subsample`` of the convolution being transposed.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, w = T.dtensor4('x'), T.dtensor4('w')
    >>> y = T.nnet.conv2d_transpose(x, w, (1, 1, 4, 4), input_dilation=(2, 2))
    >>> thx.function([x, w], y)(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode,
                                  input_dilation, filter_flip, filter_dilation, num_groups)


__all__ = ["sigmoid", "softplus", "softmax", "logsoftmax", "log_softmax", "relu", "elu", "selu",
           "hard_sigmoid", "ultra_fast_sigmoid", "binary_crossentropy", "categorical_crossentropy",
           "sigmoid_binary_crossentropy", "softsign", "softmax_op", "scalar_sigmoid",
           "softmax_with_bias", "crossentropy_categorical_1hot", "crossentropy_softmax_1hot",
           "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_argmax_1hot_with_bias",
           "h_softmax", "conv2d", "conv3d", "separable_conv2d", "conv2d_transpose", "batch_normalization",
           "AbstractConv2d", "AbstractConv2d_gradWeights", "AbstractConv2d_gradInputs",
           "AbstractConv3d", "AbstractConv3d_gradWeights", "AbstractConv3d_gradInputs",
           "abstract_conv", "conv", "bn", "conv3d2d", "neighbours", "confusion_matrix", "images2neibs", "neibs2images"]
