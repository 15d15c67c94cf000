"""NumPy reference for scripts/gp.py: the GP log marginal likelihood and its hand-derived
gradient, ``d log p / d theta = 0.5 tr((a a^T - K^-1) dK/d theta)`` with ``a = K^-1 y``."""

import numpy as np

from .common import synthetic


def kernel(a, b, log_ell, log_sf2):
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return np.exp(log_sf2) * np.exp(-0.5 * d2 / np.exp(2 * log_ell)), d2


def log_ml_and_grads(params, x, y):
    """``(log p(y | x, params), its gradient, K)`` for ``params = (log_ell, log_sf2, log_sn2)``."""
    log_ell, log_sf2, log_sn2 = params
    n = x.shape[0]
    kf, d2 = kernel(x, x, log_ell, log_sf2)
    K = kf + np.exp(log_sn2) * np.eye(n)
    L = np.linalg.cholesky(K)
    a = np.linalg.solve(K, y)
    log_ml = -0.5 * y @ a - np.log(np.diag(L)).sum() - 0.5 * n * np.log(2 * np.pi)
    W = np.outer(a, a) - np.linalg.inv(K)
    dK = [kf * d2 / np.exp(2 * log_ell), kf, np.exp(log_sn2) * np.eye(n)]
    return log_ml, np.array([0.5 * np.sum(W * d) for d in dK]), K


def run(got=None, n_steps=15, learning_rate=0.05):
    (x, y), xs = synthetic.regression_1d(seed=5, n=30, n_test=8)
    params = np.array([np.log(0.5), 0.0, np.log(0.1)])
    history = []
    for i in range(n_steps):
        log_ml, grads, K = log_ml_and_grads(params, x, y)
        params = params + learning_rate * grads
        history.append({'step': i, 'log_ml': float(log_ml), 'logdet': float(np.log(np.linalg.det(K))),
                        'trace_inv': float(np.trace(np.linalg.inv(K))), 'grads': grads.tolist(),
                        'params': params.tolist()})
    log_ell, log_sf2, log_sn2 = params
    K = kernel(x, x, log_ell, log_sf2)[0] + np.exp(log_sn2) * np.eye(x.shape[0])
    ks = kernel(xs, x, log_ell, log_sf2)[0]
    mean = ks @ np.linalg.solve(K, y)
    var = np.exp(log_sf2) - np.einsum('ij,ji->i', ks, np.linalg.solve(K, ks.T))
    return {'epochs': history, 'mean': mean.tolist(), 'var': var.tolist()}
