"""Gaussian-process regression: the kernel's hyperparameters (log length-scale, log signal and
noise variances) fitted by gradient ascent on the log marginal likelihood, written with
``theano.tensor.slinalg`` (Cholesky factor, triangular solves) and ``nlinalg`` (determinant,
inverse, trace, diag), then the predictive mean and variance at test points."""

import numpy

import theano
import theano.tensor as T
from theano.tensor import nlinalg, slinalg

from synthetic import regression_1d, save_results


def kernel(A, B, log_ell, log_sf2):
    d2 = ((A.dimshuffle(0, 'x', 1) - B.dimshuffle('x', 0, 1)) ** 2).sum(axis=2)
    return T.exp(log_sf2) * T.exp(-0.5 * d2 / T.exp(2 * log_ell))


def train(n_steps=15, learning_rate=0.05):
    (train_x, train_y), test_x = regression_1d(seed=5, n=30, n_test=8)
    X_data = theano.shared(train_x, name='X_data')
    y_data = theano.shared(train_y, name='y_data')

    X = T.dmatrix('X')
    y = T.dvector('y')
    Xs = T.dmatrix('Xs')
    log_ell = theano.shared(numpy.log(0.5), name='log_ell')
    log_sf2 = theano.shared(0.0, name='log_sf2')
    log_sn2 = theano.shared(numpy.log(0.1), name='log_sn2')
    params = [log_ell, log_sf2, log_sn2]

    n = X.shape[0]
    K = kernel(X, X, log_ell, log_sf2) + T.exp(log_sn2) * T.eye(n)
    L = slinalg.cholesky(K)
    alpha = slinalg.solve_upper_triangular(L.T, slinalg.solve_lower_triangular(L, y))
    log_ml = (-0.5 * T.dot(y, alpha) - T.log(nlinalg.diag(L)).sum()
              - 0.5 * T.cast(n, 'float64') * numpy.log(2 * numpy.pi))
    logdet = T.log(nlinalg.det(K))
    trace_inv = nlinalg.trace(nlinalg.matrix_inverse(K))
    grads = T.grad(log_ml, params)
    step = theano.function([], [log_ml, logdet, trace_inv] + grads,
                           updates=[(p, p + learning_rate * g) for p, g in zip(params, grads)],
                           givens={X: X_data, y: y_data})

    Ks = kernel(Xs, X, log_ell, log_sf2)
    v = slinalg.solve_lower_triangular(L, Ks.T)
    mean = T.dot(Ks, alpha)
    var = T.exp(log_sf2) - (v ** 2).sum(axis=0)
    predict = theano.function([Xs], [mean, var], givens={X: X_data, y: y_data})

    history = []
    for i in range(n_steps):
        out = step()
        history.append({'step': i, 'log_ml': float(out[0]), 'logdet': float(out[1]),
                        'trace_inv': float(out[2]), 'grads': [float(g) for g in out[3:]],
                        'params': [float(p.get_value()) for p in params]})
    mean_s, var_s = predict(test_x)
    save_results({'epochs': history, 'mean': mean_s.tolist(), 'var': var_s.tolist()})


if __name__ == '__main__':
    train()
