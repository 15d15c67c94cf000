"""The NumPy references' hand-derived backward passes against central finite differences, and
their building blocks against independent oracles, so a program test that fails points at thx."""

import numpy as np
import pytest

from tests.programs.reference import (cae, common, dae, elman, gp, lenet, linesearch, lstm, mlp,
                                      rbm, rnnrbm, sparse_logreg)


def numeric_grad(f, P, eps=1e-6):
    """Central differences of the scalar ``f(P)`` wrt every array in the dict ``P``."""
    out = {}
    for k, v in P.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + eps
            hi = f(P)
            v[idx] = old - eps
            lo = f(P)
            v[idx] = old
            g[idx] = (hi - lo) / (2 * eps)
        out[k] = g
    return out


def assert_grads(f, grads, P, tol=1e-6):
    num = numeric_grad(f, P)
    for k in P:
        np.testing.assert_allclose(grads[k], num[k], atol=tol, rtol=1e-5, err_msg=k)


def as_dict(params):
    return {str(i): p for i, p in enumerate(params)}


RNG = np.random.RandomState(42)


def test_mlp_gradient():
    P = [p + 0.3 * RNG.randn(*p.shape) for p in mlp.init(n_in=4, n_hidden=3, n_out=3)]
    x, y = RNG.randn(5, 4), RNG.randint(3, size=5)
    f = lambda D: mlp.cost_and_grads([D[str(i)] for i in range(4)], x, y)[0]  # noqa: E731
    assert_grads(f, as_dict(mlp.cost_and_grads(P, x, y)[1]), as_dict(P))


def test_dae_gradient():
    P = [p + 0.3 * RNG.randn(*p.shape) for p in dae.init(RNG, 5, 3)]
    x = RNG.rand(4, 5)
    tilde = x * (RNG.rand(4, 5) > 0.3)
    f = lambda D: dae.cost_and_grads([D[str(i)] for i in range(3)], x, tilde)[0]  # noqa: E731
    assert_grads(f, as_dict(dae.cost_and_grads(P, x, tilde)[1]), as_dict(P))


def test_cae_gradient_includes_the_jacobian_penalty():
    P = [p + 0.3 * RNG.randn(*p.shape) for p in dae.init(RNG, 5, 3)]
    x = RNG.rand(4, 5)
    f = lambda D: cae.cost_and_grads([D[str(i)] for i in range(3)], x, 0.7)[2]  # noqa: E731
    assert_grads(f, as_dict(cae.cost_and_grads(P, x, 0.7)[3]), as_dict(P))
    W, b, _ = P
    h = common.sigmoid(x.dot(W) + b)
    J = (h * (1 - h))[:, None, :] * W[None, :, :]      # d h_bj / d x_bi, by broadcasting
    assert np.isclose(cae.cost_and_grads(P, x, 0.7)[1], (J ** 2).sum() / 4)


def test_lenet_conv_is_scipy_convolution():
    from scipy import signal
    x, W = RNG.randn(2, 3, 6, 5), RNG.randn(4, 3, 3, 2)
    want = np.array([[sum(signal.convolve2d(x[b, c], W[k, c], mode='valid') for c in range(3))
                      for k in range(4)] for b in range(2)])
    np.testing.assert_allclose(lenet.conv_valid(x, W), want, rtol=1e-12)


def test_lenet_max_pool_ignores_the_border():
    x = RNG.randn(1, 1, 5, 4)
    out, _ = lenet.max_pool(x)
    want = [[max(x[0, 0, 2 * i + a, 2 * j + b] for a in (0, 1) for b in (0, 1)) for j in range(2)]
            for i in range(2)]
    np.testing.assert_array_equal(out[0, 0], want)


def test_lenet_gradient():
    P = {k: v + 0.3 * RNG.randn(*v.shape) for k, v in lenet.init().items()}
    x, y = RNG.randn(8, 64), RNG.randint(3, size=8)
    assert_grads(lambda D: lenet.cost_and_grads(D, x, y)[0], lenet.cost_and_grads(P, x, y)[1], P)


def test_elman_gradient_with_padding_index():
    P = {k: v + 0.3 * RNG.randn(*v.shape) for k, v in elman.init(3, 4, 6, 2, 3, 1).items()}
    idx = elman.contextwin([1, 5, 2, 2], 3)               # contains the -1 padding index
    y = np.array([0, 3, 1, 2])
    assert_grads(lambda D: elman.cost_and_grads(D, idx, y)[0],
                 elman.cost_and_grads(P, idx, y)[1], P)


