"""``T.nnet.neighbours.images2neibs``/``neibs2images`` against a loop written from Theano's
pseudo-code (values) and ``jax.grad`` of the same loop in JAX (gradients), every mode."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.tensor.nnet.neighbours import images2neibs, neibs2images

R = np.random.RandomState(2)
x = T.dtensor4("x")


def reference(ten4, neib_shape, neib_step, mode, xp=np):
    """Theano's documented loop: for each image, each patch row and column, the flattened patch;
    'half'/'full' pad with zeros, 'wrap_centered' wraps around the centre."""
    (c, d), (sx, sy) = neib_shape, neib_step
    n, s, h, w = ten4.shape
    if mode in ("half", "full"):
        pr, pc = (c // 2, d // 2) if mode == "half" else (c - 1, d - 1)
        ten4 = xp.pad(ten4, [(0, 0), (0, 0), (pr, pr), (pc, pc)])
        h, w = h + 2 * pr, w + 2 * pc
    if mode == "wrap_centered":
        grid_c, grid_d = -(-h // sx), -(-w // sy)
    else:
        grid_c, grid_d = 1 + (h - c) // sx, 1 + (w - d) // sy
    # the loop, run once on positions: table[a, b, p * d + q] = flat pixel read by that entry
    table = np.zeros((grid_c, grid_d, c * d), dtype=int)
    for a in range(grid_c):
        for b in range(grid_d):
            for p in range(c):
                for q in range(d):
                    r, k = a * sx + p, b * sy + q
                    if mode == "wrap_centered":
                        r, k = (r - c // 2) % h, (k - d // 2) % w
                    table[a, b, p * d + q] = r * w + k
    flat = ten4.reshape(n * s, h * w)[:, table.reshape(-1)]
    return flat.reshape(n * s * grid_c * grid_d, c * d)


CASES = [
    ("valid", (2, 2), None, (2, 3, 4, 6)),
    ("valid", (3, 3), (1, 1), (1, 2, 5, 6)),
    ("ignore_borders", (3, 2), (2, 3), (2, 1, 8, 9)),
    ("wrap_centered", (3, 5), (2, 2), (1, 2, 5, 7)),
    ("half", (3, 3), (1, 1), (1, 1, 5, 6)),
    ("full", (2, 3), (1, 2), (1, 2, 4, 5)),
]


@pytest.mark.parametrize("mode,neib_shape,neib_step,shape", CASES)
def test_values_shape_and_gradient(mode, neib_shape, neib_step, shape):
    xv = R.randn(*shape)
    step = neib_step or neib_shape
    want = reference(xv, neib_shape, step, mode)
    weights = R.randn(*want.shape)
    out = images2neibs(x, neib_shape, neib_step, mode=mode)
    got, got_shape, g = thx.function([x], [out, out.shape, thx.grad(T.sum(T.sin(out) * weights), x)])(xv)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_shape, want.shape)
    with jax.enable_x64(True):
        want_g = jax.grad(lambda q: jnp.sum(jnp.sin(reference(q, neib_shape, step, mode, jnp)) * weights))(xv)
    np.testing.assert_allclose(g, want_g, rtol=1e-12)


def test_theano_doc_example_and_its_inverse():
    im_val = np.arange(100.).reshape((1, 1, 10, 10))
    neibs = images2neibs(x, neib_shape=(5, 5))
    neibs_val = thx.function([x], neibs)(im_val)
    assert neibs_val.shape == (4, 25)
    np.testing.assert_array_equal(neibs_val[1], im_val[0, 0, :5, 5:].ravel())
    z = T.dmatrix("z")
    inv = thx.function([z], neibs2images(z, (5, 5), im_val.shape))
    np.testing.assert_array_equal(inv(neibs_val), im_val)


def test_neibs2images_ignore_borders_zeroes_the_border_and_is_differentiable():
    xv = R.randn(2, 1, 5, 7)
    back = neibs2images(images2neibs(x, (2, 3), mode="ignore_borders"), (2, 3), x.shape,
                        mode="ignore_borders")
    got, g = thx.function([x], [back, thx.grad(T.sum(back ** 2), x)])(xv)
    kept = np.zeros_like(xv)
    kept[:, :, :4, :6] = xv[:, :, :4, :6]
    np.testing.assert_array_equal(got, kept)
    np.testing.assert_allclose(g, 2 * kept)


def test_through_the_aliases_and_in_debugmode():
    f = thx.function([x], thx.grad(T.sum(T.nnet.neighbours.images2neibs(x, (2, 2)) ** 3), x),
                     mode="DebugMode")
    xv = R.randn(1, 2, 4, 4)
    np.testing.assert_allclose(f(xv), 3 * xv ** 2)


def test_errors():
    f = thx.function([x], images2neibs(x, (3, 3)))
    with pytest.raises(ValueError, match=r"neib_shape\[0\]=3, neib_step\[0\]=3 and ten4.shape\[2\]=4 not consistent"):
        f(np.zeros((1, 1, 4, 6)))
    g = thx.function([x], images2neibs(x, (2, 3), mode="wrap_centered"))
    with pytest.raises(ValueError, match="need patch with odd shapes"):
        g(np.zeros((1, 1, 4, 6)))
    with pytest.raises(NotImplementedError, match="Only the modes"):
        images2neibs(x, (2, 2), mode="same")
    with pytest.raises(NotImplementedError, match="neibs2images do not support mode=half"):
        neibs2images(T.dmatrix(), (2, 2), (1, 1, 4, 4), mode="half")
    with pytest.raises(TypeError, match="ten4 must be a 4-d tensor"):
        images2neibs(T.dmatrix(), (2, 2))
