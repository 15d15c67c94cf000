"""``T.mgrid``/``T.ogrid`` against NumPy's, and ``T.choose`` against ``numpy.choose`` (values,
modes, errors) and ``jax.grad`` of ``jnp.choose`` (gradient with respect to the choices)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T

R = np.random.RandomState(8)


@pytest.mark.parametrize("key", [(slice(0, 5), slice(0, 3)), (slice(1, 7, 2),), (slice(4), slice(2, 5), slice(0, 4, 3))])
def test_mgrid_and_ogrid_match_numpy(key):
    for ours, theirs in ((T.mgrid, np.mgrid), (T.ogrid, np.ogrid)):
        got = thx.function([], ours[key])()
        want = [theirs[key[0]]] if len(key) == 1 else list(theirs[key])  # Theano: always a list
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_mgrid_with_a_symbolic_bound():
    n = T.lscalar("n")
    f = thx.function([n], T.mgrid[0:n, 0:2])
    for g, w in zip(f(3), np.mgrid[0:3, 0:2]):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_matches_numpy(mode):
    a = T.lmatrix("a")
    c0, c1, c2 = T.dmatrix("c0"), T.drow("c1"), T.dscalar("c2")
    av = R.randint(0, 3, size=(3, 4)) if mode == "raise" else R.randint(-4, 7, size=(3, 4))
    cv = [R.randn(3, 4), R.randn(1, 4), np.asarray(2.5)]
    got = thx.function([a, c0, c1, c2], T.choose(a, [c0, c1, c2], mode=mode))(av, *cv)
    np.testing.assert_array_equal(got, np.choose(av, cv, mode=mode))
    stacked = T.dtensor3("s")
    sv = R.randn(3, 3, 4)
    got2 = thx.function([a, stacked], T.choose(a, stacked, mode=mode))(av, sv)
    np.testing.assert_array_equal(got2, np.choose(av, sv, mode=mode))


def test_choose_gradient_matches_jax():
    a = T.lvector("a")
    c0, c1 = T.dvector("c0"), T.dvector("c1")
    av, v0, v1 = np.array([1, 0, 1, 1]), R.randn(4), R.randn(4)
    out = T.choose(a, [c0, c1])
    got = thx.function([a, c0, c1], thx.grad(T.sum(T.sin(out)), [c0, c1]))(av, v0, v1)
    with jax.enable_x64(True):
        want = jax.grad(lambda p, q: jnp.sum(jnp.sin(jnp.choose(av, [p, q]))), argnums=(0, 1))(v0, v1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)


def test_choose_errors():
    f = thx.function([], T.choose(np.array([0, 3]), [np.zeros(2), np.ones(2)]))
    with pytest.raises(IndexError, match="out of bounds"):
        f()
    with pytest.raises(TypeError, match="a must hold integers"):
        T.choose(np.array([0.5]), [np.zeros(1)])
    with pytest.raises(ValueError, match="mode must be"):
        T.choose(np.array([0]), [np.zeros(1)], mode="nearest")
