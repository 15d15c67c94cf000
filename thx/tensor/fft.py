"""Theano's ``theano.tensor.fft``: real-input FFTs over every axis but the first (the batch), with
complex values stored as a trailing axis of 2 (real, imaginary), as Theano does.

``rfft(x, norm)`` of ``(m, ..., n)`` gives ``(m, ..., n // 2 + 1, 2)``; ``irfft(y, norm, is_odd)``
inverts it.  Norms as NumPy's: None (the inverse divides by the size), 'ortho' (both by its
square root), 'no_norm' (neither).  Each transform's gradient is the other transform of the
output gradient, with the entries that stand for two frequencies (all but the first and, for an
even length, the last) weighted by 1/2 or 2 (Theano's formulas).  Lowered in
``thx/lowering/fft.py`` (``jnp.fft.rfftn``/``irfftn``); the transform sizes are static inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.math import prod
from thx.tensor.shape import _disconnected, shape
from thx.tensor.subtensor import set_subtensor
from thx.tensor.type import TensorType, discrete_dtypes, float_dtypes
from thx.tensor.var import as_tensor_variable

__all__ = ["RFFTOp", "IRFFTOp", "rfft_op", "irfft_op", "rfft", "irfft"]


def _sizes(s: Any, who: str) -> Variable:
    s = as_tensor_variable(s)
    if s.ndim != 1 or s.dtype not in discrete_dtypes:
        raise TypeError(f"{who}: length of the transformed axis must be of type integer")
    return s


def _inverse_sizes(a: Variable, odd: bool) -> Variable:
    """The output sizes of an inverse transform of ``a``: its axes ``1..-2``, the last one
    ``(k - 1) * 2 (+ 1 if odd)`` (a vector of shape entries, known while tracing)."""
    from thx.tensor.basic import stack
    sh = shape(a)
    dims = [sh[d] for d in range(1, a.ndim - 2)] + [(sh[a.ndim - 2] - 1) * 2 + (1 if odd else 0)]
    return stack(dims)


def rfft_array(a: Any, sizes: tuple, xp: Any = np) -> Any:
    """The unnormalized FFT of ``a`` over axes ``1..`` with ``sizes``, (real, imag) last, on
    arrays of the module ``xp`` (NumPy for ``perform``, ``jax.numpy`` for the lowering)."""
    A = xp.fft.rfftn(a, s=sizes, axes=tuple(range(1, a.ndim)))
    return xp.stack([A.real, A.imag], axis=-1).astype(a.dtype)


def irfft_array(a: Any, sizes: tuple, xp: Any = np) -> Any:
    """The unnormalized inverse of :func:`rfft_array` (``irfftn`` times the size)."""
    res = xp.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=sizes, axes=tuple(range(1, a.ndim - 1)))
    return (res * np.prod(sizes)).astype(a.dtype)


def _middle(g: Variable, s: Variable) -> tuple:
    """The index of the entries of a half spectrum that stand for two frequencies."""
    return tuple([slice(None)] * (g.ndim - 2) + [slice(1, s[-1] // 2 + s[-1] % 2), slice(None)])


class RFFTOp(Op):
    """The unnormalized real-input FFT over axes ``1..`` of sizes ``s`` (``numpy.fft.rfftn``),
    real and imaginary parts on a new last axis."""

    __props__ = ()

    def make_node(self, a, s=None):
        a = as_tensor_variable(a)
        if a.ndim < 2:
            raise TypeError("RFFTOp: input must have dimension > 2, with first dimension batches")
        if a.dtype not in float_dtypes:
            raise TypeError(f"RFFTOp: input must be real floats, got {a.dtype}")
        s = _sizes(shape(a)[1:] if s is None else s, "RFFTOp")
        return Apply(self, [a, s], [TensorType(a.dtype, (False,) * (a.ndim + 1))()])

    def perform(self, node, inputs, out):
        a, s = inputs
        out[0][0] = rfft_array(a, tuple(int(k) for k in s))

    def L_op(self, inputs, outputs, grads):
        (gout,), s = grads, inputs[1]
        gout = set_subtensor(gout[_middle(gout, s)], gout[_middle(gout, s)] * 0.5)
        return [irfft_op(gout, s), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


class IRFFTOp(Op):
    """The unnormalized inverse of :class:`RFFTOp` (``numpy.fft.irfftn`` times the size), output
    sizes ``s``."""

    __props__ = ()

    def make_node(self, a, s=None):
        a = as_tensor_variable(a)
        if a.ndim < 3:
            raise TypeError("IRFFTOp: input must have dimension >= 3,  with first dimension batches "
                            "and last real/imag parts")
        if a.dtype not in float_dtypes:
            raise TypeError(f"IRFFTOp: input must be real floats, got {a.dtype}")
        if s is None:
            s = _inverse_sizes(a, False)
        s = _sizes(s, "IRFFTOp")
        return Apply(self, [a, s], [TensorType(a.dtype, (False,) * (a.ndim - 1))()])

    def perform(self, node, inputs, out):
        a, s = inputs
        out[0][0] = irfft_array(a, tuple(int(k) for k in s))

    def L_op(self, inputs, outputs, grads):
        (gout,), s = grads, inputs[1]
        gf = rfft_op(gout, s)
        gf = set_subtensor(gf[_middle(gf, s)], gf[_middle(gf, s)] * 2)
        return [gf, _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False]]


rfft_op = RFFTOp()
irfft_op = IRFFTOp()


def _norm(norm: Any) -> Any:
    if norm not in (None, "ortho", "no_norm"):
        raise ValueError(f"Invalid value {norm} for norm, must be None, 'ortho' or 'no norm'")
    return norm


def rfft(inp: Any, norm: str | None = None) -> Variable:
    """The FFT of real ``inp`` of shape ``(m, ..., n)`` over all axes but the first:
    ``(m, ..., n // 2 + 1, 2)``, real and imaginary parts last.

    Examples
    --------
    >>> import numpy as np
    >>> from thx.tensor import fft
    >>> fft.rfft(np.array([[1., 2., 3., 4.]])).eval()[0]
    array([[10.,  0.],
           [-2.,  2.],
           [-2.,  0.]])
    """
    inp = as_tensor_variable(inp)
    out = rfft_op(inp, shape(inp)[1:])
    if _norm(norm) == "ortho":
        return out / E.sqrt(E.cast(prod(shape(inp)[1:]), inp.dtype))
    return out


def irfft(inp: Any, norm: str | None = None, is_odd: bool = False) -> Variable:
    """The real inverse of :func:`rfft`: ``(m, ..., n // 2 + 1, 2) -> (m, ..., n)``, with ``n`` odd
    when ``is_odd``."""
    if is_odd not in (True, False):
        raise ValueError(f"Invalid value {is_odd} for id_odd, must be True or False")
    inp = as_tensor_variable(inp)
    s = _inverse_sizes(inp, is_odd)
    out = irfft_op(inp, s)
    norm = _norm(norm)
    if norm is None:
        return out / E.cast(prod(s), inp.dtype)
    if norm == "ortho":
        return out / E.sqrt(E.cast(prod(s), inp.dtype))
    return out
