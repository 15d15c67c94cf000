"""NumPy reference for scripts/rbm.py: binary RBM, CD-k, then persistent-chain sampling.

The Gibbs samples are drawn inside the Theano graph (RandomStreams in scan), so the reference
replays the chains the script returned: it checks that every sample is binary and, in aggregate,
distributed as the conditional probabilities the reference computes (a z-test), then recomputes
the monitoring cost and the CD update exactly from those samples.
"""

import numpy as np

from .common import sigmoid, synthetic


class BernoulliTally:
    """Accumulates (sample, probability) pairs; ``check()`` is a z-test on their sum."""

    def __init__(self):
        self.diff = 0.0
        self.var = 0.0
        self.count = 0

    def add(self, sample, p):
        sample = np.asarray(sample)
        assert np.all((sample == 0) | (sample == 1)), 'a binomial sample is not 0/1'
        assert np.all(sample[p == 0] == 0) and np.all(sample[p == 1] == 1)
        self.diff += float(np.sum(sample - p))
        self.var += float(np.sum(p * (1 - p)))
        self.count += sample.size

    def check(self, n_sigma=5.0):
        z = self.diff / np.sqrt(self.var)
        assert abs(z) < n_sigma, f'samples do not follow their probabilities: z = {z:.2f}'


def free_energy_grads(v, W, hbias):
    """Gradients of mean(free_energy(v)) wrt (W, hbias, vbias)."""
    ph = sigmoid(v.dot(W) + hbias)
    n = v.shape[0]
    return [-v.T.dot(ph) / n, -ph.sum(axis=0) / n, -v.sum(axis=0) / n]


def run(got, learning_rate=0.1, training_epochs=4, batch_size=10, n_chains=3, k=2):
    data = synthetic.binary_patterns(seed=0, n=60, n_in=16)
    test = synthetic.binary_patterns(seed=1, n=20, n_in=16)
    rng = np.random.RandomState(123)
    rng.randint(2 ** 30)                      # the RandomStreams seed draw
    bound = 4 * np.sqrt(6. / (6 + 16))
    W = rng.uniform(low=-bound, high=bound, size=(16, 6))
    hbias, vbias = np.zeros(6), np.zeros(16)
    tally = BernoulliTally()
    history = []
    for epoch in range(training_epochs):
        costs = []
        chains = got['epochs'][epoch]['chains']
        for i in range(data.shape[0] // batch_size):
            x = data[i * batch_size:(i + 1) * batch_size]
            chain_start, nv_samples, nh_samples = (np.asarray(c) for c in chains[i])
            assert nv_samples.shape == (k, batch_size, 16)
            assert nh_samples.shape == (k, batch_size, 6)
            tally.add(chain_start, sigmoid(x.dot(W) + hbias))
            h = chain_start
            for j in range(k):
                pre_v = h.dot(W.T) + vbias
                tally.add(nv_samples[j], sigmoid(pre_v))
                tally.add(nh_samples[j], sigmoid(nv_samples[j].dot(W) + hbias))
                h = nh_samples[j]
            p = sigmoid(pre_v)                # pre_sigmoid_nvs[-1]
            costs.append(float(np.mean(np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1))))
            chain_end = nv_samples[-1]
            g_data = free_energy_grads(x, W, hbias)
            g_model = free_energy_grads(chain_end, W, hbias)
            grads = [a - b for a, b in zip(g_data, g_model)]
            W, hbias, vbias = (p_ - learning_rate * g for p_, g in zip((W, hbias, vbias), grads))
        history.append({'epoch': epoch, 'costs': costs, 'mean_cost': float(np.mean(costs)),
                        'chains': chains})

    test_idx = rng.randint(test.shape[0] - n_chains)
    chain = test[test_idx:test_idx + n_chains]
    samples = []
    for s in got['samples']:
        hid = np.asarray(s['hid_sample'])
        vis = np.asarray(s['vis_sample'])
        assert np.all((hid == 0) | (hid == 1)) and np.all((vis == 0) | (vis == 1))
        vis_mf = sigmoid(hid.dot(W.T) + vbias)
        tally.add(vis, vis_mf)
        samples.append({'vis_mf': vis_mf.tolist(), 'vis_sample': s['vis_sample'],
                        'hid_sample': s['hid_sample'], 'chain': s['vis_sample']})
        chain = vis
    tally.check()
    return {'epochs': history, 'test_idx': int(test_idx), 'samples': samples,
            'params': [W.tolist(), hbias.tolist(), vbias.tolist()]}
