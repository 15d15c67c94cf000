"""Batch normalization (``theano.tensor.nnet.bn``): training and inference forms, built from tensor ops.

Gradients, ``R_op`` and the lowering come from the ops these are written in.
"""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Variable
from thx.tensor import elemwise as E
from thx.tensor.basic import shape
from thx.tensor.math import mean
from thx.tensor.var import as_tensor_variable

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs: Any, gamma: Any, beta: Any, mean: Any, std: Any,
                        mode: str = "low_mem") -> Variable:
    """``(inputs - mean) * (gamma / std) + beta``, all broadcasting elementwise.

    ``mode`` ('low_mem' or 'high_mem') chose a memory/speed trade-off in Theano's C code;
    both give the same values here.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dmatrix('x')
    >>> y = T.nnet.bn.batch_normalization(x, gamma=2., beta=1., mean=x.mean(0), std=x.std(0))
    >>> thx.function([x], y)([[0., 10.], [2., 30.]])
    array([[-1., -1.],
           [ 3.,  3.]])
    """
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got {mode!r}")
    inputs = as_tensor_variable(inputs)
    return (inputs - mean) * (as_tensor_variable(gamma) / std) + beta


def _axes(axes: Any, ndim: int) -> tuple[int, ...]:
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, (tuple, list)) and all(isinstance(a, int) for a in axes):
        out = tuple(sorted(set(a % ndim for a in axes)))
        if len(out) != len(axes):
            raise ValueError(f"batch normalization: repeated axes in {axes}")
        return out
    raise ValueError(f"batch normalization: axes must be 'per-activation', 'spatial' or a tuple of "
                     f"ints, got {axes!r}")


def _to_full(p: Any, ndim: int, axes: tuple[int, ...], what: str) -> Variable:
    """A parameter given with ``ndim - len(axes)`` dims gets broadcastable dims at ``axes``."""
    p = as_tensor_variable(p)
    if p.ndim == ndim:
        return p
    if p.ndim != ndim - len(axes):
        raise ValueError(f"batch normalization: {what} must have {ndim} or {ndim - len(axes)} "
                         f"dimensions, got {p.ndim}")
    pattern, k = [], 0
    for d in range(ndim):
        if d in axes:
            pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return p.dimshuffle(pattern)


def _like_params(v: Variable, full: bool, ndim: int, axes: tuple[int, ...]) -> Variable:
    """Drop the normalized axes of ``v`` unless the parameters came with all dims."""
    return v if full else v.dimshuffle([d for d in range(ndim) if d not in axes])


def batch_normalization_train(inputs: Any, gamma: Any, beta: Any, axes: Any = "per-activation",
                              epsilon: float = 1e-4, running_average_factor: float = 0.1,
                              running_mean: Any = None, running_var: Any = None) -> tuple:
    """Normalize with the batch statistics over ``axes`` (Theano 1.0's ``bn.batch_normalization_train``).

    Parameters
    ----------
    inputs : tensor
    gamma, beta : tensors
        Scale and shift, shaped like ``inputs`` with the ``axes`` of size 1 (broadcastable),
        or with those axes left out.
    axes : 'per-activation', 'spatial' or tuple of ints
        'per-activation' is ``(0,)``; 'spatial' is ``(0, 2, 3, ...)``.
    epsilon : float
        Added to the variance (Theano requires >= 1e-5).
    running_average_factor : float
        Weight of this batch in the running averages.
    running_mean, running_var : tensors, optional
        Running statistics to update (the variance update uses the unbiased batch variance).

    Returns
    -------
    out, mean, invstd : tensors
        The normalized output, the batch mean and ``1 / sqrt(var + epsilon)`` (shaped like
        ``gamma``), followed by ``new_running_mean`` and ``new_running_var`` when given.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, g, b = T.dmatrix('x'), T.dvector('g'), T.dvector('b')
    >>> out, m, invstd = T.nnet.bn.batch_normalization_train(x, g, b, epsilon=1e-5)
    >>> thx.function([x, g, b], [out, m])([[0., 1.], [2., 3.]], [1., 1.], [0., 0.])[1]
    array([1., 2.])
    """
    inputs = as_tensor_variable(inputs)
    ndim = inputs.ndim
    axes = _axes(axes, ndim)
    if epsilon < 1e-5:
        raise ValueError(f"batch_normalization_train: epsilon must be at least 1e-5, got {epsilon}")
    full = as_tensor_variable(gamma).ndim == ndim
    gamma, beta = _to_full(gamma, ndim, axes, "gamma"), _to_full(beta, ndim, axes, "beta")
    m = mean(inputs, axis=axes, keepdims=True)
    var = mean(E.sqr(inputs - m), axis=axes, keepdims=True)
    invstd = E.inv(E.sqrt(var + epsilon))
    out = (inputs - m) * invstd * gamma + beta
    results = [out, _like_params(m, full, ndim, axes), _like_params(invstd, full, ndim, axes)]
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_normalization_train: give both running_mean and running_var, or neither")
    if running_mean is not None:
        f = running_average_factor
        rm = _to_full(running_mean, ndim, axes, "running_mean")
        rv = _to_full(running_var, ndim, axes, "running_var")
        count = shape(inputs)[axes[0]]
        for a in axes[1:]:
            count = count * shape(inputs)[a]
        count = E.cast(count, inputs.dtype)
        new_mean = rm * (1.0 - f) + m * f
        new_var = rv * (1.0 - f) + (count / (count - 1)) * var * f
        results += [_like_params(new_mean, full, ndim, axes), _like_params(new_var, full, ndim, axes)]
    return tuple(results)


def batch_normalization_test(inputs: Any, gamma: Any, beta: Any, mean: Any, var: Any,
                             axes: Any = "per-activation", epsilon: float = 1e-4) -> Variable:
    """Normalize with given statistics: ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.

    Parameters are shaped as in :func:`batch_normalization_train`.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dmatrix('x')
    >>> y = T.nnet.bn.batch_normalization_test(x, [1., 1.], [0., 0.], [1., 1.], [4., 4.], epsilon=1e-5)
    >>> thx.function([x], y)([[3., 5.]]).round(4)
    array([[1., 2.]])
    """
    inputs = as_tensor_variable(inputs)
    ndim = inputs.ndim
    axes = _axes(axes, ndim)
    if epsilon < 1e-5:
        raise ValueError(f"batch_normalization_test: epsilon must be at least 1e-5, got {epsilon}")
    gamma, beta = _to_full(gamma, ndim, axes, "gamma"), _to_full(beta, ndim, axes, "beta")
    mean, var = _to_full(mean, ndim, axes, "mean"), _to_full(var, ndim, axes, "var")
    return (inputs - mean) * gamma * E.inv(E.sqrt(var + epsilon)) + beta
