"""Cost of recording creation traces (``traceback__limit``) and test values while building a graph.

Run ``python bench/bench_trace.py [n]``.  Builds an elementwise chain of ``n``
nodes (default 5,000: ``v = tanh(v * 2 + y)`` repeated) with
``traceback__limit=0`` (nothing recorded), the default 8, and -1 (whole
stack), and with ``compute_test_value='raise'``; prints the best of several
runs of each and the ratio to the untraced build.  The goal for the default
is <= 1.10.  Times are CPU times of this process (``time.process_time``), so other load
on the machine disturbs them less.
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np

import thx
import thx.tensor as T


def build(n: int) -> None:
    x, y = T.dvector("x"), T.dvector("y")
    x.tag.test_value = np.ones(3)
    y.tag.test_value = np.ones(3)
    v = x
    for _ in range(n // 4):  # 4 nodes per step: mul, add, tanh and the DimShuffle of 2
        v = T.tanh(v * 2 + y)


SETTINGS = [("traceback__limit=0 (no trace)", dict(traceback__limit=0)),
            ("traceback__limit=8 (default)", dict(traceback__limit=8)),
            ("traceback__limit=-1 (whole stack)", dict(traceback__limit=-1)),
            ("limit=8, compute_test_value='raise'",
             dict(traceback__limit=8, compute_test_value="raise"))]


def main(n: int = 5000, repeat: int = 15) -> None:
    build(n)  # warm up caches
    best = [float("inf")] * len(SETTINGS)
    for _ in range(repeat):  # settings interleaved, so a burst of load hits them alike
        for k, (_, flags) in enumerate(SETTINGS):
            gc.collect()
            with thx.config.change_flags(**flags):
                t = time.process_time()
                build(n)
                best[k] = min(best[k], time.process_time() - t)
    print(f"graph of {n} nodes, best of {repeat} builds")
    print(f"{'setting':<36}{'seconds':>10}{'ratio':>8}")
    for (label, _), t in zip(SETTINGS, best):
        print(f"{label:<36}{t:>10.4f}{t / best[0]:>8.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
