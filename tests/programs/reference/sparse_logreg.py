"""NumPy reference for scripts/sparse_logreg.py: bag-of-words text classification by a tanh layer
on length-normalised word counts plus softmax regression, L2 regularised, minibatch SGD over a
reshuffled training set.

The reference works on dense arrays (``X.toarray()`` of the script's ``scipy.sparse`` matrices): a
sparse product only skips zeros, so every number the script computes sparsely is a dense product
here.  Same initialisation, same random permutations, same (ragged last) minibatches.
"""

import numpy as np

from .common import nll_and_grad, softmax, synthetic


def init(n_in=200, n_hidden=16, n_out=3, seed=1234, init_range=0.5):
    """The script's initial parameters and the ``RandomState`` it goes on to shuffle with.

    Returns
    -------
    params : dict
        ``W_hid`` (uniform in ``+-init_range``, ``n_in x n_hidden``), ``b_hid``, ``W_out``,
        ``b_out`` (zeros).
    rng : numpy.random.RandomState
        The generator after drawing ``W_hid``; the script draws each epoch's permutation from it.
    """
    rng = np.random.RandomState(seed)
    params = {'W_hid': rng.uniform(low=-init_range, high=init_range, size=(n_in, n_hidden)),
              'b_hid': np.zeros(n_hidden),
              'W_out': np.zeros((n_hidden, n_out)),
              'b_out': np.zeros(n_out)}
    return params, rng


def forward(P, x):
    """Document lengths, hidden layer and class probabilities of the dense count matrix ``x``.

    The hidden pre-activation is ``(x W_hid) / doc_len + b_hid``: the script divides the sparse
    product by ``sp_sum(x, axis=1)`` broadcast over the hidden units.
    """
    doc_len = x.sum(axis=1)
    h = np.tanh(x.dot(P['W_hid']) / doc_len[:, None] + P['b_hid'])
    return doc_len, h, softmax(h.dot(P['W_out']) + P['b_out'])


def cost_and_grads(P, x, y, L2_reg=1e-4):
    """Mean negative log-likelihood plus ``L2_reg`` times the squared weights, and its gradient.

    Returns
    -------
    cost : float
    grads : dict
        Hand-derived gradient wrt every entry of ``P`` (same keys).
    """
    doc_len, h, _ = forward(P, x)
    nll, dz, _ = nll_and_grad(h.dot(P['W_out']) + P['b_out'], y)
    cost = nll + L2_reg * ((P['W_hid'] ** 2).sum() + (P['W_out'] ** 2).sum())
    da = dz.dot(P['W_out'].T) * (1 - h ** 2)
    grads = {'W_hid': x.T.dot(da / doc_len[:, None]) + 2 * L2_reg * P['W_hid'],
             'b_hid': da.sum(axis=0),
             'W_out': h.T.dot(dz) + 2 * L2_reg * P['W_out'],
             'b_out': dz.sum(axis=0)}
    return cost, grads


def error(P, x, y):
    """Fraction of documents whose most probable class is not ``y``."""
    return float(np.mean(np.argmax(forward(P, x)[2], axis=1) != y))


def monitors(P, x):
    """The script's monitors on ``x``: the tied-weight reconstruction error of the normalised counts
    from the hidden layer, and ``x.T p`` (expected word counts per class, ``vocab x classes``)."""
    doc_len, h, p = forward(P, x)
    recon = np.mean((x / doc_len[:, None] - h.dot(P['W_hid'].T)) ** 2)
    return float(recon), x.T.dot(p)


NAMES = ['W_hid', 'b_hid', 'W_out', 'b_out']


def run(got=None, learning_rate=0.5, L2_reg=1e-4, n_epochs=10, batch_size=24, n_hidden=16):
    (tx, ty), (vx, vy), (sx, sy) = synthetic.bag_of_words(seed=0)
    tx, vx, sx = tx.toarray(), vx.toarray(), sx.toarray()
    n_train, vocab = tx.shape
    P, rng = init(n_in=vocab, n_hidden=n_hidden, n_out=3)
    n_train_batches = int(np.ceil(n_train / float(batch_size)))

    history, best_valid = [], np.inf
    for epoch in range(1, n_epochs + 1):
        perm = rng.permutation(n_train)
        ex, ey = tx[perm], ty[perm]
        costs = []
        for i in range(n_train_batches):
            rows = slice(i * batch_size, (i + 1) * batch_size)
            bx, by = ex[rows], ey[rows]
            cost, grads = cost_and_grads(P, bx, by, L2_reg)
            for k in NAMES:
                P[k] = P[k] - learning_rate * grads[k]
            costs.append(float(cost))
        valid_error = error(P, vx, vy)
        recon, mass = monitors(P, vx)
        record = {'epoch': epoch, 'train_costs': costs, 'valid_error': valid_error,
                  'recon_error': recon, 'class_word_mass': mass.sum(axis=0).tolist()}
        if valid_error < best_valid:
            best_valid = valid_error
            record['test_error'] = error(P, sx, sy)
        history.append(record)

    norms = np.sqrt((vx ** 2).sum(axis=1))
    return {'epochs': history, 'best_valid_error': float(best_valid),
            'word_counts': vx.sum(axis=0).tolist(),
            'distinct_words': (vx > 0).sum(axis=1).tolist(),
            'doc_similarity': (vx.dot(vx.T) / np.outer(norms, norms)).tolist(),
            'test_predictions': np.argmax(forward(P, sx)[2], axis=1).tolist(),
            'class_word_mass': mass.tolist(),
            'W_checksum': [float(P['W_hid'].sum()), float((P['W_hid'] ** 2).sum())],
            'params': [P[k].tolist() for k in NAMES]}
