"""NumPy reference for scripts/mlp.py: tanh MLP + softmax, L1/L2 penalties, SGD, early stopping."""

import numpy as np

from .common import early_stopping_loop, errors, nll_and_grad, softmax, synthetic


def init(n_in=20, n_hidden=10, n_out=3):
    rng = np.random.RandomState(1234)
    bound = np.sqrt(6. / (n_in + n_hidden))
    return [rng.uniform(low=-bound, high=bound, size=(n_in, n_hidden)), np.zeros(n_hidden),
            np.zeros((n_hidden, n_out)), np.zeros(n_out)]


def cost_and_grads(params, x, y, L1_reg=0.001, L2_reg=0.0001):
    W1, b1, W2, b2 = params
    h = np.tanh(x.dot(W1) + b1)
    nll, dz, _ = nll_and_grad(h.dot(W2) + b2, y)
    cost = (nll + L1_reg * (np.abs(W1).sum() + np.abs(W2).sum())
            + L2_reg * ((W1 ** 2).sum() + (W2 ** 2).sum()))
    gW2 = h.T.dot(dz) + L1_reg * np.sign(W2) + 2 * L2_reg * W2
    gb2 = dz.sum(axis=0)
    da = dz.dot(W2.T) * (1 - h ** 2)
    gW1 = x.T.dot(da) + L1_reg * np.sign(W1) + 2 * L2_reg * W1
    gb1 = da.sum(axis=0)
    return cost, [gW1, gb1, gW2, gb2]


def predict(params, x):
    W1, b1, W2, b2 = params
    return softmax(np.tanh(x.dot(W1) + b1).dot(W2) + b2)


def run(got=None, learning_rate=0.05, n_epochs=6, batch_size=20):
    (tx, ty), (vx, vy), (sx, sy) = synthetic.classification(seed=0)
    params = init()

    def batches(x, y):
        return [(x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size])
                for i in range(x.shape[0] // batch_size)]

    train_b = batches(tx, ty)

    def train(i):
        cost, grads = cost_and_grads(params, *train_b[i])
        params[:] = [p - learning_rate * g for p, g in zip(params, grads)]
        return cost

    def error(x, y):
        return np.mean([errors(predict(params, bx), by) for bx, by in batches(x, y)])

    history, best = early_stopping_loop(n_epochs, len(train_b), train, lambda: error(vx, vy),
                                        lambda: error(sx, sy), patience=10000)
    return {'epochs': history, 'best_validation_loss': best,
            'params': [p.tolist() for p in params]}
