"""``T.nnet.ctc`` against a brute force over every alignment (values, in NumPy) and ``jax.grad``
of the same brute force (gradients): repeated labels, empty labels, padding, shorter inputs."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T

R = np.random.RandomState(10)


def collapse(path):
    out, prev = [], None
    for s in path:
        if s != prev and s != 0:
            out.append(s)
        prev = s
    return tuple(out)


def brute_force_cost(acts, labels, lengths, xp=np):
    """-log of the summed probability of every path over the alphabet that collapses to the label."""
    costs = []
    for b in range(acts.shape[1]):
        n = int(lengths[b])
        target = tuple(int(v) for v in labels[b] if v >= 0)
        logp = acts[:n, b] - jax.scipy.special.logsumexp(acts[:n, b], axis=1, keepdims=True) \
            if xp is jnp else acts[:n, b] - np.log(np.exp(acts[:n, b]).sum(axis=1, keepdims=True))
        terms = [sum(logp[t, s] for t, s in enumerate(path))
                 for path in itertools.product(range(acts.shape[2]), repeat=n) if collapse(path) == target]
        if not terms:
            costs.append(xp.inf)
            continue
        stacked = xp.stack(terms) if xp is jnp else np.array(terms)
        costs.append(-(jax.scipy.special.logsumexp(stacked) if xp is jnp else np.logaddexp.reduce(stacked)))
    return xp.stack(costs) if xp is jnp else np.array(costs)


def test_costs_and_gradients_match_the_brute_force():
    acts_v = R.randn(5, 4, 3)
    labels_v = np.array([[1, 2, -1], [1, 1, -1], [2, -1, -1], [-1, -1, -1]])  # repeated, short, empty
    lengths_v = np.array([5, 4, 3, 5])
    acts, labels, lengths = T.dtensor3("acts"), T.lmatrix("labels"), T.lvector("lengths")
    cost = T.nnet.ctc(acts, labels, lengths)
    f = thx.function([acts, labels, lengths], [cost, thx.grad(cost.sum(), acts)])
    got, g = f(acts_v, labels_v, lengths_v)
    np.testing.assert_allclose(got, brute_force_cost(acts_v, labels_v, lengths_v), rtol=1e-10)
    with jax.enable_x64(True):
        want_g = jax.grad(lambda a: jnp.sum(brute_force_cost(a, labels_v, lengths_v, jnp)))(acts_v)
    np.testing.assert_allclose(g, want_g, rtol=1e-8, atol=1e-12)
    assert np.all(g[4, 1] == 0) and np.all(g[3:, 2] == 0)  # steps past an example's length


def test_impossible_alignment_is_infinite_and_the_import_paths():
    from thx.scan.ctc import ctc, ctc_available
    thx.install_theano_alias()
    try:
        from theano.tensor.nnet.ctc import ctc as theano_ctc
    finally:
        thx.uninstall_theano_alias()
    assert theano_ctc is ctc and ctc_available()
    acts = np.zeros((2, 1, 3))
    assert np.isinf(ctc(acts, np.array([[1, 1]]), np.array([2])).eval()[0])  # "1 1" needs 3 steps


def test_errors():
    with pytest.raises(TypeError, match="activations must be a 3-d float tensor"):
        T.nnet.ctc(T.dmatrix(), T.lmatrix(), T.lvector())
    with pytest.raises(TypeError, match="labels must be a 2-d integer tensor"):
        T.nnet.ctc(T.dtensor3(), T.dmatrix(), T.lvector())
