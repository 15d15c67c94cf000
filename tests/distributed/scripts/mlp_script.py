"""A Theano-style MLP trained by SGD from a shared dataset (run by tests/distributed as a script).

Flags come from THX_FLAGS.  With ``mesh`` naming a ``model`` axis, the weight matrices are
sharded on it (``shared(sharding=)``) and the hidden layer is laid out by ``shardings=``.
Prints one JSON line: ``{"process": rank, "params": [...], "hlo": {...}}``.
"""

import json
import os

import numpy as np

import theano
import theano.tensor as T

N, D, H, K, BS, STEPS = 64, 6, 8, 3, 16, 20


def data(rng):
    """The dataset and the initial parameters (the tests' NumPy reference draws the same)."""
    x = rng.randn(N, D)
    y = rng.randint(0, K, N).astype("int32")
    return x, y, [rng.randn(D, H) * 0.3, np.zeros(H), rng.randn(H, K) * 0.3, np.zeros(K)]


def main():
    x_np, y_np, init = data(np.random.RandomState(0))
    model = "model" in theano.config.mesh
    m = "model" if model else None
    data_x = theano.shared(x_np, name="data_x")
    data_y = theano.shared(y_np, name="data_y")
    W1 = theano.shared(init[0], name="W1", sharding=(None, m))
    b1 = theano.shared(init[1], name="b1", sharding=(m,))
    W2 = theano.shared(init[2], name="W2", sharding=(m, None))
    b2 = theano.shared(init[3], name="b2")
    x, y, i = T.matrix("x"), T.ivector("y"), T.lscalar("i")
    hid = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(hid, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    params = [W1, b1, W2, b2]
    grads = T.grad(cost, params)
    step = theano.function([i], cost, updates=[(q, q - 0.5 * g) for q, g in zip(params, grads)],
                           givens={x: data_x[i * BS:(i + 1) * BS], y: data_y[i * BS:(i + 1) * BS]},
                           shardings={hid: ("data", m)} if model else None)
    for t in range(STEPS):
        step(t % (N // BS))
    out = {"process": theano.distributed.process_index(),
           "params": [q.get_value().tolist() for q in params]}
    if os.environ.get("THX_TEST_HLO"):
        out["hlo"] = {"lowered": step.lower_text(0),
                      "partitioned": theano.distributed.partitioned_text(step, 0)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
