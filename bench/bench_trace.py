"""Cost of recording creation traces (``traceback__limit``) and test values while building a graph.

Run ``python bench/bench_trace.py [n]``.  Builds an elementwise chain of ``n``
nodes (default 5,000: ``v = tanh(v * 2 + y)`` repeated), and an MLP with its
gradient of about as many nodes, with
``traceback__limit=0`` (nothing recorded), the default 8, and -1 (whole
stack), and with ``compute_test_value='raise'``; prints the best of several
runs of each, its ratio to the best untraced build, and the median over rounds
of each round's ratio to that round's untraced build (steadier under load).
The goal for the default is <= 1.10.  Times are CPU times of this process (``time.process_time``), so other load
on the machine disturbs them less.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

import numpy as np

import thx
import thx.tensor as T


def chain(n: int) -> None:
    """The cheapest nodes there are: ~n elementwise nodes."""
    x, y = T.dvector("x"), T.dvector("y")
    x.tag.test_value = np.ones(3)
    y.tag.test_value = np.ones(3)
    v = x
    for _ in range(n // 4):  # 4 nodes per step: mul, add, tanh and the DimShuffle of 2
        v = T.tanh(v * 2 + y)


def mlp(n: int) -> None:
    """A model as users write one: layers of dot, bias and tanh, a cost, its gradient (~n nodes)."""
    x = T.dmatrix("x")
    x.tag.test_value = np.ones((2, 3))
    h, params = x, []
    for k in range(max(1, n // 40)):  # ~40 nodes per layer with the gradient
        W = thx.shared(np.full((3, 3), 0.1), name=f"W{k}")
        b = thx.shared(np.zeros(3), name=f"b{k}")
        params += [W, b]
        h = T.tanh(T.dot(h, W) + b)
    T.grad(T.mean(h ** 2), params)


SETTINGS = [("traceback__limit=0 (no trace)", dict(traceback__limit=0)),
            ("traceback__limit=8 (default)", dict(traceback__limit=8)),
            ("traceback__limit=-1 (whole stack)", dict(traceback__limit=-1)),
            ("limit=8, compute_test_value='raise'",
             dict(traceback__limit=8, compute_test_value="raise"))]


def main(n: int = 5000, repeat: int = 15) -> None:
    for build in (chain, mlp):
        build(n)  # warm up caches
        times: list[list[float]] = [[] for _ in SETTINGS]
        for _ in range(repeat):  # settings interleaved, so a burst of load hits them alike
            for k, (_, flags) in enumerate(SETTINGS):
                gc.collect()
                with thx.config.change_flags(**flags):
                    t = time.process_time()
                    build(n)
                    times[k].append(time.process_time() - t)
        best = [min(t) for t in times]
        # each round's ratio to the untraced build of the same round: load that drifts between
        # rounds cancels out; the median of those is the figure to compare with the goal
        paired = [statistics.median(a / b for a, b in zip(t, times[0])) for t in times]
        print(f"{build.__name__}: graph of ~{n} nodes, {repeat} builds each (CPU seconds)")
        print(f"{'setting':<36}{'best':>9}{'ratio':>7}{'median ratio':>14}")
        for (label, _), t, r in zip(SETTINGS, best, paired):
            print(f"{label:<36}{t:>9.4f}{t / best[0]:>7.2f}{r:>14.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
