"""The nnet functions thx/tensor/math.py lacks: selu, softsign, softmax-with-bias cross-entropies, h_softmax."""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Variable
from thx.tensor import elemwise as E
from thx.tensor.basic import arange, shape, zeros_like
from thx.tensor.math import argmax, dot, logsoftmax, softmax, sum, tensordot
from thx.tensor.subtensor import getitem
from thx.tensor.var import as_tensor_variable

__all__ = ["selu", "softsign", "softmax_with_bias", "crossentropy_categorical_1hot",
           "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
           "crossentropy_softmax_argmax_1hot_with_bias", "h_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Variable:
    """Scaled exponential linear unit: ``scale * elu(x, alpha)`` with the self-normalising constants.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> thx.function([x], T.nnet.selu(x))([0., 1.])
    array([0.        , 1.05070099])
    """
    x = as_tensor_variable(x)
    return _SELU_SCALE * E.switch(E.gt(x, 0), x, _SELU_ALPHA * E.expm1(x))


def softsign(x: Any) -> Variable:
    """``x / (1 + abs(x))``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> thx.function([x], T.nnet.softsign(x))([-3., 1.])
    array([-0.75,  0.5 ])
    """
    x = as_tensor_variable(x)
    return x / (1 + E.abs_(x))


def softmax_with_bias(x: Any, b: Any) -> Variable:
    """``softmax(x + b)`` for a matrix ``x`` and a bias vector ``b``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, b = T.dmatrix('x'), T.dvector('b')
    >>> thx.function([x, b], T.nnet.softmax_with_bias(x, b))([[0., 0.]], [0., 0.])
    array([[0.5, 0.5]])
    """
    return softmax(as_tensor_variable(x) + b)


def _pick(m: Variable, idx: Variable) -> Variable:
    """``m[i, idx[i]]`` for every row ``i``."""
    return getitem(m, (arange(shape(m)[0]), idx))


def crossentropy_categorical_1hot(coding_dist: Any, true_one_of_n: Any) -> Variable:
    """``-log(coding_dist[i, true_one_of_n[i]])`` for each row ``i``.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> p, y = T.dmatrix('p'), T.lvector('y')
    >>> thx.function([p, y], T.nnet.crossentropy_categorical_1hot(p, y))([[0.5, 0.5], [1., 0.]], [1, 0])
    array([ 0.69314718, -0.        ])
    """
    return -E.log(_pick(as_tensor_variable(coding_dist), as_tensor_variable(true_one_of_n)))


def crossentropy_softmax_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple[Variable, Variable, Variable]:
    """``(nll, softmax(x + b), argmax(x + b, axis=1))`` with ``nll[i] = -log(softmax(x + b)[i, y_idx[i]])``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, b, y = T.dmatrix('x'), T.dvector('b'), T.lvector('y')
    >>> nll, sm, am = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    >>> thx.function([x, b, y], [nll, am])([[0., 2.]], [0., 0.], [0])
    [array([2.12692801]), array([1])]
    """
    z = as_tensor_variable(x) + b
    y_idx = as_tensor_variable(y_idx)
    return -_pick(logsoftmax(z), y_idx), softmax(z), argmax(z, axis=1)


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple[Variable, Variable]:
    """``(nll, softmax(x + b))``: the first two outputs of :func:`crossentropy_softmax_argmax_1hot_with_bias`.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, b, y = T.dmatrix('x'), T.dvector('b'), T.lvector('y')
    >>> nll, sm = T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)
    >>> thx.function([x, b, y], nll)([[0., 0.]], [0., 0.], [1])
    array([0.69314718])
    """
    return crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)[:2]


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> tuple[Variable, Variable]:
    """``(nll, softmax(x))`` with ``nll[i] = -log(softmax(x)[i, y_idx[i]])`` (computed stably).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, y = T.dmatrix('x'), T.lvector('y')
    >>> nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    >>> thx.function([x, y], nll)([[0., 0.], [1000., 0.]], [1, 1])
    array([6.93147181e-01, 1.00000000e+03])
    """
    x = as_tensor_variable(x)
    return crossentropy_softmax_1hot_with_bias(x, zeros_like(x[0, :]), y_idx)


def h_softmax(x: Any, batch_size: Any, n_outputs: int, n_classes: int, n_outputs_per_class: int,
              W1: Any, b1: Any, W2: Any, b2: Any, target: Any = None) -> Variable:
    """Two-level hierarchical softmax (Theano's ``h_softmax``).

    The outputs are split into ``n_classes`` classes of ``n_outputs_per_class``; the
    probability of an output is ``P(class | x) * P(output | class, x)``.

    Parameters
    ----------
    x : matrix ``(batch_size, n_hidden)``
    W1, b1 : ``(n_hidden, n_classes)``, ``(n_classes,)``: the class level
    W2, b2 : ``(n_classes, n_hidden, n_outputs_per_class)``, ``(n_classes, n_outputs_per_class)``
    target : int vector ``(batch_size,)``, optional
        If given, only the probability of each row's target is computed.

    Returns
    -------
    matrix ``(batch_size, n_outputs)`` of probabilities, or a vector ``(batch_size,)`` with ``target``.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x = T.dmatrix('x')
    >>> W1, b1, W2, b2 = np.zeros((3, 2)), np.zeros(2), np.zeros((2, 3, 2)), np.zeros((2, 2))
    >>> p = T.nnet.h_softmax(x, 1, 4, 2, 2, W1, b1, W2, b2)
    >>> thx.function([x], p)(np.ones((1, 3)))
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    x = as_tensor_variable(x)
    W1, b1, W2, b2 = (as_tensor_variable(v) for v in (W1, b1, W2, b2))
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        act = tensordot(x, W2, axes=[[1], [1]]) + b2  # (batch, n_classes, n_outputs_per_class)
        probs = class_probs.dimshuffle(0, 1, "x") * softmax(act)
        return probs.flatten(2)[:, :n_outputs]
    target = as_tensor_variable(target)
    cls, pos = target // n_outputs_per_class, target % n_outputs_per_class
    act = sum(x.dimshuffle(0, 1, "x") * W2[cls], axis=1) + b2[cls]  # (batch, n_outputs_per_class)
    return _pick(class_probs, cls) * _pick(softmax(act), pos)


def confusion_matrix(actual: Any, pred: Any) -> list[Variable]:
    """The confusion matrix of integer labels ``actual`` and predictions ``pred`` (Theano's
    ``T.nnet.confusion_matrix``).

    Returns
    -------
    [conf_mat, order]
        ``order`` the sorted distinct labels of both, ``conf_mat[i, j]`` the number of entries
        whose actual label is ``order[i]`` and predicted one ``order[j]`` (int64).

    Raises
    ------
    ValueError
        If either is not a vector (Theano's messages).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> m, order = T.nnet.confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]))
    >>> m.eval()
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 1, 1]])
    """
    from thx.tensor import basic as B
    from thx.tensor.data_sized import unique
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    if actual.ndim != 1:
        raise ValueError("actual must be 1-d tensor variable")
    if pred.ndim != 1:
        raise ValueError("pred must be 1-d tensor variable")
    order = unique(B.concatenate([actual, pred]))
    one_hot_a = E.cast(E.eq(actual.dimshuffle(0, "x"), order), "int64")
    one_hot_p = E.cast(E.eq(pred.dimshuffle(0, "x"), order), "int64")
    return [dot(one_hot_a.T, one_hot_p), order]
