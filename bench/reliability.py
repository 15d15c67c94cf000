"""Reliability under load at full size (issue 16): ``python -m bench.reliability [--quick]``.

* threads: 8 threads call a mix of functions with and without updates,
  10^5 calls in all; the shared counters must end at the exact expected values;
* functions: 1,000 distinct functions created, called once and dropped; RSS
  growth after ``thx.compile.cache.clear()`` and ``jax.clear_caches()``;
* calls: 10^6 calls of one function with an update; RSS growth;
* dataset: 100 SGD steps fed through givens from a 150 MB shared dataset;
  RSS growth (at most one dataset copy);
* compiledir: two processes write one persistent compilation cache at once,
  then a third loads it;
* uncontended overhead: per-call time of a function with an update (it
  takes its shared variables' locks) and of one without.

Each part runs in its own subprocess (fresh RSS), prints one JSON line; the
report is a Markdown table (``docs/reliability.md`` quotes it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RSS = """
import gc, json, os, time, threading, numpy as np
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
import thx, thx.tensor as T
"""

THREADS = _RSS + """
N = {n}
a, b = thx.shared(0.0), thx.shared(np.zeros(3))
x = T.dscalar('x')
inc_a = thx.function([], [], updates=[(a, a + 1)])
inc_both = thx.function([x], a + x, updates=[(a, a + 2), (b, b + x)])
read = thx.function([], [a * 1, b.sum()])
per_thread = N // (8 * 3)
def work(k):
    for _ in range(per_thread):
        inc_a(); inc_both(1.0); read()
t0 = time.perf_counter()
ts = [threading.Thread(target=work, args=(k,)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
dt = time.perf_counter() - t0
calls = per_thread * 8 * 3
ok = a.get_value() == per_thread * 8 * 3 and np.all(b.get_value() == per_thread * 8)
print(json.dumps({{"calls": calls, "seconds": dt, "exact": bool(ok)}}))
"""

FUNCTIONS = _RSS + """
import jax
from thx.compile import cache
x = T.dvector('x')
def make(k):
    f = thx.function([x], T.exp(x) * k + T.sin(x) ** (k % 5 + 1)); f(np.ones(10))
for k in range(10**6, 10**6 + 20): make(k)
cache.clear(); jax.clear_caches(); gc.collect(); r0 = rss()
t0 = time.perf_counter()
for k in range({n}): make(k)
dt = time.perf_counter() - t0
peak = rss()
cache.clear(); jax.clear_caches(); gc.collect()
print(json.dumps({{"functions": {n}, "seconds": dt, "growth": rss() - r0, "peak": peak - r0}}))
"""

CALLS = _RSS + """
s = thx.shared(np.zeros(100)); x = T.dvector('x')
f = thx.function([x], (s * x).sum(), updates=[(s, s + x)])
xv = np.ones(100)
for _ in range(5000): f(xv)
gc.collect(); r0 = rss(); t0 = time.perf_counter()
for _ in range({n}): f(xv)
dt = time.perf_counter() - t0
gc.collect()
print(json.dumps({{"calls": {n}, "seconds": dt, "growth": rss() - r0,
                  "exact": float(s.get_value()[0]) == 5000 + {n}}}))
"""

COMPILEDIR = _RSS + """
thx.config.compiledir = {path!r}
x = T.dvector('x')
t0 = time.perf_counter()
vals = [float(thx.function([x], T.tanh(x) * k + T.exp(x) ** (k % 4 + 1))(np.arange(3.0)).sum())
        for k in range({n})]
print(json.dumps({{"seconds": time.perf_counter() - t0, "vals": vals}}))
"""

DATASET = _RSS + """
rng = np.random.RandomState(0)
n, d, bs = {rows}, 784, 256
thx.function([], thx.shared(0.0) * 1)  # load the lowering layer first
r_start = rss()
data_x = thx.shared(rng.rand(n, d)); data_y = thx.shared(np.eye(10)[rng.randint(0, 10, n)])
gc.collect(); r_data = rss()
W = thx.shared(np.zeros((d, 10))); b = thx.shared(np.zeros(10))
x, y = T.dmatrix('x'), T.dmatrix('y')
p = T.nnet.softmax(T.dot(x, W) + b)
cost = -T.mean(T.sum(y * T.log(p), axis=1))
gW, gb = T.grad(cost, [W, b])
k = 3  # a constant minibatch (a symbolic index needs issue 11's shapes work)
train = thx.function([], cost, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)],
                     givens={{x: data_x[k * bs:(k + 1) * bs], y: data_y[k * bs:(k + 1) * bs]}})
