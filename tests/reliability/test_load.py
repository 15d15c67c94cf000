"""Reliability under load (issue 16): no update lost between threads, a failed call changes
nothing, dropped functions give their memory back, two processes share one compiledir.

Memory is measured as the resident set of a fresh subprocess (/proc/self/statm), never by
counting Python objects.  Sizes are small here; ``bench/reliability.py`` runs the large ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.reliability.threads import run_threads

ROOT = Path(__file__).resolve().parents[2]


def _subprocess(code: str, timeout: float = 300) -> dict:
    """Run ``code`` in a fresh Python importing this worktree's thx; returns its last stdout line as JSON."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=str(ROOT))
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


RSS = "from tests.reliability.threads import rss_mb as rss\n"


# ---------------------------------------------------------------- threads

def test_eight_threads_never_lose_an_update():
    for _ in range(20):
        s = thx.shared(0.0)
        inc = thx.function([], s, updates=[(s, s + 1)])
        run_threads(lambda k: [inc() for _ in range(2000)], 8)
        assert s.get_value() == 16000.0


def test_mixed_functions_from_eight_threads_give_exact_counts():
    a, b = thx.shared(0.0, name="a"), thx.shared(np.zeros(3), name="b")
    x = T.dscalar("x")
    inc_a = thx.function([], [], updates=[(a, a + 1)])
    inc_both = thx.function([x], a + x, updates=[(a, a + 2), (b, b + x)])
    c = thx.shared(0.0, name="c")
    read = thx.function([], [a * 1, b.sum() + c * 0])  # no update: no lock
    n = 500  # 8 x 500 x 3 calls; the bench runs 10^5

    def work(k):
        for i in range(n):
            inc_a()
            inc_both(1.0)
            ra, rb = read()
            assert ra >= 0 and rb >= 0
            if i % 100 == 0:
                a.get_value(), b.get_value(), c.set_value(float(i))  # c: read by `read` only
    b_before = b.get_value()
    run_threads(work, 8)
    assert a.get_value() == 8 * n * 3
    np.testing.assert_array_equal(b.get_value(), b_before + 8 * n)


def test_a_bucketed_reader_retries_when_an_update_donates_what_it_read():
    W = thx.shared(np.zeros((3, 3)), name="W")
    x = T.dmatrix("x")
    bump = thx.function([], [], updates=[(W, W + 1)])
    read = thx.function([x], T.dot(x, W).sum(axis=1))  # bucketed along x's rows, no update
    rng = np.random.RandomState(0)
    shapes = [rng.randint(1, 9) for _ in range(1500)]  # enough to meet the race (3 of 3 runs)
    read(np.ones((3, 3)))
    read(np.ones((5, 3)))  # the second shape turns the buckets on
    assert read._bucket is not None

    def work(k):
        for i, n in enumerate(shapes):
            if k == 0:
                bump()
            else:
                r = read(np.ones((n, 3)))
                assert r.shape == (n,) and np.all(r == r[0]) and r[0] % 9 == 0  # one whole W: 9 w
    run_threads(work, 3)
    np.testing.assert_array_equal(W.get_value(), np.full((3, 3), 1500.0))


def test_a_bucketed_reader_whose_buffer_was_donated_reads_again():
    # the race above, made deterministic: the buffer the call read is deleted (as a donating
    # update does) just before the jitted call runs
    W = thx.shared(np.ones((3, 3)), name="W")
    x = T.dmatrix("x")
    read = thx.function([x], T.dot(x, W).sum(axis=1))
    read(np.ones((3, 3)))
    read(np.ones((5, 3)))
    p, fn, statics = read._bucket
    calls = []

    def donate_first(*args):
        if not calls:
            W.set_value(np.full((3, 3), 2.0))
            args[-1].delete()
        calls.append(1)
        return fn(*args)
    read._bucket = (p, donate_first, statics)
    np.testing.assert_array_equal(read(np.ones((4, 3))), np.full(4, 18.0))  # 3 columns of 3 x 2.0
    assert len(calls) == 2


def test_set_value_and_updates_interleave_atomically():
    s = thx.shared(np.zeros(4))
    inc = thx.function([], [], updates=[(s, s + 1)])

    def work(k):
        for _ in range(300):
            if k == 0:
                v = s.get_value()
                assert np.all(v == v[0])  # never a torn array
            else:
                inc()
    run_threads(work, 4)
    np.testing.assert_array_equal(s.get_value(), np.full(4, 900.0))


def test_two_functions_locking_two_variables_in_opposite_orders_do_not_deadlock():
    p, q = thx.shared(0.0), thx.shared(0.0)
    f = thx.function([], [], updates=[(p, p + q + 1), (q, q + 1)])
    g = thx.function([], [], updates=[(q, q + p * 0 + 1), (p, p + 0)])
    run_threads(lambda k: [(f if k % 2 else g)() for _ in range(500)], 4)
    assert q.get_value() == 2000.0


# ---------------------------------------------------------------- a failed call changes nothing

def _state(*shared):
    return [np.array(s.get_value()) for s in shared]


def test_a_bad_argument_changes_nothing():
    s = thx.shared(np.arange(3.0))
    x = T.dvector("x")
    f = thx.function([x], x.sum(), updates=[(s, s + x)])
    before = _state(s)
    with pytest.raises(TypeError):
        f(np.ones((2, 2)))
    with pytest.raises(TypeError):
        f("not an array")
    assert all(np.array_equal(a, b) for a, b in zip(_state(s), before))
    f(np.ones(3))
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0) + 1)


