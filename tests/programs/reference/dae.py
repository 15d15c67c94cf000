"""NumPy reference for scripts/dae.py: tied-weight denoising autoencoder, SGD.

The corruption is random inside the Theano graph (RandomStreams), so the reference consumes
the corrupted minibatches the script returned, after checking they are a binomial mask of the
clean minibatch with the right keep rate.
"""

import numpy as np

from .common import sigmoid, synthetic


def init(rng, n_visible, n_hidden):
    bound = 4 * np.sqrt(6. / (n_hidden + n_visible))
    return [rng.uniform(low=-bound, high=bound, size=(n_visible, n_hidden)),
            np.zeros(n_hidden), np.zeros(n_visible)]


def cost_and_grads(params, x, tilde_x):
    """Cross-entropy reconstruction of ``x`` from ``tilde_x`` (tied weights) and its gradients."""
    W, b, b_prime = params
    y = sigmoid(tilde_x.dot(W) + b)
    z = sigmoid(y.dot(W.T) + b_prime)
    n = x.shape[0]
    cost = np.mean(-np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), axis=1))
    dzpre = (z - x) / n
    da = dzpre.dot(W) * y * (1 - y)
    gW = tilde_x.T.dot(da) + dzpre.T.dot(y)
    return cost, [gW, da.sum(axis=0), dzpre.sum(axis=0)]


def check_mask(x, tilde_x, corruption_level, n_sigma=5.0):
    kept = tilde_x == x
    dropped = tilde_x == 0
    assert np.all(kept | dropped), 'corrupted input is not a 0/1 mask times the input'
    frac = np.mean(dropped)
    sd = np.sqrt(corruption_level * (1 - corruption_level) / x.size)
    assert abs(frac - corruption_level) < n_sigma * sd, \
        f'dropped fraction {frac} far from corruption_level {corruption_level}'


def run(got, learning_rate=0.1, training_epochs=5, batch_size=10, corruption_level=0.3):
    data = synthetic.soft_patterns(seed=0, n=60, n_in=16)
    rng = np.random.RandomState(123)
    rng.randint(2 ** 30)                     # the RandomStreams seed draw
    params = init(rng, 16, 8)
    n_batches = data.shape[0] // batch_size
    history = []
    xs, tildes = [], []
    for epoch in range(training_epochs):
        tilde_epoch = got['epochs'][epoch]['tilde_x']
        costs = []
        for i in range(n_batches):
            x = data[i * batch_size:(i + 1) * batch_size]
            tilde_x = np.asarray(tilde_epoch[i])
            xs.append(x)
            tildes.append(tilde_x)
            cost, grads = cost_and_grads(params, x, tilde_x)
            params = [p - learning_rate * g for p, g in zip(params, grads)]
            costs.append(float(cost))
        history.append({'epoch': epoch, 'costs': costs, 'mean_cost': float(np.mean(costs)),
                        'tilde_x': tilde_epoch})
    check_mask(np.concatenate(xs), np.concatenate(tildes), corruption_level)
    W, b, b_prime = params
    return {'epochs': history, 'W': W.tolist(), 'b': b.tolist(), 'b_prime': b_prime.tolist()}
