"""NumPy reference for scripts/rnnrbm.py: RNN-RBM trained with CD-k, then generation.

The Gibbs chains are sampled inside the Theano graph; the script returns each chunk's chain end
``v_sample`` and the mean-field ``mean_v`` of the monitoring step.  The reference recovers the
hidden sample behind ``mean_v`` (``logit(mean_v) - bv_t = h W^T``, W has full column rank), checks
it is binary and distributed as its conditional probabilities, and then recomputes the monitoring
cost, the CD gradient through the RNN (hand-written BPTT) and the generated RNN states exactly.
"""

import numpy as np

from .common import sigmoid, synthetic
from .rbm import BernoulliTally

NAMES = ['W', 'bv', 'bh', 'Wuh', 'Wuv', 'Wvu', 'Wuu', 'bu']


def init(nv=8, nh=6, nr=5):
    np.random.seed(0xbeef)
    np.random.randint(1 << 30)               # the RandomStreams seed draw

    def normal(r, c, scale):
        return np.random.normal(scale=scale, size=(r, c))

    P = {'W': normal(nv, nh, 0.01), 'bv': np.zeros(nv), 'bh': np.zeros(nh)}
    P['Wuh'] = normal(nr, nh, 0.0001)
    P['Wuv'] = normal(nr, nv, 0.0001)
    P['Wvu'] = normal(nv, nr, 0.0001)
    P['Wuu'] = normal(nr, nr, 0.0001)
    P['bu'] = np.zeros(nr)
    return P


def rnn(P, v):
    """(u_prev per step, u per step, bv_t, bh_t) of the recurrence over ``v``."""
    u_prev, us = np.zeros(P['bu'].shape), []
    prevs = []
    for t in range(v.shape[0]):
        prevs.append(u_prev)
        u_prev = np.tanh(P['bu'] + v[t].dot(P['Wvu']) + u_prev.dot(P['Wuu']))
        us.append(u_prev)
    prevs = np.array(prevs)
    return prevs, np.array(us), P['bv'] + prevs.dot(P['Wuv']), P['bh'] + prevs.dot(P['Wuh'])


def xlogy0(x, y):
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def grads(P, v, vs):
    """Gradient of (F(v) - F(vs)) / T with vs constant, through the RNN biases."""
    T_ = v.shape[0]
    prevs, us, bv_t, bh_t = rnn(P, v)
    ph_v, ph_s = sigmoid(v.dot(P['W']) + bh_t), sigmoid(vs.dot(P['W']) + bh_t)
    g = {k: np.zeros_like(p) for k, p in P.items()}
    g['W'] = (-v.T.dot(ph_v) + vs.T.dot(ph_s)) / T_
    dbv_t = (-v + vs) / T_
    dbh_t = (-ph_v + ph_s) / T_
    g['bv'], g['bh'] = dbv_t.sum(axis=0), dbh_t.sum(axis=0)
    g['Wuv'], g['Wuh'] = prevs.T.dot(dbv_t), prevs.T.dot(dbh_t)
    du_prev = dbv_t.dot(P['Wuv'].T) + dbh_t.dot(P['Wuh'].T)   # d cost / d u_{t-1}, per t
    du = np.zeros_like(P['bu'])                               # d cost / d u_t via later steps
    for t in reversed(range(T_)):
        da = du * (1 - us[t] ** 2)
        g['bu'] += da
        g['Wvu'] += np.outer(v[t], da)
        g['Wuu'] += np.outer(prevs[t], da)
        du = du_prev[t] + da.dot(P['Wuu'].T)
    return g


def run(got, lr=0.01, batch_size=5, num_epochs=3):
    P = init()
    dataset = list(synthetic.piano_rolls(seed=0))
    tally = BernoulliTally()
    history = []
    for epoch in range(num_epochs):
        np.random.shuffle(dataset)
        rec = got['epochs'][epoch]
        costs = []
        j = 0
        for seq in dataset:
            for i in range(0, len(seq), batch_size):
                v = seq[i:i + batch_size]
                vs, mean_v = np.asarray(rec['v_samples'][j]), np.asarray(rec['mean_v'][j])
                j += 1
                assert vs.shape == v.shape and np.all((vs == 0) | (vs == 1))
                _, _, bv_t, bh_t = rnn(P, v)
                h = np.linalg.lstsq(P['W'], (np.log(mean_v) - np.log1p(-mean_v) - bv_t).T,
                                    rcond=None)[0].T
                assert np.allclose(h, np.round(h), atol=1e-6), \
                    f'mean_v does not come from a 0/1 h (epoch {epoch}, chunk {j - 1}): {h}'
                tally.add(np.round(h), sigmoid(vs.dot(P['W']) + bh_t))
                costs.append(float((xlogy0(v, mean_v) + xlogy0(1 - v, 1 - mean_v)).sum()
                                   / v.shape[0]))
                g = grads(P, v, vs)
                P = {k: P[k] - lr * g[k] for k in P}
        history.append({'epoch': epoch, 'costs': costs, 'mean_cost': float(np.mean(costs)),
                        'v_samples': rec['v_samples'], 'mean_v': rec['mean_v'],
                        'order': [int(seq[0].argmax()) for seq in dataset]})
    tally.check()
    gen = np.asarray(got['generated'])
    assert np.all((gen == 0) | (gen == 1)), 'generated notes are not 0/1'
    _, us, _, _ = rnn(P, gen)
    return {'epochs': history, 'generated': got['generated'], 'generated_u': us.tolist(),
            'params': [P[k].tolist() for k in NAMES]}
