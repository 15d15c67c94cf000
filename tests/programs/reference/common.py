"""NumPy building blocks of the reference implementations (forward and hand-derived backward)."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'scripts'))
import synthetic  # noqa: E402  (the scripts' data module; same bytes for both sides)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def nll_and_grad(z, y):
    """Mean negative log-likelihood of ``softmax(z)`` at labels ``y`` and its gradient wrt ``z``."""
    p = softmax(z)
    n = z.shape[0]
    cost = -np.mean(np.log(p[np.arange(n), y]))
    dz = p.copy()
    dz[np.arange(n), y] -= 1.0
    return cost, dz / n, p


def errors(p, y):
    return float(np.mean(np.argmax(p, axis=1) != y))


def early_stopping_loop(n_epochs, n_train_batches, train, validate, test,
                        patience=5000, patience_increase=2, improvement_threshold=0.995):
    """The tutorials' patience loop; ``train(i)`` returns a cost, ``validate()/test()`` an error."""
    validation_frequency = min(n_train_batches, patience // 2)
    best_validation_loss = np.inf
    done_looping = False
    epoch = 0
    history = []
    while epoch < n_epochs and not done_looping:
        epoch += 1
        record = {'epoch': epoch, 'train_costs': []}
        for minibatch_index in range(n_train_batches):
            record['train_costs'].append(float(train(minibatch_index)))
            it = (epoch - 1) * n_train_batches + minibatch_index
            if (it + 1) % validation_frequency == 0:
                this_validation_loss = validate()
                record['valid_error'] = float(this_validation_loss)
                if this_validation_loss < best_validation_loss:
                    if this_validation_loss < best_validation_loss * improvement_threshold:
                        patience = max(patience, it * patience_increase)
                    best_validation_loss = this_validation_loss
                    record['test_error'] = float(test())
            if patience <= it:
                done_looping = True
                break
        history.append(record)
    return history, float(best_validation_loss)
