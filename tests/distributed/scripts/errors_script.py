"""Sharding mistakes on a mesh of 4 simulated devices (run by tests/distributed as a script).

Prints one JSON object: what each mistake raised (exception type and message).
"""

import json

import numpy as np

import theano
import theano.tensor as T


def caught(fn):
    try:
        fn()
    except Exception as e:  # the test checks the type and the message
        return [type(e).__name__, str(e)]
    return None


def main():
    x = T.matrix("x")
    out = {}
    f = theano.function([x], T.sum(x ** 2))  # data_parallel: x's rows over 4 devices
    out["ok"] = float(f(np.ones((8, 3))))
    out["batch"] = caught(lambda: f(np.ones((6, 3))))
    out["shared"] = caught(lambda: theano.shared(np.zeros((6, 3)), name="W", sharding=("data", None)))
    out["axis"] = caught(lambda: theano.function([x], x.sum(), shardings={x: ("model", None)})(
        np.ones((4, 3))))
    out["rank"] = caught(lambda: theano.function([x], x.sum(), shardings={x: ("data",)}))
    with theano.config.change_flags(data_parallel=False):  # uploaded to one device, no mesh
        early = theano.shared(np.arange(8.0), name="early")
    out["early_sharding"] = str(early.get_value(return_internal_type=True).sharding)
    out["early_sum"] = float(theano.function([], early.sum())())  # moved onto the mesh
    out["early_sharding_after"] = str(early.get_value(return_internal_type=True).sharding)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
