"""Optimizer cost versus graph size: elementwise chains and trees of 1k, 10k and 100k nodes.

Run ``python bench/bench_optimizer.py [sizes...]``.  For each graph it prints
the number of Apply nodes before and after rewriting, the time to build the
FunctionGraph (a copy of the graph) and the time of ``thx.rewriting.optimize``
in FAST_RUN mode, with the time per node.  The engine is linear when the time
per node stays flat as the graph grows.
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np

import thx.tensor as T
from thx.graph.fg import FunctionGraph
from thx.rewriting import optimize


def chain(n: int):
    """A chain of ~n elementwise nodes mixing ops that rewrites touch (5 nodes per step)."""
    x, y = T.dvector("x"), T.dvector("y")
    v = x
    steps = [lambda v: T.tanh(v * 2 + y),                 # mul, add, tanh (+ DimShuffle of 2)
             lambda v: T.log(1 + T.exp(v)) - (v * 1),     # add, exp, log, mul, sub: log1p/softplus, x*1
             lambda v: T.sigmoid(-(-v)) ** 1 + y]         # neg, neg, sigmoid, pow, add
    per_round = _count([steps[2](steps[1](steps[0](x)))])  # nodes added by one round of the 3 steps
    for k in range(3 * max(1, round(n / per_round))):
        v = steps[k % 3](v)
    return [x, y], [v]


def tree(n: int):
    """A balanced binary tree of ~n elementwise nodes over many distinct leaves."""
    x = T.dvector("x")
    leaves = [T.exp(x * float(i % 7 + 1)) for i in range(max(2, n // 4))]
    level = 0
    while len(leaves) > 1:
        nxt = []
        for i in range(0, len(leaves) - 1, 2):
            a, b = leaves[i], leaves[i + 1]
            nxt.append(a + b if level % 2 == 0 else T.sqrt(a * b))
        if len(leaves) % 2:
            nxt.append(leaves[-1])
        leaves = nxt
        level += 1
    return [x], leaves


def _count(outs) -> int:
    from thx.graph.basic import io_toposort
    return len(io_toposort([], outs))


def measure(build, n: int) -> dict:
    ins, outs = build(n)
    gc.collect()
    t0 = time.perf_counter()
    fg = FunctionGraph(ins, outs)
    t1 = time.perf_counter()
    before = len(fg.apply_nodes)
    counts = optimize(fg, "FAST_RUN")
    t2 = time.perf_counter()
    return dict(kind=build.__name__, before=before, after=len(fg.apply_nodes), build=t1 - t0,
                opt=t2 - t1, per_node=(t2 - t1) / before, rewrites=sum(counts.values()))


def main(sizes=(1_000, 10_000, 100_000)) -> list[dict]:
    sys.setrecursionlimit(10_000)  # the bench itself recurses nowhere; pp is not called
    rows = []
    print(f"{'graph':<6} {'nodes':>8} {'after':>8} {'rewrites':>9} {'fgraph s':>9} {'optimize s':>11} "
          f"{'us/node':>8}")
    for build in (chain, tree):
        for n in sizes:
            r = measure(build, n)
            rows.append(r)
            print(f"{r['kind']:<6} {r['before']:>8} {r['after']:>8} {r['rewrites']:>9} {r['build']:>9.3f} "
                  f"{r['opt']:>11.3f} {1e6 * r['per_node']:>8.1f}")
    for kind in ("chain", "tree"):
        k = [r for r in rows if r["kind"] == kind]
        print(f"{kind}: time per node at {k[-1]['before']} nodes / at {k[0]['before']} nodes = "
              f"{k[-1]['per_node'] / k[0]['per_node']:.2f}")
    return rows


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000, 100_000))
    _ = np
