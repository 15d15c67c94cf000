"""NumPy reference for scripts/logreg.py: softmax regression, minibatch SGD, early stopping."""

import numpy as np

from .common import early_stopping_loop, errors, nll_and_grad, softmax, synthetic


def run(got=None, learning_rate=0.13, n_epochs=8, batch_size=20):
    (tx, ty), (vx, vy), (sx, sy) = synthetic.classification(seed=0)
    W = np.zeros((20, 3))
    b = np.zeros(3)

    def batches(x, y):
        return [(x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size])
                for i in range(x.shape[0] // batch_size)]

    train_b = batches(tx, ty)

    def train(i):
        nonlocal W, b
        x, y = train_b[i]
        cost, dz, _ = nll_and_grad(x.dot(W) + b, y)
        gW, gb = x.T.dot(dz), dz.sum(axis=0)
        W, b = W - learning_rate * gW, b - learning_rate * gb
        return cost

    def error(x, y):
        return np.mean([errors(softmax(bx.dot(W) + b), by) for bx, by in batches(x, y)])

    history, best = early_stopping_loop(n_epochs, len(train_b), train,
                                        lambda: error(vx, vy), lambda: error(sx, sy))
    return {'epochs': history, 'best_validation_loss': best, 'W': W.tolist(), 'b': b.tolist()}
