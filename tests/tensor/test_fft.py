"""``T.fft.rfft``/``irfft`` against ``numpy.fft`` (values) and ``jax.grad`` of ``jnp.fft``
(gradients), every norm, even and odd lengths, 2-d and 3-d batches."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.tensor import fft

R = np.random.RandomState(4)
NP_NORM = {None: "backward", "ortho": "ortho", "no_norm": "backward"}


def as_complex(a):
    return a[..., 0] + 1j * a[..., 1]


def test_theano_doc_example_box_to_sinc():
    x = T.matrix("x", dtype="float64")
    f_rfft = thx.function([x], fft.rfft(x, norm="ortho"))
    N = 1024
    box = np.zeros((1, N), dtype="float64")
    box[:, N // 2 - 10: N // 2 + 10] = 1
    out = f_rfft(box)
    assert out.shape == (1, N // 2 + 1, 2)
    np.testing.assert_allclose(as_complex(out[0]), np.fft.rfft(box[0], norm="ortho"), atol=1e-12)


@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
@pytest.mark.parametrize("shape", [(3, 8), (3, 7), (2, 5, 6), (2, 4, 5)])
def test_values_round_trip_and_gradients(norm, shape):
    x = T.TensorType("float64", (False,) * len(shape))("x")
    xv = R.randn(*shape)
    axes = tuple(range(1, len(shape)))
    odd = shape[-1] % 2 == 1
    y = fft.rfft(x, norm=norm)
    back = fft.irfft(y, norm=norm, is_odd=odd)
    spec = np.fft.rfftn(xv, axes=axes, norm=NP_NORM[norm])
    wy = R.randn(*spec.shape, 2)
    wx = R.randn(*shape)
    f = thx.function([x], [y, back, thx.grad(T.sum(y * wy), x), thx.grad(T.sum(T.sin(back) * wx), x)])
    got_y, got_back, g_rfft, g_round = f(xv)
    np.testing.assert_allclose(as_complex(got_y), spec, rtol=1e-10, atol=1e-12)
    scale = {None: 1.0, "ortho": 1.0, "no_norm": float(np.prod(shape[1:]))}[norm]
    np.testing.assert_allclose(got_back, xv * scale, rtol=1e-10, atol=1e-12)
    jnorm = NP_NORM[norm]

    def jrfft(q):
        A = jnp.fft.rfftn(q, axes=axes, norm=jnorm)
        return jnp.stack([A.real, A.imag], axis=-1)

    def jround(q):
        out = jnp.fft.irfftn(jnp.fft.rfftn(q, axes=axes, norm=jnorm), s=shape[1:], axes=axes, norm=jnorm)
        return jnp.sum(jnp.sin(out * scale) * wx)
    with jax.enable_x64(True):
        np.testing.assert_allclose(g_rfft, jax.grad(lambda q: jnp.sum(jrfft(q) * wy))(xv), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(g_round, jax.grad(jround)(xv), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("odd", [False, True])
def test_irfft_gradient_with_respect_to_the_spectrum(odd):
    Y = T.dtensor4("Y")
    yv = R.randn(2, 3, 4, 2)
    n = 7 if odd else 6
    w = R.randn(2, 3, n)
    g = thx.function([Y], thx.grad(T.sum(fft.irfft(Y, is_odd=odd) * w), Y))(yv)
    with jax.enable_x64(True):
        want = jax.grad(lambda q: jnp.sum(jnp.fft.irfftn(q[..., 0] + 1j * q[..., 1], s=(3, n),
                                                          axes=(1, 2)) * w))(yv)
    np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="Invalid value bad for norm"):
        fft.rfft(T.dmatrix(), norm="bad")
    with pytest.raises(ValueError, match="must be True or False"):
        fft.irfft(T.dtensor3(), is_odd=2)
    with pytest.raises(TypeError, match="first dimension batches"):
        fft.rfft(T.dvector())
    with pytest.raises(TypeError, match="must be real floats"):
        fft.rfft(T.lmatrix())
