"""RNN-RBM: an RBM whose biases are driven by an RNN, trained with CD-k (Gibbs chain in scan with
RandomStreams) over chunks of binary sequences, then generating a sequence with a scan whose step
runs its own sampling scan (deeplearning.net rnnrbm.py)."""

import numpy

import theano
import theano.tensor as T
from theano.tensor.shared_randomstreams import RandomStreams

from synthetic import piano_rolls, save_results

numpy.random.seed(0xbeef)
rng = RandomStreams(seed=numpy.random.randint(1 << 30))
theano.config.warn.subtensor_merge_bug = False


def build_rbm(v, W, bv, bh, k):
    def gibbs_step(v):
        mean_h = T.nnet.sigmoid(T.dot(v, W) + bh)
        h = rng.binomial(size=mean_h.shape, n=1, p=mean_h, dtype=theano.config.floatX)
        mean_v = T.nnet.sigmoid(T.dot(h, W.T) + bv)
        v = rng.binomial(size=mean_v.shape, n=1, p=mean_v, dtype=theano.config.floatX)
        return mean_v, v

    chain, updates = theano.scan(lambda v: gibbs_step(v)[1], outputs_info=[v], n_steps=k)
    v_sample = chain[-1]
    mean_v = gibbs_step(v_sample)[0]
    monitor = T.xlogx.xlogy0(v, mean_v) + T.xlogx.xlogy0(1 - v, 1 - mean_v)
    monitor = monitor.sum() / v.shape[0]

    def free_energy(v):
        return -(v * bv).sum() - T.log(1 + T.exp(T.dot(v, W) + bh)).sum()
    cost = (free_energy(v) - free_energy(v_sample)) / v.shape[0]
    # mean_v is kept so the script can return it: the test's NumPy reference checks the
    # monitoring cost against it
    return v_sample, cost, monitor, updates, mean_v


def shared_normal(num_rows, num_cols, scale=1):
    return theano.shared(numpy.random.normal(scale=scale, size=(num_rows, num_cols))
                         .astype(theano.config.floatX))


def shared_zeros(*shape):
    return theano.shared(numpy.zeros(shape, dtype=theano.config.floatX))


def build_rnnrbm(n_visible, n_hidden, n_hidden_recurrent, k_train=3, k_generate=5, n_generate=6):
    W = shared_normal(n_visible, n_hidden, 0.01)
    bv = shared_zeros(n_visible)
    bh = shared_zeros(n_hidden)
    Wuh = shared_normal(n_hidden_recurrent, n_hidden, 0.0001)
    Wuv = shared_normal(n_hidden_recurrent, n_visible, 0.0001)
    Wvu = shared_normal(n_visible, n_hidden_recurrent, 0.0001)
    Wuu = shared_normal(n_hidden_recurrent, n_hidden_recurrent, 0.0001)
    bu = shared_zeros(n_hidden_recurrent)
    params = W, bv, bh, Wuh, Wuv, Wvu, Wuu, bu

    v = T.matrix()
    u0 = T.zeros((n_hidden_recurrent,))

    def recurrence(v_t, u_tm1):
        bv_t = bv + T.dot(u_tm1, Wuv)
        bh_t = bh + T.dot(u_tm1, Wuh)
        generate = v_t is None
        if generate:
            v_t, _, _, updates, _ = build_rbm(T.zeros((n_visible,)), W, bv_t, bh_t,
                                              k=k_generate)
        u_t = T.tanh(bu + T.dot(v_t, Wvu) + T.dot(u_tm1, Wuu))
        return ([v_t, u_t], updates) if generate else [u_t, bv_t, bh_t]

    (u_t, bv_t, bh_t), updates_train = theano.scan(
        lambda v_t, u_tm1, *_: recurrence(v_t, u_tm1),
        sequences=v, outputs_info=[u0, None, None], non_sequences=params)
    v_sample, cost, monitor, updates_rbm, mean_v = build_rbm(v, W, bv_t[:], bh_t[:], k=k_train)
    updates_train.update(updates_rbm)

    (v_t, u_t), updates_generate = theano.scan(
        lambda u_tm1, *_: recurrence(None, u_tm1),
        outputs_info=[None, u0], non_sequences=params, n_steps=n_generate)
    return (v, v_sample, cost, monitor, params, updates_train, v_t, u_t, updates_generate,
            mean_v)


class RnnRbm:
    def __init__(self, n_visible=8, n_hidden=6, n_hidden_recurrent=5, lr=0.01):
        (v, v_sample, cost, monitor, params, updates_train, v_t, u_t, updates_generate,
         mean_v) = build_rnnrbm(n_visible, n_hidden, n_hidden_recurrent)
        self.params = params
        gradient = T.grad(cost, params, consider_constant=[v_sample])
        updates_train.update(((p, p - lr * g) for p, g in zip(params, gradient)))
        self.train_function = theano.function([v], [monitor, v_sample, mean_v],
                                              updates=updates_train)
        self.generate_function = theano.function([], [v_t, u_t], updates=updates_generate)

    def train(self, dataset, batch_size=5, num_epochs=3):
        history = []
        for epoch in range(num_epochs):
            numpy.random.shuffle(dataset)
            costs, samples, means = [], [], []
            for s, sequence in enumerate(dataset):
                for i in range(0, len(sequence), batch_size):
                    cost, v_sample, mean_v = self.train_function(sequence[i:i + batch_size])
                    costs.append(float(cost))
                    samples.append(v_sample.tolist())
                    means.append(mean_v.tolist())
            history.append({'epoch': epoch, 'costs': costs, 'mean_cost': float(numpy.mean(costs)),
                            'v_samples': samples, 'mean_v': means,
                            'order': [int(seq[0].argmax()) for seq in dataset]})
        return history

    def generate(self):
        piano_roll, u = self.generate_function()
        return piano_roll, u


def test_rnnrbm():
    model = RnnRbm()
    dataset = [roll.astype(theano.config.floatX) for roll in piano_rolls(seed=0)]
    history = model.train(dataset)
    piano_roll, u = model.generate()
    save_results({'epochs': history, 'generated': piano_roll.tolist(), 'generated_u': u.tolist(),
                  'params': [p.get_value().tolist() for p in model.params]})


if __name__ == '__main__':
    test_rnnrbm()
