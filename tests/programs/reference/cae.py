"""NumPy reference for scripts/cae.py: contractive autoencoder (tied weights), SGD."""

import numpy as np

from .common import sigmoid, synthetic
from .dae import init


def cost_and_grads(params, x, contraction_level):
    """Returns (mean reconstruction cost, Jacobian penalty, total cost, gradients)."""
    W, b, b_prime = params
    n = x.shape[0]
    a = x.dot(W) + b
    y = sigmoid(a)
    z = sigmoid(y.dot(W.T) + b_prime)
    rec = np.mean(-np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), axis=1))
    s = y * (1 - y)                              # d y / d a
    col = (W ** 2).sum(axis=0)                   # sum_i W_ij^2
    jac = np.sum(s ** 2 * col) / n               # sum (s_bj W_ij)^2 / batch
    dzpre = (z - x) / n
    dy = dzpre.dot(W)
    ds = contraction_level * 2 * s * col / n
    da = dy * s + ds * s * (1 - 2 * y)
    gW = x.T.dot(da) + dzpre.T.dot(y) + contraction_level * 2 * W * (s ** 2).sum(axis=0) / n
    grads = [gW, da.sum(axis=0), dzpre.sum(axis=0)]
    return rec, jac, rec + contraction_level * jac, grads


def run(got=None, learning_rate=0.1, training_epochs=5, batch_size=10, contraction_level=0.1):
    data = synthetic.soft_patterns(seed=1, n=60, n_in=16)
    params = init(np.random.RandomState(123), 16, 6)
    n_batches = data.shape[0] // batch_size
    history = []
    for epoch in range(training_epochs):
        c = []
        for i in range(n_batches):
            rec, jac, _, grads = cost_and_grads(params, data[i * batch_size:(i + 1) * batch_size],
                                                contraction_level)
            params = [p - learning_rate * g for p, g in zip(params, grads)]
            c.append([float(rec), float(jac)])
        arr = np.array(c)
        history.append({'epoch': epoch, 'costs': c, 'mean_rec': float(np.mean(arr[:, 0])),
                        'mean_jacobian': float(np.mean(np.sqrt(arr[:, 1])))})
    W, b, b_prime = params
    return {'epochs': history, 'W': W.tolist(), 'b': b.tolist(), 'b_prime': b_prime.tolist()}
