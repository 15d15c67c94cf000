"""Persistence: graphs, compiled functions and shared variables pickle and unpickle.

As in Theano: an unpickled function gives the same results, shared variables
pickled together with a function come back as the very objects the function
updates, a function pickled in one process loads in another, and graphs of
any depth pickle (pickle's recursion would stop near 200 levels).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np

import thx
import thx.tensor as T
from thx.graph.basic import ancestors
from thx.ifelse import ifelse


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def test_graph_variables_roundtrip_with_shared_structure():
    x, y = T.dvector("x"), T.dmatrix("y")
    h = T.tanh(T.dot(y, x) + 1.5)
    cost = T.sum(h ** 2) + T.max(x[::-1]) * T.mean(y, axis=0)[1]
    g = T.grad(cost, [x, y])
    x2, y2, h2, cost2, g2 = roundtrip([x, y, h, cost, g])
    assert h2 in set(ancestors([cost2]))  # one graph: h is the node cost uses
    assert x2 in set(ancestors(g2)) and y2 in set(ancestors(g2))
    assert thx.pp(cost2) == thx.pp(cost) and thx.pp(g2[0]) == thx.pp(g[0])
    xv, yv = np.array([0.3, -0.2, 0.5]), np.arange(6.0).reshape(2, 3) / 6
    want = thx.function([x, y], [cost] + g)(xv, yv)
    got = thx.function([x2, y2], [cost2] + g2)(xv, yv)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_deep_graph_and_its_gradient_pickle():
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = T.sin(y) * 1.0001
    g = T.grad(y, x)
    y2, g2 = roundtrip([y, g])
    f = thx.function([x], [y, g])
    x2 = next(v for v in ancestors([y2]) if v.owner is None and v.name == "x")
    f2 = thx.function([x2], [y2, g2])
    for a, b in zip(f2(0.7), f(0.7)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    v, d = 0.7, 1.0  # and both are right: the loop and its chain rule in NumPy
    for _ in range(3000):
        v, d = np.sin(v) * 1.0001, d * np.cos(v) * 1.0001
    np.testing.assert_allclose(f2(0.7), [v, d], rtol=1e-10)


def test_every_op_family_roundtrips():
    x, v = T.dvector("x"), T.dvector("v")
    idx = T.lvector("idx")
    k = T.lscalar("k")
    parts = [T.exp(x), T.cast(x, "float32"), T.switch(x > 0, x, -x), T.sum(x, keepdims=True),
             T.prod(x), T.max(x), T.argmax(x), T.outer(x, v), x.reshape((1, -1)), x.dimshuffle("x", 0),
             T.concatenate([x, v]), T.stack([x, v]), x[idx], x[k], T.set_subtensor(x[1:], 2.0),
             T.inc_subtensor(x[idx], v[idx]), T.nnet.softmax(x), T.arange(k), T.zeros_like(x),
             T.alloc(1.0, k, 2), ifelse(T.gt(k, 0), x, v)]
    parts += [T.Rop(T.exp(x), x, v), T.Lop(T.exp(x), x, v)]
    rec, _ = thx.scan(lambda xt, h: T.tanh(h * 0.5 + xt), sequences=x,
                      outputs_info=T.zeros_like(x[0]))
    parts += [rec, T.grad(rec[-1], x)]
    ins = [x, v, idx, k]
    vals = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), 2]
    f = thx.function(ins, parts)
    ins2, parts2 = roundtrip([ins, parts])
    f2 = thx.function(ins2, parts2)
    for a, b in zip(f2(*vals), f(*vals)):
        np.testing.assert_array_equal(a, b)


def test_shared_variable_roundtrip():
    w = thx.shared(np.arange(6, dtype="float32").reshape(2, 3), name="w", broadcastable=(False, False))
    w2 = roundtrip(w)
    assert w2.name == "w" and w2.type == w.type
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    w2.set_value(np.zeros((2, 3), dtype="float32"))  # independent copies
    assert w.get_value()[1, 2] == 5


def _trainer():
    x = T.dvector("x")
    w = thx.shared(np.array([1.0, -2.0, 0.5]), name="w")
    steps = thx.shared(0, name="steps")
    cost = T.sum((x * w - 1.0) ** 2)
    acc = T.dscalar("acc")
    f = thx.function([x, thx.In(acc, value=0.0, update=acc + cost)], [cost, acc],
                     updates=[(w, w - 0.05 * T.grad(cost, w)), (steps, steps + 1)], name="train")
    return f, w, steps


def test_function_roundtrip_keeps_results_updates_and_state():
    f, w, steps = _trainer()
    xv = np.array([1.0, 0.5, -1.0])
    f(xv)
    f2, w2, steps2 = roundtrip((f, w, steps))
    assert f2.name == "train"
    assert w2 is f2.maker.shared_vars[0] and steps2 is f2.maker.shared_vars[1]
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    for _ in range(3):  # same results, same updates, same In(update=) state
        for a, b in zip(f2(xv), f(xv)):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    assert steps2.get_value() == steps.get_value() == 4
    assert w2 is not w  # an independent copy of the state


def test_function_with_scan_ifelse_and_random_streams_roundtrips():
    x, s = T.dvector("x"), T.dscalar("s")
    rec, _ = thx.scan(lambda xt, h: T.tanh(h + xt), sequences=x, outputs_info=T.zeros_like(s))
    srng = T.shared_randomstreams.RandomStreams(seed=3)
    out = [rec, T.grad(rec[-1], x), ifelse(T.gt(s, 0), rec.sum(), s), srng.uniform((2,))]
    f = thx.function([x, s], out)
    f2 = roundtrip(f)
    for _ in range(2):  # the random stream's state came along: the same draws
        for a, b in zip(f2(np.arange(3.0), 1.0), f(np.arange(3.0), 1.0)):
            np.testing.assert_array_equal(a, b)


def test_function_pickled_in_one_process_loads_in_another(tmp_path):
    f, w, steps = _trainer()
    xv = np.array([1.0, 0.5, -1.0])
    f(xv)
    path = tmp_path / "train.pkl"
    path.write_bytes(pickle.dumps((f, w, steps)))
    expected = [f(xv) for _ in range(2)]
    code = textwrap.dedent(f"""
        import json, pickle, numpy as np
        f, w, steps = pickle.loads(open({str(path)!r}, "rb").read())
        xv = np.array([1.0, 0.5, -1.0])
        outs = [[float(o) for o in f(xv)] for _ in range(2)]
        print(json.dumps(dict(outs=outs, w=w.get_value().tolist(), steps=int(steps.get_value()))))
        pickle.dump((f, w, steps), open({str(path)!r} + ".back", "wb"))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(got["outs"], [[float(o) for o in e] for e in expected])
    np.testing.assert_array_equal(got["w"], w.get_value())
    assert got["steps"] == steps.get_value() == 3
    # and back: the other process's function, with its state, loads here
    f3, w3, steps3 = pickle.loads((tmp_path / "train.pkl.back").read_bytes())
    np.testing.assert_array_equal(w3.get_value(), w.get_value())
    for a, b in zip(f3(xv), f(xv)):
        np.testing.assert_array_equal(a, b)
