"""NumPy reference for scripts/elman.py: Elman RNN over context windows, hand-written BPTT,
per-sentence SGD, embedding normalisation, learning-rate halving."""

import numpy as np

from .common import sigmoid, softmax, synthetic


def contextwin(l, win):
    l = list(l)
    lpadded = win // 2 * [-1] + l + win // 2 * [-1]
    return [lpadded[i:(i + win)] for i in range(len(l))]


NAMES = ['emb', 'wx', 'wh', 'w', 'bh', 'b', 'h0']


def init(nh, nc, ne, de, cs, seed):
    np.random.seed(seed)
    P = {'emb': 0.2 * np.random.uniform(-1.0, 1.0, (ne + 1, de)),
         'wx': 0.2 * np.random.uniform(-1.0, 1.0, (de * cs, nh)),
         'wh': 0.2 * np.random.uniform(-1.0, 1.0, (nh, nh)),
         'w': 0.2 * np.random.uniform(-1.0, 1.0, (nh, nc))}
    P.update(bh=np.zeros(nh), b=np.zeros(nc), h0=np.zeros(nh))
    return P


def forward(P, idx):
    idx = np.asarray(idx)
    x = P['emb'][idx].reshape(idx.shape[0], -1)
    hs, ss = [], []
    h = P['h0']
    for t in range(x.shape[0]):
        h = sigmoid(x[t].dot(P['wx']) + h.dot(P['wh']) + P['bh'])
        hs.append(h)
        ss.append(softmax((h.dot(P['w']) + P['b'])[None, :])[0])
    return x, np.array(hs), np.array(ss)


def cost_and_grads(P, idx, y):
    idx = np.asarray(idx)
    x, hs, ss = forward(P, idx)
    n = x.shape[0]
    cost = -np.mean(np.log(ss[np.arange(n), y]))
    g = {k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(P['h0'])
    for t in reversed(range(n)):
        dz = ss[t].copy()
        dz[y[t]] -= 1.0
        dz /= n
        g['w'] += np.outer(hs[t], dz)
        g['b'] += dz
        dh = dz.dot(P['w'].T) + dh_next
        da = dh * hs[t] * (1 - hs[t])
        h_prev = hs[t - 1] if t > 0 else P['h0']
        g['wx'] += np.outer(x[t], da)
        g['wh'] += np.outer(h_prev, da)
        g['bh'] += da
        dx[t] = da.dot(P['wx'].T)
        dh_next = da.dot(P['wh'].T)
    g['h0'] = dh_next
    np.add.at(g['emb'], idx.ravel() % P['emb'].shape[0], dx.reshape(idx.size, -1))
    return cost, g


def run(got=None, lr=0.5, win=3, nhidden=6, seed=345, de=4, nepochs=5, decay=True):
    sents, labels = synthetic.word_sentences(seed=0, n_sentences=12, vocab=15, n_labels=4,
                                             min_len=4, max_len=6)
    train_lex, train_y, valid_lex, valid_y = sents[:8], labels[:8], sents[8:], labels[8:]
    P = init(nhidden, 4, 15, de, win, seed)
    best_error, be, clr = np.inf, None, lr
    history = []
    for e in range(nepochs):
        order = np.random.RandomState(seed + e).permutation(len(train_lex))
        costs = []
        for i in order:
            cost, g = cost_and_grads(P, contextwin(train_lex[i], win), train_y[i])
            for k in P:
                P[k] = P[k] - clr * g[k]
            P['emb'] = P['emb'] / np.sqrt((P['emb'] ** 2).sum(axis=1))[:, None]
            costs.append(float(cost))
        preds = [forward(P, contextwin(x, win))[2].argmax(axis=1) for x in valid_lex]
        errors = float(np.mean(np.concatenate([p != y for p, y in zip(preds, valid_y)])))
        history.append({'epoch': e, 'costs': costs, 'valid_error': errors, 'clr': clr})
        if errors < best_error:
            best_error, be = errors, e
        if decay and abs(be - e) >= 2:
            clr *= 0.5
    return {'epochs': history, 'best_error': best_error,
            'params': [P[k].tolist() for k in NAMES]}
