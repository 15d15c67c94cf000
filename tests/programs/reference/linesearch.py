"""NumPy reference for scripts/linesearch.py: logistic regression, Armijo backtracking."""

import numpy as np

from .common import sigmoid, synthetic


def cost_and_grads(w, b, x, y, l2):
    p = sigmoid(x.dot(w) + b)
    cost = np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)) + l2 * (w ** 2).sum()
    d = (p - y) / x.shape[0]
    return cost, x.T.dot(d) + 2 * l2 * w, d.sum()


def run(got=None, batch_size=20, n_epochs=6, l2=0.01, alpha=0.3, beta=0.5, max_tries=20,
        initial_step=16.):
    (tx, ty), (vx, vy), (sx, sy) = synthetic.classification(seed=3, n_in=6, n_classes=2,
                                                            sizes=(100, 40, 40))
    w, b = np.zeros(6), 0.0

    def error(x, y):
        return float(np.mean((sigmoid(x.dot(w) + b) > 0.5) != y))

    best_valid, bad_epochs, history = np.inf, 0, []
    for epoch in range(n_epochs):
        costs, steps, tries = [], [], []
        for i in range(tx.shape[0] // batch_size):
            x, y = tx[i * batch_size:(i + 1) * batch_size], ty[i * batch_size:(i + 1) * batch_size]
            cost, gw, gb = cost_and_grads(w, b, x, y, l2)
            gnorm2 = (gw ** 2).sum() + gb ** 2
            t = initial_step / beta
            for n in range(1, max_tries + 1):
                t = t * beta
                if cost_and_grads(w - t * gw, b - t * gb, x, y, l2)[0] <= cost - alpha * t * gnorm2:
                    break
            w, b = w - t * gw, b - t * gb
            costs.append(float(cost))
            steps.append(float(t))
            tries.append(n)
        valid_error = error(vx, vy)
        record = {'epoch': epoch, 'costs': costs, 'steps': steps, 'tries': tries,
                  'valid_error': valid_error}
        if valid_error < best_valid:
            best_valid, bad_epochs = valid_error, 0
            record['test_error'] = error(sx, sy)
        else:
            bad_epochs += 1
        history.append(record)
        if bad_epochs >= 2:
            break
    return {'epochs': history, 'w': w.tolist(), 'b': float(b)}
