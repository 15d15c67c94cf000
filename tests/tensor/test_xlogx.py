"""theano.tensor.xlogx: xlogx and xlogy0, values vs NumPy/SciPy-style formulas, gradients vs jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.tensor.xlogx import xlogx, xlogy0


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def test_values_including_zero():
    x, y = T.dvectors("x", "y")
    xv = np.array([0.0, 0.5, 1.0, 3.0])
    yv = np.array([0.0, 2.0, 0.25, 7.0])
    f = thx.function([x, y], [xlogx(x), xlogy0(x, y)])
    a, b = f(xv, yv)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(a, np.where(xv == 0, 0.0, xv * np.log(xv)), rtol=1e-15)
        np.testing.assert_allclose(b, np.where(xv == 0, 0.0, xv * np.log(yv)), rtol=1e-15)
    assert T.xlogx.xlogx is xlogx  # Theano's spelling: T.xlogx.xlogx


def test_gradients_match_jax():
    x, y = T.dvectors("x", "y")
    xv = np.array([0.3, 1.0, 2.5])
    yv = np.array([0.7, 4.0, 1.5])
    cost = (xlogx(x) * np.array([1.0, 2.0, 3.0])).sum() + xlogy0(x, y).sum()
    gx, gy = thx.function([x, y], T.grad(cost, [x, y]))(xv, yv)

    def ref(a, b):
        return (a * jnp.log(a) * jnp.array([1.0, 2.0, 3.0])).sum() + (a * jnp.log(b)).sum()

    jx, jy = jax.grad(ref, argnums=(0, 1))(jnp.asarray(xv), jnp.asarray(yv))
    np.testing.assert_allclose(gx, jx, rtol=1e-12)
    np.testing.assert_allclose(gy, jy, rtol=1e-12)


def test_float32_stays_float32_and_prints():
    x = T.fvector("x")
    assert xlogx(x).dtype == "float32"
    assert thx.pp(xlogx(x)) == "xlogx(x)"
