"""Bag-of-words text classification with ``theano.sparse``.

Documents are rows of a ``scipy.sparse.csr_matrix`` of word counts, fed to the training function
as csr minibatches (each with its own number of nonzeros, the last one shorter).  A tanh layer on
the length-normalised counts (``structured_dot(x, W)`` divided by ``sp_sum(x, axis=1)``) feeds a
softmax regression; L2-regularised minibatch SGD on a training set reshuffled every epoch.  The
validation set is a sparse shared variable substituted by ``givens`` and classified through
``S.dot``; the test documents arrive as a dense array and are made sparse in the graph
(``csr_from_dense``).  Monitors: the tied-weight reconstruction error of the documents
(``dense_from_sparse``) and the expected word counts per class (``S.dot(x.T, p)``); once, the
validation set's word counts (``sp_sum(x, axis=0)``, ``x.toarray()``) and the cosine similarity
of its documents (``S.mul(x, x)``, ``S.true_dot(x, x.T)``, a sparse product).
"""

import numpy
import scipy.sparse as sp

import theano
import theano.sparse as S
import theano.tensor as T

from synthetic import bag_of_words, save_results


class BagOfWordsClassifier(object):
    """tanh hidden layer on length-normalised word counts, then softmax regression.

    Parameters
    ----------
    rng : numpy.random.RandomState
        Draws the hidden layer's weights.
    n_in : int
        Vocabulary size.
    n_hidden, n_out : int
        Hidden units and classes.
    init_range : float
        The hidden weights start uniform in ``[-init_range, init_range]``.
    """

    def __init__(self, rng, n_in, n_hidden, n_out, init_range=0.5):
        floatX = theano.config.floatX
        self.W_hid = theano.shared(
            numpy.asarray(rng.uniform(low=-init_range, high=init_range, size=(n_in, n_hidden)),
                          dtype=floatX), name='W_hid', borrow=True)
        self.b_hid = theano.shared(numpy.zeros((n_hidden,), dtype=floatX), name='b_hid',
                                   borrow=True)
        self.W_out = theano.shared(numpy.zeros((n_hidden, n_out), dtype=floatX), name='W_out',
                                   borrow=True)
        self.b_out = theano.shared(numpy.zeros((n_out,), dtype=floatX), name='b_out', borrow=True)
        self.params = [self.W_hid, self.b_hid, self.W_out, self.b_out]
        self.L2_sqr = (self.W_hid ** 2).sum() + (self.W_out ** 2).sum()

    def hidden(self, x, dot=S.structured_dot):
        """``tanh(x W_hid / doc_len + b_hid)`` for the sparse document matrix ``x``."""
        doc_len = S.sp_sum(x, axis=1)
        return T.tanh(dot(x, self.W_hid) / doc_len.dimshuffle(0, 'x') + self.b_hid)

    def p_y_given_x(self, x, dot=S.structured_dot):
        return T.nnet.softmax(T.dot(self.hidden(x, dot), self.W_out) + self.b_out)

    def negative_log_likelihood(self, x, y):
        return -T.mean(T.log(self.p_y_given_x(x))[T.arange(y.shape[0]), y])

    def errors(self, p_y_given_x, y):
        return T.mean(T.neq(T.argmax(p_y_given_x, axis=1), y))


def train(learning_rate=0.5, L2_reg=1e-4, n_epochs=10, batch_size=24, n_hidden=16):
    floatX = theano.config.floatX
    (train_X, train_y), (valid_X, valid_y), (test_X, test_y) = bag_of_words(seed=0)
    train_X = sp.csr_matrix(train_X, dtype=floatX)
    train_y = numpy.asarray(train_y, dtype='int32')
    valid_set_x = theano.shared(sp.csr_matrix(valid_X, dtype=floatX), name='valid_x')
    valid_set_y = theano.shared(numpy.asarray(valid_y, dtype='int32'), name='valid_y')
    test_X_dense = numpy.asarray(test_X.toarray(), dtype=floatX)
    test_y = numpy.asarray(test_y, dtype='int32')
    n_train, vocab = train_X.shape
    n_train_batches = int(numpy.ceil(n_train / float(batch_size)))

    x = S.csr_matrix('x')
    y = T.ivector('y')
    rng = numpy.random.RandomState(1234)
    model = BagOfWordsClassifier(rng, n_in=vocab, n_hidden=n_hidden, n_out=3)

    cost = model.negative_log_likelihood(x, y) + L2_reg * model.L2_sqr
    gparams = [T.grad(cost, param) for param in model.params]
    updates = [(param, param - learning_rate * gparam)
               for param, gparam in zip(model.params, gparams)]
    train_model = theano.function([x, y], cost, updates=updates)

    p_valid = model.p_y_given_x(x, dot=S.dot)
    validate_model = theano.function([], model.errors(p_valid, y),
                                     givens={x: valid_set_x, y: valid_set_y})

    x_dense = T.matrix('x_dense')
    p_test = model.p_y_given_x(S.csr_from_dense(x_dense))
    test_model = theano.function([x_dense, y],
                                 [model.errors(p_test, y), T.argmax(p_test, axis=1)])

    doc_len = S.sp_sum(x, axis=1)
    h = model.hidden(x, dot=S.dot)
    recon_error = T.sqr(S.dense_from_sparse(x) / doc_len.dimshuffle(0, 'x')
                        - T.dot(h, model.W_hid.T)).mean()
    class_word_mass = S.dot(x.T, p_valid)
    monitor = theano.function([], [recon_error, class_word_mass], givens={x: valid_set_x})

    norms = T.sqrt(S.sp_sum(S.mul(x, x), axis=1))
    cosine = (S.dense_from_sparse(S.true_dot(x, x.T))
              / (norms.dimshuffle(0, 'x') * norms.dimshuffle('x', 0)))
    corpus_stats = theano.function(
        [], [S.sp_sum(x, axis=0), T.gt(x.toarray(), 0).sum(axis=1), cosine],
        givens={x: valid_set_x})
    word_counts, distinct_words, doc_similarity = corpus_stats()

    best_valid = numpy.inf
    history = []
    for epoch in range(1, n_epochs + 1):
        perm = rng.permutation(n_train)
        epoch_X, epoch_y = train_X[perm], train_y[perm]
        costs = []
        for i in range(n_train_batches):
            costs.append(float(train_model(epoch_X[i * batch_size:(i + 1) * batch_size],
                                           epoch_y[i * batch_size:(i + 1) * batch_size])))
        valid_error = float(validate_model())
        recon, mass = monitor()
        record = {'epoch': epoch, 'train_costs': costs, 'valid_error': valid_error,
                  'recon_error': float(recon), 'class_word_mass': mass.sum(axis=0).tolist()}
        if valid_error < best_valid:
            best_valid = valid_error
            record['test_error'] = float(test_model(test_X_dense, test_y)[0])
        history.append(record)

    W = model.W_hid.get_value()
    save_results({'epochs': history, 'best_valid_error': float(best_valid),
                  'word_counts': numpy.asarray(word_counts).tolist(),
                  'distinct_words': numpy.asarray(distinct_words).tolist(),
                  'doc_similarity': numpy.asarray(doc_similarity).tolist(),
                  'test_predictions': test_model(test_X_dense, test_y)[1].tolist(),
                  'class_word_mass': mass.tolist(),
                  'W_checksum': [float(W.sum()), float((W ** 2).sum())],
                  'params': [p.get_value().tolist() for p in model.params]})


if __name__ == '__main__':
    train()
