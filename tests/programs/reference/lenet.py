"""NumPy reference for scripts/lenet.py: conv (true convolution, Theano's filter flip) + 2x2 max
pooling (ignore_border) + tanh, twice; tanh hidden layer; softmax; SGD with early stopping."""

import numpy as np

from .common import early_stopping_loop, errors, nll_and_grad, softmax, synthetic


def conv_valid(x, W):
    """Theano ``conv2d`` (border_mode='valid', filter_flip=True) of (b, c, h, w) by (k, c, r, s)."""
    Wf = W[:, :, ::-1, ::-1]
    r, s = W.shape[2:]
    oh, ow = x.shape[2] - r + 1, x.shape[3] - s + 1
    out = np.zeros((x.shape[0], W.shape[0], oh, ow))
    for u in range(r):
        for v in range(s):
            out += np.einsum('bchw,kc->bkhw', x[:, :, u:u + oh, v:v + ow], Wf[:, :, u, v])
    return out


def conv_valid_grads(x, W, dout):
    """Gradients of ``conv_valid(x, W)`` wrt x and W given the output gradient ``dout``."""
    Wf = W[:, :, ::-1, ::-1]
    r, s = W.shape[2:]
    oh, ow = dout.shape[2:]
    dx = np.zeros_like(x)
    dWf = np.zeros_like(W)
    for u in range(r):
        for v in range(s):
            dWf[:, :, u, v] = np.einsum('bkhw,bchw->kc', dout, x[:, :, u:u + oh, v:v + ow])
            dx[:, :, u:u + oh, v:v + ow] += np.einsum('bkhw,kc->bchw', dout, Wf[:, :, u, v])
    return dx, dWf[:, :, ::-1, ::-1]


def max_pool(x, p=2):
    """2x2 max pooling with ignore_border=True; returns (pooled, mask of the maxima)."""
    b, c, h, w = x.shape
    oh, ow = h // p, w // p
    blocks = x[:, :, :oh * p, :ow * p].reshape(b, c, oh, p, ow, p)
    out = blocks.max(axis=(3, 5))
    mask = np.zeros_like(x)
    mask[:, :, :oh * p, :ow * p] = (blocks == out[:, :, :, None, :, None]).reshape(b, c, oh * p,
                                                                                  ow * p)
    return out, mask


def unpool(dout, mask, p=2):
    """Max-pool gradient: route each output gradient to every input equal to the maximum."""
    up = np.repeat(np.repeat(dout, p, axis=2), p, axis=3)
    full = np.zeros_like(mask)
    full[:, :, :up.shape[2], :up.shape[3]] = up
    return full * mask


def init(nkerns=(2, 3)):
    rng = np.random.RandomState(23455)
    params = {}
    for name, shape in (('W0', (nkerns[0], 1, 3, 3)), ('W1', (nkerns[1], nkerns[0], 2, 2))):
        fan_in = np.prod(shape[1:])
        fan_out = shape[0] * np.prod(shape[2:]) // 4
        bound = np.sqrt(6. / (fan_in + fan_out))
        params[name] = rng.uniform(low=-bound, high=bound, size=shape)
        params['b' + name[1]] = np.zeros(shape[0])
    bound = np.sqrt(6. / (nkerns[1] + 8))
    params['W2'] = rng.uniform(low=-bound, high=bound, size=(nkerns[1], 8))
    params['b2'] = np.zeros(8)
    params['W3'] = np.zeros((8, 3))
    params['b3'] = np.zeros(3)
    return params


def forward(P, x, batch_size=8):
    c = {'x0': x.reshape(batch_size, 1, 8, 8)}
    c['p0'], c['m0'] = max_pool(conv_valid(c['x0'], P['W0']))
    c['o0'] = np.tanh(c['p0'] + P['b0'][None, :, None, None])
    c['p1'], c['m1'] = max_pool(conv_valid(c['o0'], P['W1']))
    c['o1'] = np.tanh(c['p1'] + P['b1'][None, :, None, None])
    c['h_in'] = c['o1'].reshape(batch_size, -1)
    c['h'] = np.tanh(c['h_in'].dot(P['W2']) + P['b2'])
    c['z'] = c['h'].dot(P['W3']) + P['b3']
    return c


def cost_and_grads(P, x, y):
    c = forward(P, x)
    cost, dz, _ = nll_and_grad(c['z'], y)
    g = {'W3': c['h'].T.dot(dz), 'b3': dz.sum(axis=0)}
    da2 = dz.dot(P['W3'].T) * (1 - c['h'] ** 2)
    g['W2'], g['b2'] = c['h_in'].T.dot(da2), da2.sum(axis=0)
    d1 = da2.dot(P['W2'].T).reshape(c['o1'].shape) * (1 - c['o1'] ** 2)
    g['b1'] = d1.sum(axis=(0, 2, 3))
    dx1, g['W1'] = conv_valid_grads(c['o0'], P['W1'], unpool(d1, c['m1']))
    d0 = dx1 * (1 - c['o0'] ** 2)
    g['b0'] = d0.sum(axis=(0, 2, 3))
    _, g['W0'] = conv_valid_grads(c['x0'], P['W0'], unpool(d0, c['m0']))
    return cost, g


ORDER = ['W3', 'b3', 'W2', 'b2', 'W1', 'b1', 'W0', 'b0']   # the script's `params` list


def run(got=None, learning_rate=0.1, n_epochs=4, batch_size=8):
    (tx, ty), (vx, vy), (sx, sy) = synthetic.images(seed=0)
    P = init()

    def batches(x, y):
        return [(x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size])
                for i in range(x.shape[0] // batch_size)]

    train_b = batches(tx, ty)

    def train(i):
        cost, g = cost_and_grads(P, *train_b[i])
        for k in P:
            P[k] = P[k] - learning_rate * g[k]
        return cost

    def error(x, y):
        return np.mean([errors(softmax(forward(P, bx)['z']), by) for bx, by in batches(x, y)])

    history, best = early_stopping_loop(n_epochs, len(train_b), train, lambda: error(vx, vy),
                                        lambda: error(sx, sy), patience=10000)
    return {'epochs': history, 'best_validation_loss': best,
            'params': [P[k].tolist() for k in ORDER]}
