"""Data-parallel scaling on simulated CPU devices: ``python -m bench.distributed [--quick]``.

For 1, 2 and 4 devices (``THX_FLAGS=cpu_devices=N,data_parallel=True``, each in its own
process) it trains a Theano-style MLP by SGD from a shared dataset (givens minibatches,
updates) and reports

* **step**: the median time of one training step (a call, its updates stored, the cost
  back on the host);
* **collectives**: the share of the devices' time spent in XLA's collective operations
  (``all-reduce`` ...), read from a ``jax.profiler`` trace of the same steps: the summed
  duration of the collective events over all device threads / (devices x wall time).

Simulated devices are threads of one process sharing the machine's cores (2 here): the
figure shows the *overhead* of partitioning (the collectives, the rendezvous, smaller
per-device kernels), not a speed-up.  On real devices the same program splits the work.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "collective-permute", "all-to-all")


def child(steps: int, batch: int, width: int) -> dict:
    """Train in this process (flags from THX_FLAGS); time and profile the steps."""
    import glob

    import jax
    import numpy as np

    import thx
    import thx.tensor as T

    rng = np.random.RandomState(0)
    n, k = batch * 4, 10
    data_x = thx.shared(rng.randn(n, width), name="data_x")
    data_y = thx.shared(rng.randint(0, k, n).astype("int32"), name="data_y")
    W1 = thx.shared(rng.randn(width, 2 * width) * 0.05, name="W1")
    W2 = thx.shared(rng.randn(2 * width, k) * 0.05, name="W2")
    x, y, i = T.matrix("x"), T.ivector("y"), T.lscalar("i")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1)), W2))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    params = [W1, W2]
    step = thx.function([i], cost, updates=[(q, q - 0.1 * g)
                                            for q, g in zip(params, T.grad(cost, params))],
                        givens={x: data_x[i * batch:(i + 1) * batch],
                                y: data_y[i * batch:(i + 1) * batch]})
    for t in range(5):
        step(t % 4)
    times = []
    for t in range(steps):
        t0 = time.perf_counter()
        step(t % 4)
        times.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as d:
        jax.profiler.start_trace(d, create_perfetto_trace=True)
        t0 = time.perf_counter()
        for t in range(steps):
            step(t % 4)
        wall = time.perf_counter() - t0
        jax.profiler.stop_trace()
        path = sorted(glob.glob(f"{d}/**/*.trace.json.gz", recursive=True))[-1]
        with gzip.open(path) as fh:
            events = json.load(fh)["traceEvents"]
    coll = sum(e.get("dur", 0) for e in events
               if e.get("ph") == "X" and e.get("name", "").startswith(COLLECTIVES)) * 1e-6
    ndev = len(jax.devices())
    return {"devices": ndev, "step_ms": statistics.median(times) * 1e3,
            "collective_share": coll / (ndev * wall), "batch": batch, "width": width,
            "steps": steps}


def run(devices: tuple[int, ...] = (1, 2, 4), steps: int = 50, batch: int = 256,
        width: int = 128) -> list[dict]:
    """One subprocess per device count; their results, in order."""
    rows = []
    for n in devices:
        env = dict(os.environ, THX_FLAGS=f"cpu_devices={n},data_parallel=True",
                   PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run([sys.executable, "-m", "bench.distributed", "--child",
                              "--steps", str(steps), "--batch", str(batch), "--width", str(width)],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def format_report(rows: list[dict]) -> str:
    """A Markdown table, the machine's load and the caveat."""
    load = os.getloadavg()
    base = rows[0]["step_ms"]
    lines = [f"Data-parallel MLP step (batch {rows[0]['batch']}, {rows[0]['width']} -> "
             f"{2 * rows[0]['width']} -> 10, float64, {rows[0]['steps']} steps), simulated CPU "
             f"devices on {os.cpu_count()} cores; load average {load[0]:.1f}, {load[1]:.1f}, "
             f"{load[2]:.1f}.", "",
             "| devices | step (ms) | vs 1 device | time in collectives |",
             "|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['devices']} | {r['step_ms']:.2f} | {r['step_ms'] / base:.2f}x | "
                     f"{100 * r['collective_share']:.0f}% |")
    lines += ["", "Simulated devices share the same cores: this shows the overhead of "
              "partitioning (collectives, rendezvous, smaller kernels), not a speed-up."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few small steps")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--width", type=int, default=128)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.steps, a.batch, a.width)))
        return 0
    if a.quick:
        a.steps, a.batch, a.width = 5, 32, 16
    print(format_report(run(steps=a.steps, batch=a.batch, width=a.width)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
