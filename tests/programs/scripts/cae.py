"""Contractive autoencoder: reconstruction cross-entropy plus the Frobenius norm of the encoder's
Jacobian, minibatch SGD (deeplearning.net cA.py)."""

import numpy

import theano
import theano.tensor as T

from synthetic import save_results, soft_patterns


class cA(object):
    def __init__(self, numpy_rng, input=None, n_visible=16, n_hidden=6, n_batchsize=10,
                 W=None, bhid=None, bvis=None):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        self.n_batchsize = n_batchsize
        if not W:
            initial_W = numpy.asarray(
                numpy_rng.uniform(low=-4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  high=4 * numpy.sqrt(6. / (n_hidden + n_visible)),
                                  size=(n_visible, n_hidden)),
                dtype=theano.config.floatX)
            W = theano.shared(value=initial_W, name='W', borrow=True)
        if not bvis:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX),
                                 borrow=True)
        if not bhid:
            bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX),
                                 name='b', borrow=True)
        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        if input is None:
            self.x = T.dmatrix(name='input')
        else:
            self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_jacobian(self, hidden, W):
        return T.reshape(hidden * (1 - hidden), (self.n_batchsize, 1, self.n_hidden)) * \
            T.reshape(W, (1, self.n_visible, self.n_hidden))

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, contraction_level, learning_rate):
        y = self.get_hidden_values(self.x)
        z = self.get_reconstructed_input(y)
        J = self.get_jacobian(y, self.W)
        self.L_rec = - T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        # the tutorial divides with `//`, which Theano differentiates as a constant; true
        # division keeps the contraction term in the gradient
        self.L_jacob = T.sum(J ** 2) / self.n_batchsize
        cost = T.mean(self.L_rec) + contraction_level * T.mean(self.L_jacob)
        gparams = T.grad(cost, self.params)
        updates = []
        for param, gparam in zip(self.params, gparams):
            updates.append((param, param - learning_rate * gparam))
        return (cost, updates)


def test_cA(learning_rate=0.1, training_epochs=5, batch_size=10, contraction_level=0.1):
    train_set_x = theano.shared(numpy.asarray(soft_patterns(seed=1, n=60, n_in=16),
                                              dtype=theano.config.floatX), borrow=True)
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    ca = cA(numpy_rng=rng, input=x, n_visible=16, n_hidden=6, n_batchsize=batch_size)
    cost, updates = ca.get_cost_updates(contraction_level=contraction_level,
                                        learning_rate=learning_rate)
    train_ca = theano.function(
        [index], [T.mean(ca.L_rec), ca.L_jacob], updates=updates,
        givens={x: train_set_x[index * batch_size: (index + 1) * batch_size]})
    history = []
    for epoch in range(training_epochs):
        c = []
        for batch_index in range(n_train_batches):
            rec, jac = train_ca(batch_index)
            c.append([float(rec), float(jac)])
        c_array = numpy.vstack(c)
        history.append({'epoch': epoch, 'costs': c,
                        'mean_rec': float(numpy.mean(c_array[:, 0])),
                        'mean_jacobian': float(numpy.mean(numpy.sqrt(c_array[:, 1])))})
    save_results({'epochs': history, 'W': ca.W.get_value().tolist(),
                  'b': ca.b.get_value().tolist(), 'b_prime': ca.b_prime.get_value().tolist()})


if __name__ == '__main__':
    test_cA()
