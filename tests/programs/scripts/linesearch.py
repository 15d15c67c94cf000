"""Binary logistic regression trained by minibatch gradient descent whose step size comes from an
Armijo backtracking line search run as a scan with ``until`` (the scan stops at the first step
size that decreases the cost enough), with L2 weight decay and early stopping."""

import numpy

import theano
import theano.tensor as T
from theano.scan_module import until

from synthetic import classification, save_results


def train(batch_size=20, n_epochs=6, l2=0.01, alpha=0.3, beta=0.5, max_tries=20,
          initial_step=16.):
    sets = classification(seed=3, n_in=6, n_classes=2, sizes=(100, 40, 40))
    floatX = theano.config.floatX
    train_set_x, valid_set_x, test_set_x = [theano.shared(numpy.asarray(x, dtype=floatX))
                                            for x, _ in sets]
    train_set_y, valid_set_y, test_set_y = [
        T.cast(theano.shared(numpy.asarray(y, dtype=floatX)), 'int32') for _, y in sets]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size

    x = T.matrix('x')
    y = T.ivector('y')
    index = T.lscalar('index')
    w = theano.shared(numpy.zeros(6, dtype=theano.config.floatX), name='w')
    b = theano.shared(numpy.asarray(0., dtype=theano.config.floatX), name='b')

    def cost_of(w_, b_):
        p_1 = T.nnet.sigmoid(T.dot(x, w_) + b_)
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        return xent.mean() + l2 * (w_ ** 2).sum()

    cost = cost_of(w, b)
    gw, gb = T.grad(cost, [w, b])
    gnorm2 = (gw ** 2).sum() + gb ** 2

    def backtrack(t):
        t_new = t * beta
        new_cost = cost_of(w - t_new * gw, b - t_new * gb)
        return t_new, until(new_cost <= cost - alpha * t_new * gnorm2)

    steps, _ = theano.scan(backtrack,
                           outputs_info=[T.constant(numpy.asarray(initial_step / beta))],
                           n_steps=max_tries)
    step = steps[-1]
    train_model = theano.function(
        [index], [cost, step, steps.shape[0]],
        updates=[(w, w - step * gw), (b, b - step * gb)],
        givens={x: train_set_x[index * batch_size:(index + 1) * batch_size],
                y: train_set_y[index * batch_size:(index + 1) * batch_size]})
    prediction = T.nnet.sigmoid(T.dot(x, w) + b) > 0.5
    error = T.mean(T.neq(prediction, y))
    validate_model = theano.function([], error, givens={x: valid_set_x, y: valid_set_y})
    test_model = theano.function([], error, givens={x: test_set_x, y: test_set_y})

    best_valid, bad_epochs, history = numpy.inf, 0, []
    for epoch in range(n_epochs):
        costs, steps_taken, tries = [], [], []
        for minibatch_index in range(n_train_batches):
            c, s, n = train_model(minibatch_index)
            costs.append(float(c))
            steps_taken.append(float(s))
            tries.append(int(n))
        valid_error = float(validate_model())
        record = {'epoch': epoch, 'costs': costs, 'steps': steps_taken, 'tries': tries,
                  'valid_error': valid_error}
        if valid_error < best_valid:
            best_valid, bad_epochs = valid_error, 0
            record['test_error'] = float(test_model())
        else:
            bad_epochs += 1
        history.append(record)
        if bad_epochs >= 2:
            break
    save_results({'epochs': history, 'w': w.get_value().tolist(), 'b': float(b.get_value())})


if __name__ == '__main__':
    train()
