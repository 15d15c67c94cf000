"""A scan-based RNN trained by SGD on batch-major inputs (run by tests/distributed as a script).

With ``data_parallel=True`` the batch axis (the leading axis of each input) is sharded over the
``data`` mesh axis; the scan runs over time.  Prints ``{"params": [...]}``.
"""

import json
import os

import numpy as np

import theano
import theano.tensor as T

B, STEPS_T, D, H, EPOCHS = 8, 5, 3, 4, 10


def data(rng):
    """Inputs (batch, time, features), targets and the initial parameters."""
    return (rng.randn(B, STEPS_T, D), rng.randn(B, H),
            [rng.randn(D, H) * 0.4, rng.randn(H, H) * 0.4, np.zeros(H)])


def main():
    x_np, t_np, init = data(np.random.RandomState(1))
    W, U, b = (theano.shared(v, name=n) for v, n in zip(init, ("W", "U", "b")))
    x, target = T.tensor3("x"), T.matrix("target")
    h0 = T.zeros((x.shape[0], H))
    hs, _ = theano.scan(lambda x_t, h: T.tanh(T.dot(x_t, W) + T.dot(h, U) + b),
                        sequences=x.dimshuffle(1, 0, 2), outputs_info=h0)
    cost = T.mean((hs[-1] - target) ** 2)
    params = [W, U, b]
    grads = T.grad(cost, params)
    train = theano.function([x, target], cost,
                            updates=[(q, q - 0.3 * g) for q, g in zip(params, grads)])
    for _ in range(EPOCHS):
        train(x_np, t_np)
    out = {"params": [q.get_value().tolist() for q in params]}
    if os.environ.get("THX_TEST_HLO"):
        out["partitioned"] = theano.distributed.partitioned_text(train, x_np, t_np)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