def test_lstm_gradient_with_masked_steps():
    P = {k: v + 0.3 * RNG.randn(*v.shape) for k, v in lstm.init(7, 3, 2).items()}
    x, mask = lstm.prepare_data([[1, 2, 3], [4, 5], [6, 1, 2, 3]])
    y = [0, 1, 1]
    assert_grads(lambda D: lstm.cost_and_grads(D, x, mask, y, 0.1)[0],
                 lstm.cost_and_grads(P, x, mask, y, 0.1)[1], P)


def test_rnnrbm_gradient():
    P = {k: v + 0.3 * RNG.randn(*v.shape) for k, v in rnnrbm.init().items()}
    v, vs = (RNG.rand(4, 8) < 0.5) * 1.0, (RNG.rand(4, 8) < 0.5) * 1.0

    def cost(D):
        _, _, bv, bh = rnnrbm.rnn(D, v)

        def F(x):
            return -(x * bv).sum() - np.log1p(np.exp(x.dot(D['W']) + bh)).sum()
        return (F(v) - F(vs)) / 4
    assert_grads(cost, rnnrbm.grads(P, v, vs), P)


def test_rbm_free_energy_gradient():
    W, hb, v = RNG.randn(5, 3), RNG.randn(3), (RNG.rand(4, 5) < 0.5) * 1.0
    P = {'W': W, 'hbias': hb, 'vbias': RNG.randn(5)}

    def fe(D):
        wx_b = v.dot(D['W']) + D['hbias']
        return np.mean(-np.log1p(np.exp(wx_b)).sum(axis=1) - v.dot(D['vbias']))
    g = rbm.free_energy_grads(v, P['W'], P['hbias'])
    assert_grads(fe, dict(zip(['W', 'hbias', 'vbias'], g)), P)


def test_bernoulli_tally_rejects_wrong_probabilities():
    p = np.full(4000, 0.3)
    good = BernoulliTally_from(p, p)
    good.check()
    bad = BernoulliTally_from(p, np.full(4000, 0.5))
    with pytest.raises(AssertionError):
        bad.check()


def BernoulliTally_from(p_claimed, p_true):
    t = rbm.BernoulliTally()
    t.add((np.random.RandomState(0).rand(p_true.size) < p_true) * 1.0, p_claimed)
    return t


def test_linesearch_gradient():
    P = {'w': RNG.randn(4), 'b': np.array(0.3)}
    x, y = RNG.randn(6, 4), RNG.randint(2, size=6)
    _, gw, gb = linesearch.cost_and_grads(P['w'], P['b'], x, y, 0.1)
    assert_grads(lambda D: linesearch.cost_and_grads(D['w'], D['b'], x, y, 0.1)[0],
                 {'w': gw, 'b': np.asarray(gb)}, P)


def test_gp_log_marginal_likelihood_gradient():
    x, y = RNG.uniform(-1, 1, size=(7, 1)), RNG.randn(7)
    P = {'theta': np.array([np.log(0.4), 0.2, np.log(0.2)])}
    _, g, _ = gp.log_ml_and_grads(P['theta'], x, y)
    assert_grads(lambda D: gp.log_ml_and_grads(D['theta'], x, y)[0], {'theta': g}, P)


def test_sparse_logreg_gradient_through_length_normalisation():
    P = {k: v + 0.3 * RNG.randn(*v.shape)
         for k, v in sparse_logreg.init(n_in=7, n_hidden=4, n_out=3)[0].items()}
    x = RNG.poisson(0.5, size=(5, 7)) * 1.0
    x[:, 0] += 1.0                                       # no empty document: sp_sum(x, 1) > 0
    y = RNG.randint(3, size=5)
    assert_grads(lambda D: sparse_logreg.cost_and_grads(D, x, y, 0.1)[0],
                 sparse_logreg.cost_and_grads(P, x, y, 0.1)[1], P)


def test_bag_of_words_minibatches_are_sparse_with_varying_nnz():
    (tx, _), (vx, _), (sx, _) = common.synthetic.bag_of_words(seed=0)
    for X in (tx, vx, sx):
        assert X.format == 'csr' and X.dtype == np.float64 and X.shape[1] == 200
        assert 0.03 < X.nnz / float(np.prod(X.shape)) < 0.08
        assert (X.sum(axis=1) > 0).all()
    nnz = [tx[i * 24:(i + 1) * 24].nnz for i in range(int(np.ceil(tx.shape[0] / 24.)))]
    assert len(set(nnz)) > 3                             # each minibatch its own nnz
    assert tx.shape[0] % 24 > 0                          # and the last one is shorter
