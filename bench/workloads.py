"""The benchmark workloads: each one written once in Theano style and once in hand-written JAX.

A workload's *graph* is a function ``graph(th, T, size)`` of a Theano-like
front end (``th`` = ``thx`` or ``pytensor``, ``T`` its tensor module) that
returns ``(inputs, outputs, updates)``; the same code therefore compiles
under thx and under PyTensor.  Its *JAX* side is ``jax_fn(size)``, a plain
function of arrays doing the same math with ``jax.grad`` / ``jax.jacrev`` /
``jax.hessian`` / ``jax.jvp`` / ``lax.scan``, which the runner wraps in
``jax.jit``.  ``data(size, rng)`` makes the NumPy arguments (float64, the
same for every system).

Inputs are Theano variables of unknown shape (``T.dmatrix`` ...), never
shapes baked into the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Workload", "WORKLOADS", "CHAIN_SIZES", "CHAIN_QUICK_SIZES", "chain_cost", "chain_graph",
           "chain_jax", "chain_data"]


@dataclass
class Workload:
    """One benchmark: a Theano-style graph, the same math in JAX, and its data.

    Attributes
    ----------
    name : str
        Short identifier (``--only`` selects by it).
    what : str
        One line saying what is computed and what JAX transformation it matches.
    sizes, quick_sizes : list of int
        The sizes of the full and the ``--quick`` runs.
    graph : callable ``(th, T, size) -> (inputs, outputs, updates)``
    jax_fn : callable ``size -> f`` with ``f(*arrays)`` -> array or tuple of arrays
    data : callable ``(size, rng) -> list of arrays or floats``
    rtol : float
        Relative tolerance when comparing with the JAX result.
    pytensor : bool
        Whether to run it under PyTensor too (when PyTensor is installed).
    label : callable
        How a size is shown in the table.
    pytensor_sizes : list, optional
        The sizes PyTensor runs (default: all; its default mode compiles large graphs for minutes).
    jax_data : callable, optional
        The JAX side's arguments when they differ from thx's (``graph`` may also return
        ``(inputs, outputs, updates, givens)``: a training step reading shared variables).
    thx_flags : dict, optional
        ``thx.config`` flags set while thx compiles it (e.g. ``{"check_index": False}``).
    """

    name: str
    what: str
    sizes: list[int]
    quick_sizes: list[int]
    graph: Callable[..., tuple[list, list, Any]]
    jax_fn: Callable[[int], Callable[..., Any]]
    data: Callable[[int, np.random.RandomState], list[Any]]
    rtol: float = 1e-7
    pytensor: bool = True
    label: Callable[[Any], str] = str
    pytensor_sizes: list | None = None
    jax_data: Callable[[Any, np.random.RandomState], list[Any]] | None = None
    thx_flags: dict | None = None


def _jax():
    import jax
    import jax.numpy as jnp
    from jax import lax
    return jax, jnp, lax


# ---------------------------------------------------------------- scalar grad (per-call overhead)

def scalar_graph(th, T, size):
    x = T.dscalar("x")
    return [x], [th.grad(x ** 2, x)], None


def scalar_jax(size):
    jax, _, _ = _jax()
    return jax.grad(lambda x: x ** 2)


def scalar_data(size, rng):
    return [4.0]


# ---------------------------------------------------------------- logistic regression gradient

def logistic_graph(th, T, size):
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = T.dvector("w"), T.dscalar("b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = th.grad(cost, [w, b])
    return [x, y, w, b], [gw, gb], None


def logistic_jax(size):
    jax, jnp, _ = _jax()

    def cost(x, y, w, b):
        p_1 = 1 / (1 + jnp.exp(-jnp.dot(x, w) - b))
        xent = -y * jnp.log(p_1) - (1 - y) * jnp.log(1 - p_1)
        return xent.mean() + 0.01 * (w ** 2).sum()

    return jax.grad(cost, argnums=(2, 3))


def logistic_data(n, rng):
    return [rng.randn(n, n), (rng.rand(n) > 0.5).astype("float64"), 0.01 * rng.randn(n), 0.0]


# ---------------------------------------------------------------- the tutorial's scan Jacobian

def jacobian_graph(th, T, size):
    x = T.dvector("x")
    y = x ** 2
    J, updates = th.scan(lambda i, y, x: th.grad(y[i], x), sequences=T.arange(y.shape[0]),
                         non_sequences=[y, x])
    return [x], [J], updates


def jacobian_jax(size):
    jax, _, _ = _jax()
    return jax.jacrev(lambda x: x ** 2)


def vector_data(n, rng):
    return [rng.randn(n)]


# ---------------------------------------------------------------- gradient.hessian

def _elementwise_cost(T_or_jnp, x):
    return (T_or_jnp.tanh(x) * x ** 2).sum()


def _sin_cost(T_or_jnp, x):
    return (T_or_jnp.sin(x) * x ** 2).sum()


def hessian_graph(th, T, size, cost=_elementwise_cost):
    x = T.dvector("x")
    return [x], [th.gradient.hessian(cost(T, x), x)], None


def hessian_jax(size, cost=_elementwise_cost):
    jax, jnp, _ = _jax()
    return jax.hessian(lambda x: cost(jnp, x))


def hessian_sin_graph(th, T, size):
    return hessian_graph(th, T, size, _sin_cost)


def hessian_sin_jax(size):
    return hessian_jax(size, _sin_cost)


# ---------------------------------------------------------------- Hessian-vector products

def hvp_rop_graph(th, T, size):
    x, v = T.dvector("x"), T.dvector("v")
    g = th.grad(_elementwise_cost(T, x), x)
    return [x, v], [th.gradient.Rop(g, x, v)], None


def hvp_rop_jax(size):
    jax, jnp, _ = _jax()
    gradf = jax.grad(lambda x: _elementwise_cost(jnp, x))
    return lambda x, v: jax.jvp(gradf, (x,), (v,))[1]  # forward-over-reverse


def hvp_gradgrad_graph(th, T, size):
    x, v = T.dvector("x"), T.dvector("v")
    g = th.grad(_elementwise_cost(T, x), x)
    return [x, v], [th.grad(T.sum(g * v), x)], None


def hvp_gradgrad_jax(size):
    jax, jnp, _ = _jax()
    gradf = jax.grad(lambda x: _elementwise_cost(jnp, x))
    return jax.grad(lambda x, v: jnp.sum(gradf(x) * v))  # reverse-over-reverse


def two_vectors(n, rng):
    return [rng.randn(n), rng.randn(n)]


# ---------------------------------------------------------------- MLP loss gradient

MLP_FULL = (256, 784, 512, 512, 10)  # batch, layer widths
MLP_QUICK = (8, 20, 16, 16, 5)


def mlp_label(size):
    return f"{'-'.join(map(str, size[1:]))}, batch {size[0]}"


def mlp_graph(th, T, size):
    X, Y = T.dmatrix("X"), T.dmatrix("Y")
    params = [T.dmatrix("W1"), T.dvector("b1"), T.dmatrix("W2"), T.dvector("b2"),
              T.dmatrix("W3"), T.dvector("b3")]
    W1, b1, W2, b2, W3, b3 = params
    h1 = T.tanh(T.dot(X, W1) + b1)
    h2 = T.tanh(T.dot(h1, W2) + b2)
    z = T.dot(h2, W3) + b3
    zmax = T.max(z, axis=1, keepdims=True)
    logp = z - zmax - T.log(T.sum(T.exp(z - zmax), axis=1, keepdims=True))
    loss = -T.mean(T.sum(Y * logp, axis=1))
    return [X, Y] + params, th.grad(loss, params), None


def mlp_jax(size):
    jax, jnp, _ = _jax()

    def loss(X, Y, W1, b1, W2, b2, W3, b3):
        h1 = jnp.tanh(jnp.dot(X, W1) + b1)
        h2 = jnp.tanh(jnp.dot(h1, W2) + b2)
        z = jnp.dot(h2, W3) + b3
        zmax = jnp.max(z, axis=1, keepdims=True)
        logp = z - zmax - jnp.log(jnp.sum(jnp.exp(z - zmax), axis=1, keepdims=True))
        return -jnp.mean(jnp.sum(Y * logp, axis=1))

    return jax.grad(loss, argnums=tuple(range(2, 8)))


def mlp_data(size, rng):
    batch, d0, d1, d2, d3 = size
    X = rng.randn(batch, d0)
    Y = np.eye(d3)[rng.randint(0, d3, size=batch)]
    out = [X, Y]
    for a, b in ((d0, d1), (d1, d2), (d2, d3)):
        out += [rng.randn(a, b) / np.sqrt(a), 0.1 * rng.randn(b)]
    return out


# ---------------------------------------------------------------- RNN by scan

RNN_FULL = (200, 32, 64, 256)  # steps, batch, input width, hidden width
RNN_QUICK = (10, 2, 3, 4)


def rnn_label(size):
    return f"{size[0]} steps, batch {size[1]}, {size[2]}->{size[3]}"


def _rnn_cost(th, T):
    X, h0 = T.dtensor3("X"), T.dmatrix("h0")
    W, U, b = T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    h, updates = th.scan(lambda x_t, h_tm1, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b),
                         sequences=X, outputs_info=h0, non_sequences=[W, U, b])
    return [X, h0, W, U, b], T.mean(h ** 2), updates


def rnn_graph(th, T, size):
    ins, cost, updates = _rnn_cost(th, T)
    return ins, [cost], updates


def rnn_grad_graph(th, T, size):
    ins, cost, updates = _rnn_cost(th, T)
    return ins, th.grad(cost, ins[2:]), updates


def _rnn_jax_cost():
    jax, jnp, lax = _jax()

    def cost(X, h0, W, U, b):
        def step(h, x_t):
            h = jnp.tanh(jnp.dot(x_t, W) + jnp.dot(h, U) + b)
            return h, h

        _, hs = lax.scan(step, h0, X)
        return jnp.mean(hs ** 2)

    return cost


def rnn_jax(size):
    return _rnn_jax_cost()


def rnn_grad_jax(size):
    jax, _, _ = _jax()
    return jax.grad(_rnn_jax_cost(), argnums=(2, 3, 4))


def rnn_data(size, rng):
    steps, batch, d_in, d_h = size
    return [rng.randn(steps, batch, d_in), np.zeros((batch, d_h)),
            rng.randn(d_in, d_h) / np.sqrt(d_in), rng.randn(d_h, d_h) / np.sqrt(d_h),
            0.1 * rng.randn(d_h)]


# ---------------------------------------------------------------- LeNet (conv + pool + tanh + fc + softmax)

LENET_FULL = (64, 28, 20, 50, 500, 10)  # batch, image side, conv1 maps, conv2 maps, hidden, classes
LENET_QUICK = (4, 12, 2, 3, 8, 5)


def lenet_label(size):
    return f"{size[1]}x{size[1]} images, {size[2]}-{size[3]} maps, fc {size[4]}, batch {size[0]}"


def _lenet_flat(size):
    side = ((size[1] - 4) // 2 - 4) // 2  # two valid 5x5 convolutions, each followed by 2x2 pooling
    return size[3] * side * side


def lenet_graph(th, T, size):
    import importlib
    pool = importlib.import_module(th.__name__ + ".tensor.signal.pool")
    X, Y = T.dtensor4("X"), T.dmatrix("Y")
    params = [T.dtensor4("W1"), T.dvector("b1"), T.dtensor4("W2"), T.dvector("b2"),
              T.dmatrix("W3"), T.dvector("b3"), T.dmatrix("W4"), T.dvector("b4")]
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    h = X
    for W, b in ((W1, b1), (W2, b2)):
        c = T.nnet.conv2d(h, W)
        h = T.tanh(pool.pool_2d(c, (2, 2), ignore_border=True) + b.dimshuffle("x", 0, "x", "x"))
    h3 = T.tanh(T.dot(h.flatten(2), W3) + b3)
    p = T.nnet.softmax(T.dot(h3, W4) + b4)
    loss = -T.mean(T.sum(Y * T.log(p), axis=1))
    return [X, Y] + params, [loss] + th.grad(loss, params), None


def lenet_jax(size):
    jax, jnp, lax = _jax()

    def loss(X, Y, W1, b1, W2, b2, W3, b3, W4, b4):
        h = X
        for W, b in ((W1, b1), (W2, b2)):
            c = lax.conv_general_dilated(h, W[:, :, ::-1, ::-1], (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
            m = lax.reduce_window(c, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            h = jnp.tanh(m + b[None, :, None, None])
        h3 = jnp.tanh(jnp.dot(h.reshape(h.shape[0], -1), W3) + b3)
        p = jax.nn.softmax(jnp.dot(h3, W4) + b4)
        return -jnp.mean(jnp.sum(Y * jnp.log(p), axis=1))

    vg = jax.value_and_grad(loss, argnums=tuple(range(2, 10)))

    def f(*args):
        value, grads = vg(*args)
        return (value,) + tuple(grads)

    return f


def lenet_data(size, rng):
    batch, side, m1, m2, hidden, classes = size
    flat = _lenet_flat(size)
    return [rng.rand(batch, 1, side, side), np.eye(classes)[rng.randint(0, classes, size=batch)],
            rng.randn(m1, 1, 5, 5) / 5, 0.1 * rng.randn(m1), rng.randn(m2, m1, 5, 5) / (5 * np.sqrt(m1)),
            0.1 * rng.randn(m2), rng.randn(flat, hidden) / np.sqrt(flat), 0.1 * rng.randn(hidden),
            rng.randn(hidden, classes) / np.sqrt(hidden), 0.1 * rng.randn(classes)]


# ---------------------------------------------------------------- elementwise chains (graph-side cost)

CHAIN_WIDTH = 100  # length of the vectors flowing through the chain
CHAIN_SIZES = [100, 1000, 5000]  # number of Apply nodes before differentiation
CHAIN_QUICK_SIZES = [30, 90]


def chain_cost(T, n_nodes):
    """``v <- tanh(v * a + x)`` repeated (three elementwise nodes per step), summed."""
    x, a = T.dvector("x"), T.dvector("a")
    v = x
    for _ in range(max(1, n_nodes // 3)):
        v = T.tanh(v * a + x)
    return [x, a], T.sum(v)


def chain_graph(th, T, n_nodes):
    ins, cost = chain_cost(T, n_nodes)
    return ins, th.grad(cost, ins), None


def chain_jax(n_nodes):
    jax, jnp, _ = _jax()

    def cost(x, a):
        v = x
        for _ in range(max(1, n_nodes // 3)):
            v = jnp.tanh(v * a + x)
        return jnp.sum(v)

    return jax.grad(cost, argnums=(0, 1))


def chain_data(n_nodes, rng):
    return [0.1 * rng.randn(CHAIN_WIDTH), 0.5 + 0.1 * rng.randn(CHAIN_WIDTH)]


# ---------------------------------------------------------------- SGD steps fed from a shared dataset

# Theano's minibatch pattern: the dataset lives in shared variables (on the device), the function
# takes the minibatch index and slices it through givens; the update is stored in place.  The
# JAX side is the same step written by hand, the dataset and parameters as device arrays.
SGD_FULL = (25000, 784, 500, 256, 10)  # rows (150 MB of float64 at 784 columns), width, hidden, batch, classes
SGD_QUICK = (400, 20, 16, 20, 5)
_DATASETS: dict[Any, tuple[np.ndarray, np.ndarray]] = {}


def sgd_label(size):
    mb = size[0] * size[1] * 8 / 2 ** 20
    return f"{mb:.0f} MB dataset, batch {size[3]}" if mb >= 1 else f"{mb * 1024:.0f} KB dataset, batch {size[3]}"


def _dataset(size):
    if size not in _DATASETS:  # made once: 150 MB of random numbers take a second
        _DATASETS.clear()
        rng = np.random.RandomState(1)
        n, d, _, _, k = size
        _DATASETS[size] = (rng.rand(n, d) - 0.5, np.eye(k)[rng.randint(0, k, size=n)])
    return _DATASETS[size]


def _mlp_params(size, rng):
    _, d, h, _, k = size
    return [rng.randn(d, h) / np.sqrt(d), np.zeros(h), rng.randn(h, k) / np.sqrt(h), np.zeros(k)]


def _logreg_params(size, rng):
    _, d, _, _, k = size
    return [0.01 * rng.randn(d, k), np.zeros(k)]


def _nll(T_or_jnp, z, Y):
    zmax = z.max(axis=1, keepdims=True)
    logp = z - zmax - T_or_jnp.log(T_or_jnp.exp(z - zmax).sum(axis=1, keepdims=True))
    return -(Y * logp).sum(axis=1).mean()


def _sgd_graph(th, T, size, params, forward):
    X, Y = _dataset(size)
    data_x, data_y = th.shared(X, name="data_x"), th.shared(Y, name="data_y")
    shared = [th.shared(p) for p in params]
    i = T.lscalar("i")
    x, y = T.dmatrix("x"), T.dmatrix("y")
    cost = _nll(T, forward(T, x, *shared), y)
    bs = size[3]
    updates = [(p, p - 0.1 * g) for p, g in zip(shared, th.grad(cost, shared))]
    if _traced_slice_starts(th, T):
        givens = {x: data_x[i * bs:(i + 1) * bs], y: data_y[i * bs:(i + 1) * bs]}
    else:  # a thx without issue 11's traced slice starts: the same slice, constant (i = 3)
        givens = {x: data_x[3 * bs:4 * bs], y: data_y[3 * bs:4 * bs]}
        cost = cost + 0 * i
    return [i], [cost], updates, givens


_PROBED: dict[str, bool] = {}


def _traced_slice_starts(th, T) -> bool:
    """Does ``v[i * 2:(i + 1) * 2]`` with a symbolic ``i`` compile (once for every ``i``)?"""
    if th.__name__ not in _PROBED:  # asked once: the probe's compile would count as a cache hit
        i = T.lscalar("i")
        try:
            f = th.function([i], th.shared(np.arange(8.0))[i * 2:(i + 1) * 2].sum())
            _PROBED[th.__name__] = float(f(1)) == 5.0
        except Exception:
            _PROBED[th.__name__] = False
    return _PROBED[th.__name__]


def _sgd_jax(size, forward):
    jax, jnp, lax = _jax()
    bs = size[3]

    def loss(params, X, Y):
        return _nll(jnp, forward(jnp, X, *params), Y)

    def step(data_x, data_y, i, *params):
        X = lax.dynamic_slice_in_dim(data_x, i * bs, bs)
        Y = lax.dynamic_slice_in_dim(data_y, i * bs, bs)
        cost, grads = jax.value_and_grad(loss)(params, X, Y)
        return (cost,) + tuple(p - 0.1 * g for p, g in zip(params, grads))

    return step  # returns the cost (compared with thx's output), then the new parameters


def _logreg_forward(T_or_jnp, x, W, b):
    return T_or_jnp.dot(x, W) + b


def _mlp_forward(T_or_jnp, x, W1, b1, W2, b2):
    return T_or_jnp.dot(T_or_jnp.tanh(T_or_jnp.dot(x, W1) + b1), W2) + b2


def sgd_index(size, rng):
    return [3]  # the minibatch index: the same slice for every call of both sides


def _sgd_jax_data(size, params):
    import jax
    X, Y = _dataset(size)
    with jax.enable_x64(True):
        return [jax.device_put(X), jax.device_put(Y), 3] + [jax.device_put(p) for p in params]


def logreg_sgd_graph(th, T, size):
    return _sgd_graph(th, T, size, _logreg_params(size, np.random.RandomState(2)), _logreg_forward)


def logreg_sgd_jax(size):
    return _sgd_jax(size, _logreg_forward)


def logreg_sgd_jax_data(size, rng):
    return _sgd_jax_data(size, _logreg_params(size, np.random.RandomState(2)))


def mlp_sgd_graph(th, T, size):
    return _sgd_graph(th, T, size, _mlp_params(size, np.random.RandomState(2)), _mlp_forward)


def mlp_sgd_jax(size):
    return _sgd_jax(size, _mlp_forward)


def mlp_sgd_jax_data(size, rng):
    return _sgd_jax_data(size, _mlp_params(size, np.random.RandomState(2)))


# ---------------------------------------------------------------- the list

# ---------------------------------------------------------------- LSTM epoch over variable lengths

LSTM_EPOCH_FULL = (200, 50, 16, 32)  # sentences, distinct lengths (1..n), input width, hidden width
LSTM_EPOCH_QUICK = (40, 12, 3, 4)


def lstm_epoch_label(size):
    return f"{size[0]} sentences, {size[1]} lengths, {size[2]}->{size[3]}"


def lstm_epoch_data(size, rng):
    """``(params, sentences, targets)``: every length 1..n appears, in a shuffled order."""
    n_sent, n_len, d, h = size
    lengths = rng.permutation(np.resize(np.arange(1, n_len + 1), n_sent))
    sents = [rng.randn(int(n), d) for n in lengths]
    targets = rng.randint(0, 2, size=n_sent).astype("float64")
    params = [rng.randn(d, 4 * h) / np.sqrt(d), rng.randn(h, 4 * h) / np.sqrt(h), np.zeros(4 * h),
              rng.randn(h) / np.sqrt(h)]
    return params, sents, targets


LSTM_LR = 0.1


def lstm_epoch_thx(th, T, params, sents, targets):
    """Build the SGD step with ``th`` (the compile is timed too) and run one epoch: ``(costs, step)``."""
    W, U, b, v = (th.shared(p.copy()) for p in params)
    x, y = T.dmatrix("x"), T.dscalar("y")
    nh = params[1].shape[0]

    def step(x_t, h, c):
        z = T.dot(x_t, W) + T.dot(h, U) + b
        i, f, o = (T.nnet.sigmoid(z[k * nh:(k + 1) * nh]) for k in range(3))
        c = f * c + i * T.tanh(z[3 * nh:])
        return o * T.tanh(c), c

    zeros = T.zeros((nh,), dtype="float64")
    (hs, _), _ = th.scan(step, sequences=[x], outputs_info=[zeros, zeros])
    p = T.nnet.sigmoid(T.dot(hs[-1], v))
    cost = -(y * T.log(p) + (1 - y) * T.log(1 - p))
    ps = [W, U, b, v]
    grads = T.grad(cost, ps)
    train = th.function([x, y], cost, updates=[(q, q - LSTM_LR * g) for q, g in zip(ps, grads)])
    return [float(train(s, t)) for s, t in zip(sents, targets)], train


def lstm_epoch_jax(params, sents, targets):
    """The same epoch in hand-written JAX: each sentence padded to the next power of two, the
    true length passed as a value, padded steps masked (one compile per bucket)."""
    jax, jnp, lax = _jax()
    nh = params[1].shape[0]

    def cost(ps, x, n, y):
        W, U, b, v = ps

        def step(carry, xt_t):
            h, c = carry
            x_t, t = xt_t
            z = x_t @ W + h @ U + b
            i, f, o = (jax.nn.sigmoid(z[k * nh:(k + 1) * nh]) for k in range(3))
            c2 = f * c + i * jnp.tanh(z[3 * nh:])
            h2 = o * jnp.tanh(c2)
            keep = t < n
            return (jnp.where(keep, h2, h), jnp.where(keep, c2, c)), None

        zeros = jnp.zeros(nh)
        (h, _), _ = lax.scan(step, (zeros, zeros), (x, jnp.arange(x.shape[0])))
        p = jax.nn.sigmoid(h @ v)
        return -(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))

    @jax.jit
    def train(ps, x, n, y):
        c, g = jax.value_and_grad(cost)(ps, x, n, y)
        return [q - LSTM_LR * gq for q, gq in zip(ps, g)], c

    ps = [jnp.asarray(p) for p in params]
    out = []
    for s, t in zip(sents, targets):
        n = s.shape[0]
        size = 1 << max(n - 1, 0).bit_length()
        xp = np.pad(s, [(0, size - n), (0, 0)], mode="edge")
        ps, c = train(ps, xp, np.int64(n), t)
        out.append(float(c))
    return out


# ---------------------------------------------------------------- Gaussian process (linear algebra)

def gp_graph(th, T, size):
    from thx.tensor import slinalg
    n, d = size
    X, y, theta = T.dmatrix("X"), T.dvector("y"), T.dvector("theta")
    d2 = ((X.dimshuffle(0, "x", 1) - X.dimshuffle("x", 0, 1)) ** 2).sum(axis=2)
    K = T.exp(theta[1]) * T.exp(-0.5 * d2 / T.exp(2 * theta[0])) + T.exp(theta[2]) * T.eye(X.shape[0])
    L = slinalg.cholesky(K)
    alpha = slinalg.solve_upper_triangular(L.T, slinalg.solve_lower_triangular(L, y))
    nll = 0.5 * T.dot(y, alpha) + T.log(T.diag(L)).sum()
    return [X, y, theta], [nll, th.grad(nll, theta)], None


def gp_jax(size):
    jax, jnp, _ = _jax()
    from jax.scipy.linalg import solve_triangular

    def nll(X, y, theta):
        d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
        K = jnp.exp(theta[1]) * jnp.exp(-0.5 * d2 / jnp.exp(2 * theta[0])) + jnp.exp(theta[2]) * jnp.eye(X.shape[0])
        L = jnp.linalg.cholesky(K)
        alpha = solve_triangular(L.T, solve_triangular(L, y, lower=True), lower=False)
        return 0.5 * y @ alpha + jnp.log(jnp.diag(L)).sum()

    return jax.value_and_grad(nll, argnums=2)


def gp_data(size, rng):
    n, d = size
    X = rng.uniform(-2, 2, (n, d))
    return [X, np.sin(X.sum(axis=1)) + 0.1 * rng.randn(n), np.array([0.0, 0.0, np.log(0.1)])]


WORKLOADS: list[Workload] = [
    Workload("scalar_grad", "grad(x**2) on a dscalar: per-call overhead (jax.grad)", [1], [1],
             scalar_graph, scalar_jax, scalar_data, label=lambda s: "scalar"),
    Workload("logistic_grad", "logistic regression cost gradient, n x n matrix (jax.grad)",
             [1000], [50], logistic_graph, logistic_jax, logistic_data),
    Workload("scan_jacobian", "tutorial's scan Jacobian of x**2 (jax.jacrev)", [100, 1000], [20],
             jacobian_graph, jacobian_jax, vector_data),
    Workload("hessian", "gradient.hessian of sum(tanh(x) * x**2) (jax.hessian)", [300], [20],
             hessian_graph, hessian_jax, vector_data, rtol=1e-6),
    Workload("hessian_sin", "gradient.hessian of sum(sin(x) * x**2) (jax.hessian)", [300], [20],
             hessian_sin_graph, hessian_sin_jax, vector_data, rtol=1e-6),
    Workload("hvp_rop", "Hessian-vector product of sum(tanh(x) * x**2) by Rop of grad "
             "(jax.jvp of jax.grad)", [1_000_000], [1000], hvp_rop_graph, hvp_rop_jax, two_vectors),
    Workload("hvp_gradgrad", "Hessian-vector product by grad of grad (jax.grad of jax.grad)",
             [1_000_000], [1000], hvp_gradgrad_graph, hvp_gradgrad_jax, two_vectors),
    Workload("mlp_grad", "tanh MLP, softmax cross-entropy loss gradient (jax.grad)", [MLP_FULL],
             [MLP_QUICK], mlp_graph, mlp_jax, mlp_data, rtol=1e-6, label=mlp_label),
    Workload("rnn_scan", "tanh RNN by scan: mean(h**2) (lax.scan)", [RNN_FULL], [RNN_QUICK],
             rnn_graph, rnn_jax, rnn_data, rtol=1e-6, label=rnn_label),
    Workload("rnn_scan_grad", "its gradient wrt W, U, b (jax.grad of lax.scan)", [RNN_FULL],
             [RNN_QUICK], rnn_grad_graph, rnn_grad_jax, rnn_data, rtol=1e-6, label=rnn_label),
    Workload("lenet_grad", "LeNet: conv2d + pool_2d + tanh, fully connected, softmax; loss and "
             "gradient (jax.value_and_grad)", [LENET_FULL], [LENET_QUICK], lenet_graph, lenet_jax,
             lenet_data, rtol=1e-6, pytensor=False, label=lenet_label),
    Workload("chain_grad", "grad of an elementwise chain of n nodes (jax.grad)", [100, 1000],
             CHAIN_QUICK_SIZES, chain_graph, chain_jax, chain_data, rtol=1e-6,
             label=lambda n: f"{n} nodes", pytensor_sizes=[100] + CHAIN_QUICK_SIZES),
    Workload("gp_grad", "Gaussian-process negative log likelihood and its gradient wrt the kernel's "
             "hyperparameters: slinalg.cholesky and triangular solves (jax.value_and_grad)",
             [(500, 3)], [(20, 2)], gp_graph, gp_jax, gp_data, rtol=1e-8, pytensor=False,
             label=lambda s: f"n={s[0]}, d={s[1]}"),
    Workload("logreg_sgd_shared", "one SGD step of softmax regression, minibatch sliced by index "
             "through givens from a shared dataset (jax.value_and_grad, data on the device)",
             [SGD_FULL], [SGD_QUICK], logreg_sgd_graph, logreg_sgd_jax, sgd_index, rtol=1e-9,
             pytensor=False, label=sgd_label, jax_data=logreg_sgd_jax_data),
    Workload("mlp_sgd_shared", "one SGD step of a tanh MLP, fed the same way (jax.value_and_grad, "
             "data on the device)", [SGD_FULL], [SGD_QUICK], mlp_sgd_graph, mlp_sgd_jax, sgd_index,
             rtol=1e-9, pytensor=False, label=sgd_label, jax_data=mlp_sgd_jax_data),
]


# ---------------------------------------------------------------- sparse inputs (theano.sparse)

# vocabulary, minibatch rows, density, classes, format, how the layer is written
SPARSE_FULL = [(5000, 256, 0.01, 20, "csr", "structured_dot"), (5000, 256, 0.01, 20, "csc", "dot"),
               (5000, 256, 0.01, 20, "csr", "dot, weights left")]
SPARSE_QUICK = [(60, 8, 0.2, 3, "csr", "structured_dot")]
SPARSE_FORMS = {  # the layer x W as users write it
    "structured_dot": lambda S, T, x, W: S.structured_dot(x, W),
    "dot": lambda S, T, x, W: S.dot(x, W),
    "dot, weights left": lambda S, T, x, W: T.dot(W.T, x.T).T,
}
SPARSE_LR = 0.5


def _sparse_params(size):
    V, _, _, k = size[:4]
    rng = np.random.RandomState(3)
    return [0.01 * rng.randn(V, k), np.zeros(k)]


def sparse_sgd_data(size, rng):
    """One minibatch of bag-of-words rows (a SciPy csr matrix) and its labels."""
    import scipy.sparse as sp
    V, bs, density, k, fmt = size[:5]
    x = sp.random(bs, V, density=density, format=fmt, random_state=rng)
    return [x, rng.randint(0, k, size=bs).astype("int32")]


def sparse_sgd_graph(th, T, size):
    """Softmax regression on sparse rows: ``structured_dot(x, W)``, SGD on W and b (the form of
    a bag-of-words classifier in Theano; the sparse products run in SciPy on the host)."""
    import thx.sparse as S
    x, y = S.matrix(size[4], "x"), T.ivector("y")
    W, b = (th.shared(p) for p in _sparse_params(size))
    logp = T.nnet.logsoftmax(SPARSE_FORMS[size[5]](S, T, x, W) + b)
    cost = -T.mean(logp[T.arange(y.shape[0]), y])
    gW, gb = th.grad(cost, [W, b])
    return [x, y], [cost], [(W, W - SPARSE_LR * gW), (b, b - SPARSE_LR * gb)]


def sparse_sgd_jax(size):
    jax, jnp, _ = _jax()

    def loss(params, X, y):
        W, b = params
        logp = jax.nn.log_softmax(X @ W + b)
        return -logp[jnp.arange(y.shape[0]), y].mean()

    def step(X, y, W, b):
        c, (gW, gb) = jax.value_and_grad(loss)((W, b), X, y)
        return c, W - SPARSE_LR * gW, b - SPARSE_LR * gb
    return step


def sparse_sgd_jax_data(size, rng):
    """JAX's side: the same minibatch as a ``jax.experimental.sparse.BCOO`` (its number of stored
    entries is a static shape: another minibatch would compile again unless padded)."""
    import jax
    from jax.experimental import sparse as jsparse
    x, y = sparse_sgd_data(size, rng)
    with jax.enable_x64(True):
        return [jsparse.BCOO.from_scipy_sparse(x), y] + [jax.device_put(p) for p in _sparse_params(size)]


WORKLOADS += [
    Workload("sparse_sgd", "one SGD step of softmax regression on a minibatch of sparse rows: "
             "structured_dot(x, W), dot(x, W) of a csc matrix, dot(W.T, x.T).T (jax.value_and_grad "
             "with a BCOO matrix)", SPARSE_FULL, SPARSE_QUICK, sparse_sgd_graph, sparse_sgd_jax,
             sparse_sgd_data, rtol=1e-9, pytensor=False,
             label=lambda s: f"{s[1]} x {s[0]} {s[4]}, density {s[2]}, {s[3]} classes, {s[5]}",
             jax_data=sparse_sgd_jax_data),
]


# ---------------------------------------------------------------- gathers: the index check's cost

GATHER_DIM = 64


def gather_graph(th, T, n):
    """An embedding lookup ``E[idx]`` (n rows, 4n indices) and its gradient (a scatter-add)."""
    E, idx = T.dmatrix("E"), T.lvector("idx")
    cost = (E[idx] ** 2).sum()
    return [E, idx], [cost, th.grad(cost, E)], None


def gather_jax(n):
    jax, _, _ = _jax()
    return jax.value_and_grad(lambda E, idx: (E[idx] ** 2).sum())


def gather_data(n, rng):
    return [rng.randn(n, GATHER_DIM), rng.randint(-n, n, size=4 * n).astype("int64")]


WORKLOADS += [
    Workload("gather_check", "embedding lookup E[idx] and its gradient (scatter-add), index check "
             "on (jax.value_and_grad)", [20_000], [2000], gather_graph, gather_jax, gather_data,
             pytensor=False, label=lambda n: f"{n} x {GATHER_DIM}, {4 * n} indices"),
    Workload("gather_nocheck", "the same, config.check_index = False", [20_000], [2000],
             gather_graph, gather_jax, gather_data, pytensor=False,
             label=lambda n: f"{n} x {GATHER_DIM}, {4 * n} indices", thx_flags={"check_index": False}),
]