def test_a_shape_error_inside_xla_changes_nothing():
    s = thx.shared(np.arange(3.0))
    W = T.dmatrix("W")
    f = thx.function([W], [], updates=[(s, T.dot(W, s))])
    before = _state(s)
    with pytest.raises(ValueError, match="thx function"):
        f(np.ones((2, 5)))
    np.testing.assert_array_equal(s.get_value(), before[0])
    f(np.eye(3))  # the variable still works (its buffer was not donated to the failed call)
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0))


def test_a_failed_call_keeps_in_containers_and_random_states():
    from thx.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=3)
    u = srng.uniform((3,))
    acc = T.dvector("acc")
    x = T.dvector("x")
    f = thx.function([x, thx.In(acc, value=np.zeros(3), update=acc + u * x)],
                     acc + T.dot(x, x) + u)
    rng = u.owner.inputs[0]
    key_before = np.array(rng.get_value())
    cont_before = np.array(f._containers[1])
    with pytest.raises((TypeError, ValueError)):
        f(np.ones(4))  # a wrong length: fails while tracing
    np.testing.assert_array_equal(np.array(rng.get_value()), key_before)
    np.testing.assert_array_equal(np.array(f._containers[1]), cont_before)
    f(np.ones(3))
    assert not np.array_equal(np.array(rng.get_value()), key_before)


# ---------------------------------------------------------------- memory (subprocesses)

def test_dropping_300_distinct_functions_gives_their_memory_back():
    r = _subprocess(RSS + """
import gc, json, numpy as np, jax, thx, thx.tensor as T
from thx.compile import cache
x = T.dvector('x')
def make(k):
    f = thx.function([x], T.exp(x) * k + T.sin(x) ** (k % 5 + 1)); f(np.ones(10))
for k in range(1000, 1020): make(k)
cache.clear(); jax.clear_caches(); gc.collect()
r0 = rss()
for k in range(300): make(k)
peak = rss()
cache.clear(); jax.clear_caches(); gc.collect()
print(json.dumps({"growth": rss() - r0, "peak": peak - r0}))
""")
    print(f"\n300 dropped functions: RSS +{r['growth']:.1f} MB (peak +{r['peak']:.1f})")
    assert r["growth"] <= 20, r


def test_training_from_a_shared_dataset_keeps_one_copy():
    # 40 MB float32 dataset (the bench uses 150 MB): 100 SGD steps through givens
    r = _subprocess(RSS + """
import gc, json, numpy as np, thx, thx.tensor as T
rng = np.random.RandomState(0)
n, d, bs = 20000, 500, 100
thx.function([], thx.shared(0.0) * 1)   # load the lowering layer first
r_start = rss()
data_x = thx.shared(rng.rand(n, d).astype('float32'))
data_y = thx.shared((rng.rand(n) > 0.5).astype('float32'))
gc.collect(); r_data = rss()
w = thx.shared(np.zeros(d, 'float32')); b = thx.shared(np.float32(0))
x, y = T.fmatrix('x'), T.fvector('y')
p = T.nnet.sigmoid(T.dot(x, w) + b)
cost = T.nnet.binary_crossentropy(p, y).mean()
gw, gb = T.grad(cost, [w, b])
k = 3  # a constant minibatch index (symbolic slicing arrives with issue 11's shapes work)
train = thx.function([], cost, updates=[(w, w - np.float32(0.1) * gw), (b, b - np.float32(0.1) * gb)],
                     givens={x: data_x[k * bs:(k + 1) * bs], y: data_y[k * bs:(k + 1) * bs]})
train(); gc.collect(); r0 = rss()
for _ in range(100):
    train()
gc.collect()
print(json.dumps({"data": r_data - r_start, "growth": rss() - r0, "mb": data_x.get_value(borrow=True).nbytes / 2**20}))
""")
    print(f"\ndataset {r['mb']:.0f} MB: RSS +{r['data']:.0f} MB to create, +{r['growth']:.1f} MB over 100 steps")
    assert r["growth"] <= r["mb"], r
    assert r["data"] <= 2.2 * r["mb"], r  # one device copy (+ the transient host copy)


def test_two_processes_write_and_load_one_compiledir(tmp_path):
    code = RSS + f"""
import json, numpy as np, thx, thx.tensor as T
thx.config.compiledir = {str(tmp_path)!r}
x = T.dvector('x')
outs = []
for k in range(12):
    f = thx.function([x], T.tanh(x) * k + T.exp(x) ** (k % 4 + 1))
    outs.append(float(f(np.arange(3.0)).sum()))
print(json.dumps({{"outs": outs}}))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=str(ROOT)) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1])["outs"])
    assert any(tmp_path.iterdir())  # both wrote the persistent cache
    again = _subprocess(code)["outs"]  # a third process loads what they wrote
    xs = np.arange(3.0)
    want = [float((np.tanh(xs) * k + np.exp(xs) ** (k % 4 + 1)).sum()) for k in range(12)]
    for got in results + [again]:
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_many_calls_of_one_function_keep_memory_flat():
    # 50,000 calls here (the bench runs 10^6): a call with an update and a NumPy output
    r = _subprocess(RSS + """
import gc, json, numpy as np, thx, thx.tensor as T
s = thx.shared(np.zeros(100))
x = T.dvector('x')
f = thx.function([x], (s * x).sum(), updates=[(s, s + x)])
xv = np.ones(100)
for _ in range(2000): f(xv)
gc.collect(); r0 = rss()
for _ in range(50000): f(xv)
gc.collect()
print(json.dumps({"growth": rss() - r0, "value": float(s.get_value()[0])}))
""")
    print(f"\n50,000 calls: RSS +{r['growth']:.2f} MB")
    assert r["value"] == 52000.0
    assert r["growth"] <= 5, r
