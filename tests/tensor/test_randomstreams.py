"""Random streams: Theano's tutorial semantics and the distributions' statistics.

Oracles: the distributions' known moments (bounds wide enough for the
sample sizes: > 6 standard errors), jax.random with the same key, and the
tutorial's exact claims (f differs per call, g repeats, nearly_zeros is 0).
"""

import jax
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx import function
from thx.sandbox.rng_mrg import MRG_RandomStreams
from thx.tensor.shared_randomstreams import RandomKey, RandomStreams


def test_tutorial_examples_section():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    f1, f2 = f(), f()
    assert f1.shape == (2, 2) and f1.dtype == thx.config.floatX
    assert not np.allclose(f1, f2)
    np.testing.assert_array_equal(g(), g())
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))


def test_numbers_are_jax_random_from_the_stored_key():
    srng = RandomStreams(seed=7)
    rv = srng.uniform((3,))
    key = rv.rng.get_value()
    with jax.enable_x64(True):
        k = jax.random.wrap_key_data(np.asarray(key), impl="threefry2x32")
        new_key, sub = jax.random.split(k)
        expected = jax.random.uniform(sub, (3,), "float64")
    np.testing.assert_allclose(function([], rv)(), np.asarray(expected))
    np.testing.assert_array_equal(rv.rng.get_value(), np.asarray(jax.random.key_data(new_key)))


def test_seeding_and_sharing_streams_as_in_the_tutorial():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = function([], rv_u)
    rng_val = rv_u.rng.get_value(borrow=True)  # the rng of rv_u
    assert isinstance(rng_val, RandomKey)
    rng_val.seed(89234)  # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)
    a = f()
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_array_equal(f(), a)  # same seed, same numbers
    srng.seed(902340)  # re-seeds every stream of srng, deterministically
    b = f()
    srng.seed(902340)
    np.testing.assert_array_equal(f(), b)
    state_after_v0 = rv_u.rng.get_value().get_state()
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 == v1: the state was restored
    v3 = f()  # v3 != v1
    np.testing.assert_array_equal(v1, v2)
    assert not np.allclose(v1, v3)
    # Same seed, same streams; another seed, other numbers.
    same = RandomStreams(seed=234).uniform((2, 2))
    other = RandomStreams(seed=235).uniform((2, 2))
    first = function([], RandomStreams(seed=234).uniform((2, 2)))()
    np.testing.assert_array_equal(function([], same)(), first)
    assert not np.allclose(function([], other)(), first)
    # A numpy RandomState is accepted (it draws the seed) and updates() lists every stream.
    rv_u.rng.set_value(np.random.RandomState(3))
    assert [u[0] for u in srng.updates()] == [rv_u.rng]


def test_distribution_statistics():
    srng = RandomStreams(seed=1)
    n = 20000
    draws = function([], [
        srng.uniform((n,), low=2.0, high=5.0),
        srng.normal((n,), avg=1.0, std=3.0),
        srng.binomial((n,), n=1, p=0.3),
        srng.binomial((n,), n=10, p=0.4),
        srng.random_integers((n,), low=-2, high=3),
        srng.choice((n,), a=4, p=[0.1, 0.2, 0.3, 0.4]),
        srng.poisson((n,), lam=3.0),
        srng.multinomial((n,), n=5, pvals=[0.2, 0.8]),
    ])()
    u, z, b1, b10, ri, ch, po, mu = draws
    assert u.min() >= 2.0 and u.max() < 5.0 and abs(u.mean() - 3.5) < 0.04
    assert abs(u.var() - 0.75) < 0.04
    assert abs(z.mean() - 1.0) < 0.13 and abs(z.std() - 3.0) < 0.1
    assert b1.dtype == "int64" and set(np.unique(b1)) == {0, 1} and abs(b1.mean() - 0.3) < 0.02
    assert abs(b10.mean() - 4.0) < 0.07 and abs(b10.var() - 2.4) < 0.2
    assert set(np.unique(ri)) == set(range(-2, 4))
    np.testing.assert_allclose(np.bincount(ch, minlength=4) / n, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    assert abs(po.mean() - 3.0) < 0.08 and abs(po.var() - 3.0) < 0.25
    assert mu.shape == (n, 2) and (mu.sum(axis=1) == 5).all() and abs(mu[:, 1].mean() - 4.0) < 0.03


def test_shapes_from_symbolic_sizes_and_parameters():
    srng = RandomStreams(seed=3)
    x = T.dmatrix("x")
    noisy = x + srng.normal(x.shape, std=1e-3)
    f = function([x], noisy)
    xv = np.arange(6.0).reshape(2, 3)
    assert f(xv).shape == (2, 3) and np.abs(f(xv) - xv).max() < 0.01
    # No size: the shape of the parameters; size -1: a parameter's length.
    low = T.dvector("low")
    g = function([low], [srng.uniform(low=low, high=low + 1), srng.uniform((2, -1), low=low)])
    a, b = g(np.array([0.0, 10.0, 20.0]))
    assert a.shape == (3,) and ((a >= [0, 10, 20]) & (a < [1, 11, 21])).all()
    assert b.shape == (2, 3)
    # The gradient does not flow into the random draw's size (x's shape) or parameters.
    gx = function([x], T.grad(T.sum(x * srng.normal(x.shape)), x), no_default_updates=True)
    assert gx(xv).shape == (2, 3)
    with pytest.raises(thx.gradient.NullTypeGradError, match="raw random"):
        m = T.dscalar("m")
        T.grad(T.sum(srng.normal((2,), avg=m)), m)


def test_mrg_random_streams():
    srng = MRG_RandomStreams(seed=12345)
    u = srng.uniform(size=(3000,))
    t = srng.normal(size=(3000,), avg=2.0, std=0.5, truncate=True)
    b = srng.binomial(size=(3000,), p=0.9)
    m = srng.multinomial(pvals=np.array([[0.0, 1.0], [1.0, 0.0]]))
    f = function([], [u, t, b, m])
    uv, tv, bv, mv = f()
    assert uv.dtype == "float64" and (uv >= 0).all() and (uv < 1).all()
    assert np.abs(tv - 2.0).max() <= 1.0 and abs(tv.mean() - 2.0) < 0.05
    assert abs(bv.mean() - 0.9) < 0.04
    np.testing.assert_array_equal(mv, [[0, 1], [1, 0]])
    # Copying the random state between two streams (the tutorial's copy_random_state).
    other = MRG_RandomStreams(seed=1)
    other.rstate = srng.rstate  # new streams now get the same seeds
    f_ours, f_theirs = function([], srng.uniform((4,))), function([], other.uniform((4,)))
    np.testing.assert_array_equal(f_ours(), f_theirs())
    f_ours()  # advances only our stream
    for su1, su2 in zip(srng.state_updates[-1:], other.state_updates):
        su2[0].set_value(su1[0].get_value())
    np.testing.assert_array_equal(f_ours(), f_theirs())
