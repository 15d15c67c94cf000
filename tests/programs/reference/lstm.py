"""NumPy reference for scripts/lstm.py: masked LSTM over padded minibatches, mean pooling,
softmax, hand-written BPTT, ADADELTA, early stopping on validation error."""

import numpy as np

from .common import sigmoid, softmax, synthetic

NAMES = ['Wemb', 'lstm_W', 'lstm_U', 'lstm_b', 'U', 'b']
OFF = 1e-8


def init(n_words, dim, ydim, seed=123):
    np.random.seed(seed)

    def ortho():
        u, _, _ = np.linalg.svd(np.random.randn(dim, dim))
        return u

    P = {'Wemb': 0.01 * np.random.rand(n_words, dim)}
    P['lstm_W'] = np.concatenate([ortho() for _ in range(4)], axis=1)
    P['lstm_U'] = np.concatenate([ortho() for _ in range(4)], axis=1)
    P['lstm_b'] = np.zeros(4 * dim)
    P['U'] = 0.01 * np.random.randn(dim, ydim)
    P['b'] = np.zeros(ydim)
    return P


def prepare_data(seqs):
    lengths = [len(s) for s in seqs]
    x = np.zeros((max(lengths), len(seqs)), dtype='int64')
    mask = np.zeros((max(lengths), len(seqs)))
    for i, s in enumerate(seqs):
        x[:lengths[i], i] = s
        mask[:lengths[i], i] = 1.
    return x, mask


def forward(P, x, mask):
    d = P['Wemb'].shape[1]
    T_, N = x.shape
    emb = P['Wemb'][x.ravel()].reshape(T_, N, d)
    sb = emb.dot(P['lstm_W']) + P['lstm_b']
    h, c = np.zeros((N, d)), np.zeros((N, d))
    steps = []
    for t in range(T_):
        m = mask[t][:, None]
        pre = h.dot(P['lstm_U']) + sb[t]
        i, f, o = (sigmoid(pre[:, k * d:(k + 1) * d]) for k in range(3))
        ct = np.tanh(pre[:, 3 * d:])
        c_new = m * (f * c + i * ct) + (1 - m) * c
        h_new = m * (o * np.tanh(c_new)) + (1 - m) * h
        steps.append((h, c, i, f, o, ct, c_new, h_new))
        h, c = h_new, c_new
    hs = np.array([s[7] for s in steps])
    msum = mask.sum(axis=0)[:, None]
    proj = (hs * mask[:, :, None]).sum(axis=0) / msum
    pred = softmax(proj.dot(P['U']) + P['b'])
    return emb, steps, proj, msum, pred


def cost_and_grads(P, x, mask, y, decay_c):
    d = P['Wemb'].shape[1]
    emb, steps, proj, msum, pred = forward(P, x, mask)
    N = x.shape[1]
    y = np.asarray(y)
    py = pred[np.arange(N), y]
    cost = -np.mean(np.log(py + OFF)) + decay_c * (P['U'] ** 2).sum()
    dpred = np.zeros_like(pred)
    dpred[np.arange(N), y] = -1.0 / (N * (py + OFF))
    dz = pred * (dpred - (dpred * pred).sum(axis=1, keepdims=True))
    g = {k: np.zeros_like(v) for k, v in P.items()}
    g['U'] = proj.T.dot(dz) + 2 * decay_c * P['U']
    g['b'] = dz.sum(axis=0)
    dproj = dz.dot(P['U'].T)
    dsb = np.zeros(x.shape + (4 * d,))
    dh_next, dc_next = np.zeros((N, d)), np.zeros((N, d))
    for t in reversed(range(x.shape[0])):
        h_prev, c_prev, i, f, o, ct, c_new, _ = steps[t]
        m = mask[t][:, None]
        dh = dproj * m / msum + dh_next
        dh_new, dh_prev = m * dh, (1 - m) * dh
        tc = np.tanh(c_new)
        do = dh_new * tc
        dc = dc_next + dh_new * o * (1 - tc ** 2)
        dc_in, dc_prev = m * dc, (1 - m) * dc
        df, di, dct = dc_in * c_prev, dc_in * ct, dc_in * i
        dc_prev = dc_prev + dc_in * f
        dpre = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o),
                               dct * (1 - ct ** 2)], axis=1)
        g['lstm_U'] += h_prev.T.dot(dpre)
        dh_prev = dh_prev + dpre.dot(P['lstm_U'].T)
        dsb[t] = dpre
        dh_next, dc_next = dh_prev, dc_prev
    g['lstm_W'] = np.einsum('tnd,tne->de', emb, dsb)
    g['lstm_b'] = dsb.sum(axis=(0, 1))
    demb = dsb.dot(P['lstm_W'].T)
    np.add.at(g['Wemb'], x.ravel(), demb.reshape(-1, d))
    return cost, g


def minibatches(n, size, rng=None):
    idx = np.arange(n, dtype='int32')
    if rng is not None:
        rng.shuffle(idx)
    out = [idx[i * size:(i + 1) * size] for i in range(n // size)]
    if n % size:
        out.append(idx[(n // size) * size:])
    return out


def run(got=None, dim_proj=5, patience=3, max_epochs=5, decay_c=1e-3, n_words=12, batch_size=4,
        valid_batch_size=5, seed=123):
    seqs, labels = synthetic.sentiment(seed=0, n=40, vocab=n_words, min_len=2, max_len=5)
    train, valid = (seqs[:30], labels[:30]), (seqs[30:], labels[30:])
    P = init(n_words, dim_proj, max(train[1]) + 1, seed)
    rg2 = {k: np.zeros_like(v) for k, v in P.items()}
    ru2 = {k: np.zeros_like(v) for k, v in P.items()}

    def pred_error(data, batches):
        correct = 0
        for b in batches:
            x, mask = prepare_data([data[0][t] for t in b])
            correct += (forward(P, x, mask)[4].argmax(axis=1) == np.array(data[1])[b]).sum()
        return 1. - correct / len(data[0])

    history, history_errs = [], []
    bad_count = 0
    shuffle_rng = np.random.RandomState(seed)
    kf_valid = minibatches(len(valid[0]), valid_batch_size)
    for eidx in range(max_epochs):
        costs, lengths = [], []
        for b in minibatches(len(train[0]), batch_size, shuffle_rng):
            x, mask = prepare_data([train[0][t] for t in b])
            lengths.append(int(x.shape[0]))
            cost, g = cost_and_grads(P, x, mask, [train[1][t] for t in b], decay_c)
            for k in P:
                rg2[k] = 0.95 * rg2[k] + 0.05 * g[k] ** 2
                ud = -np.sqrt(ru2[k] + 1e-6) / np.sqrt(rg2[k] + 1e-6) * g[k]
                ru2[k] = 0.95 * ru2[k] + 0.05 * ud ** 2
                P[k] = P[k] + ud
            costs.append(float(cost))
        train_err = pred_error(train, minibatches(len(train[0]), batch_size))
        valid_err = pred_error(valid, kf_valid)
        history.append({'epoch': eidx, 'costs': costs, 'lengths': lengths,
                        'train_err': float(train_err), 'valid_err': float(valid_err)})
        history_errs.append(valid_err)
        if valid_err <= np.min(history_errs):
            bad_count = 0
        if len(history_errs) > patience and valid_err >= np.min(history_errs[:-patience]):
            bad_count += 1
            if bad_count > patience:
                break
    x, mask = prepare_data(valid[0][:valid_batch_size])
    return {'epochs': history, 'valid_probs': forward(P, x, mask)[4].tolist(),
            'params': [P[k].tolist() for k in NAMES]}
