"""``thx.tensor.nnet``: Theano's neural-network helpers (``T.nnet.sigmoid`` ...)."""

from thx.tensor.elemwise import sigmoid, softplus
from thx.tensor.math import (binary_crossentropy, categorical_crossentropy, elu, hard_sigmoid,
                             logsoftmax, relu, sigmoid_binary_crossentropy, softmax,
                             ultra_fast_sigmoid)

softsign = None  # set below


def _softsign(x):
    """``x / (1 + abs(x))``."""
    return x / (1 + abs(x))


softsign = _softsign
softmax_op = softmax
log_softmax = logsoftmax
scalar_sigmoid = sigmoid

__all__ = ["sigmoid", "softplus", "softmax", "logsoftmax", "log_softmax", "relu", "elu",
           "hard_sigmoid", "ultra_fast_sigmoid", "binary_crossentropy", "categorical_crossentropy",
           "sigmoid_binary_crossentropy", "softsign", "softmax_op", "scalar_sigmoid"]
