"""Smaller Theano functions: ``conv3d2d.conv3d`` (vs ``scipy.signal`` and ``jax.grad``),
``nnet.confusion_matrix``, ``extra_ops.cpu_contiguous`` and ``T.sparse_grad`` (vs NumPy)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import scipy.signal

import thx
import thx.tensor as T
from thx.tensor.nnet.conv3d2d import conv3d

R = np.random.RandomState(9)


def reference_conv3d2d(s, f):
    """Theano's conv3d2d: out[b, t, o] = sum_c convolve(s[b, :, c], f[o, :, c], 'valid')."""
    b, _, c, _, _ = s.shape
    o = f.shape[0]
    vols = [[sum(scipy.signal.convolve(s[i, :, k], f[j, :, k], mode="valid") for k in range(c))
             for j in range(o)] for i in range(b)]
    return np.asarray(vols).transpose(0, 2, 1, 3, 4)


def test_conv3d2d_is_a_time_second_valid_convolution_with_gradients():
    s, f = T.dtensor5("s"), T.dtensor5("f")
    sv, fv = R.randn(2, 5, 3, 6, 7), R.randn(4, 2, 3, 3, 2)
    out = conv3d(s, f, signals_shape=sv.shape, filters_shape=fv.shape)
    w = R.randn(2, 4, 4, 4, 6)
    got, gs, gf = thx.function([s, f], [out] + thx.grad(T.sum(out * w), [s, f]))(sv, fv)
    np.testing.assert_allclose(got, reference_conv3d2d(sv, fv), rtol=1e-10, atol=1e-12)
    with jax.enable_x64(True):
        from jax import lax

        def jconv(a, b):  # the same convolution in JAX: flipped filters, channels in axis 2
            y = lax.conv_general_dilated(a.transpose(0, 2, 1, 3, 4), b[:, ::-1, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4),
                                         (1, 1, 1), "VALID")
            return (y.transpose(0, 2, 1, 3, 4) * w).sum()
        want = jax.grad(jconv, argnums=(0, 1))(sv, fv)
    np.testing.assert_allclose(gs, want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gf, want[1], rtol=1e-10, atol=1e-12)
    with pytest.raises(NotImplementedError, match="Only valid border mode"):
        conv3d(s, f, border_mode="full")


def test_confusion_matrix_counts_pairs():
    a, p = T.lvector("a"), T.lvector("p")
    f = thx.function([a, p], T.nnet.confusion_matrix(a, p))
    av, pv = R.randint(0, 4, 30), R.randint(1, 5, 30)
    conf, order = f(av, pv)
    np.testing.assert_array_equal(order, np.unique(np.r_[av, pv]))
    want = np.array([[np.sum((av == i) & (pv == j)) for j in order] for i in order])
    np.testing.assert_array_equal(conf, want)
    assert conf.dtype == np.int64
    with pytest.raises(ValueError, match="actual must be 1-d"):
        T.nnet.confusion_matrix(T.lmatrix(), p)


def test_cpu_contiguous_and_sparse_grad_leave_values_and_gradients_alone():
    from thx.tensor.extra_ops import cpu_contiguous
    x, i = T.dmatrix("x"), T.lvector("i")
    xv, iv = R.randn(4, 3), np.array([2, 0, 2])
    rows = T.sparse_grad(x[i])
    f = thx.function([x, i], [cpu_contiguous(x.T), thx.grad(T.sum(rows ** 2), x)])
    t, g = f(xv, iv)
    np.testing.assert_array_equal(t, xv.T)
    want = np.zeros_like(xv)
    np.add.at(want, iv, 2 * xv[iv])
    np.testing.assert_allclose(g, want)
    with pytest.raises(TypeError, match="only implemented for AdvancedSubtensor1"):
        T.sparse_grad(x * 2)