train(); gc.collect(); r0 = rss()
for _ in range(100):
    train()
gc.collect()
print(json.dumps({{"mb": data_x.get_value(borrow=True).nbytes / 2 ** 20, "create": r_data - r_start,
                  "growth": rss() - r0}}))
"""

OVERHEAD = _RSS + """
x = T.dscalar('x')
plain = thx.function([x], x * 2)
s = thx.shared(0.0)
upd = thx.function([x], x * 2, updates=[(s, s + x)])
def per_call(f, n={n}):
    for _ in range(2000): f(1.0)
    best = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(n): f(1.0)
        best.append((time.perf_counter() - t0) / n)
    return sorted(best)[1]
print(json.dumps({{"no_update_us": 1e6 * per_call(plain), "update_us": 1e6 * per_call(upd)}}))
"""


def _run(code: str, timeout: float = 3600) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       env=env, cwd=str(ROOT), timeout=timeout)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def _compiledir(n: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        code = textwrap.dedent(COMPILEDIR.format(path=d, n=n))
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
                 for _ in range(2)]
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=3600)
            if p.returncode:
                raise RuntimeError(err[-2000:])
            outs.append(json.loads(out.strip().splitlines()[-1]))
        third = _run(COMPILEDIR.format(path=d, n=n))
        same = outs[0]["vals"] == outs[1]["vals"] == third["vals"]
        return {"writers": [o["seconds"] for o in outs], "reader": third["seconds"], "agree": same,
                "entries": len(os.listdir(d))}


def run(quick: bool = False, log=print) -> dict:
    sizes = dict(threads=8 * 3 * 200, functions=60, calls=20_000, compiledir=6, overhead=5_000,
                 rows=5000) if quick \
        else dict(threads=100_000, functions=1000, calls=1_000_000, compiledir=40, overhead=50_000,
                  rows=25_000)
    res = {}
    t0 = time.perf_counter()
    res["threads"] = _run(THREADS.format(n=sizes["threads"]))
    log(f"threads: {res['threads']}")
    res["functions"] = _run(FUNCTIONS.format(n=sizes["functions"]))
    log(f"functions: {res['functions']}")
    res["calls"] = _run(CALLS.format(n=sizes["calls"]))
    log(f"calls: {res['calls']}")
    res["compiledir"] = _compiledir(sizes["compiledir"])
    log(f"compiledir: {res['compiledir']}")
    res["dataset"] = _run(DATASET.format(rows=sizes["rows"]))
    log(f"dataset: {res['dataset']}")
    res["overhead"] = _run(OVERHEAD.format(n=sizes["overhead"]))
    log(f"overhead: {res['overhead']}")
    res["seconds"] = time.perf_counter() - t0
    return res


def format_report(r: dict) -> str:
    th, fn, ca, cd, ov = r["threads"], r["functions"], r["calls"], r["compiledir"], r["overhead"]
    return "\n".join([
        "| test | size | result |", "|---|---|---|",
        f"| 8 threads, functions with and without updates | {th['calls']:,} calls | "
        f"{'exact counts' if th['exact'] else '**counts wrong**'}, {th['seconds']:.1f} s |",
        f"| distinct functions created, called, dropped | {fn['functions']:,} | RSS +{fn['growth']:.1f} MB "
        f"after clearing the caches (peak +{fn['peak']:.0f} MB), {fn['seconds']:.1f} s |",
        f"| calls of one function with an update | {ca['calls']:,} | RSS +{ca['growth']:.1f} MB, "
        f"{1e6 * ca['seconds'] / ca['calls']:.1f} µs/call |",
        f"| two processes writing one compiledir, a third reading it | {cd['entries']} entries | "
        f"{'same results' if cd['agree'] else '**results differ**'}; writers {cd['writers'][0]:.1f} s / "
        f"{cd['writers'][1]:.1f} s, reader {cd['reader']:.1f} s |",
        f"| 100 SGD steps through givens from a shared dataset | {r['dataset']['mb']:.0f} MB | RSS "
        f"+{r['dataset']['create']:.0f} MB to create it, +{r['dataset']['growth']:.1f} MB over the steps |",
        f"| uncontended call, scalar | | {ov['no_update_us']:.1f} µs without update, "
        f"{ov['update_us']:.1f} µs with one (locks, donation) |",
    ])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI)")
    a = ap.parse_args(argv)
    r = run(quick=a.quick)
    print()
    print(format_report(r))
    bad = not (r["threads"]["exact"] and r["calls"]["exact"] and r["compiledir"]["agree"])
    if bad:
        sys.exit(1)
    return r


if __name__ == "__main__":
    main()
