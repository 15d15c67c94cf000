"""Hessians and Jacobians by scan (Theano's recipe): thx against ``jax.hessian`` / ``jax.jacrev``.

Run ``python -m bench.hessian [--sizes 100 1000] [--quick]``.  Rows:

* ``hessian tanh``: ``thx.gradient.hessian(sum(tanh(x)), x)`` vs ``jax.hessian``,
* ``hessian x**2 sin``: ``hessian(sum(x ** 2 * sin(x)), x)`` vs ``jax.hessian``,
* ``jacobian tutorial``: the tutorial's ``scan(lambda i, y, x: grad(y[i], x))`` of
  ``y = x ** 2`` vs ``jax.jacrev``,
* ``jacobian tanh(W x)``: ``thx.gradient.jacobian(tanh(dot(W, x)), x)`` vs ``jax.jacrev``.

The scan of a gradient is a map: thx lowers it to ``jax.vmap`` (see
``thx/rewriting/scan.py`` for what the step becomes).  Each call takes a NumPy
array and returns NumPy: thx returns a fresh writable array (Theano's
contract: one copy of the ``n x n`` result), JAX's ``np.asarray`` a read-only
view of its buffer; the ``JAX + copy`` column is ``np.array`` of JAX's result,
the same work as thx's.  Times are the best of many short interleaved
batches (under background load the minimum is the stable statistic);
results are checked against JAX's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import _loadavg, fmt_time  # noqa: E402

__all__ = ["ROWS", "run", "main"]


def _thx_rows():
    import thx
    import thx.tensor as T
    from bench.bench_jacobian import thx_jacobian_fn as tutorial  # the tutorial's scan Jacobian

    def hess(cost):
        x = T.dvector("x")
        return thx.function([x], thx.gradient.hessian(cost(T, x), x))

    def jac_wx():
        x, W = T.dvector("x"), T.dmatrix("W")
        return thx.function([x, W], thx.gradient.jacobian(T.tanh(T.dot(W, x)), x))

    return {"hessian tanh": lambda: hess(lambda m, x: m.sum(m.tanh(x))),
            "hessian x**2 sin": lambda: hess(lambda m, x: m.sum(x ** 2 * m.sin(x))),
            "jacobian tutorial": tutorial, "jacobian tanh(W x)": jac_wx}


def _jax_rows():
    import jax
    import jax.numpy as jnp
    return {"hessian tanh": jax.jit(jax.hessian(lambda x: jnp.sum(jnp.tanh(x)))),
            "hessian x**2 sin": jax.jit(jax.hessian(lambda x: jnp.sum(x ** 2 * jnp.sin(x)))),
            "jacobian tutorial": jax.jit(jax.jacrev(lambda x: x ** 2)),
            "jacobian tanh(W x)": jax.jit(jax.jacrev(lambda x, W: jnp.tanh(W @ x)))}


ROWS = ["hessian tanh", "hessian x**2 sin", "jacobian tutorial", "jacobian tanh(W x)"]


def _args(name: str, n: int) -> list[np.ndarray]:
    rs = np.random.RandomState(0)
    x = rs.randn(n)
    return [x, rs.randn(n, n) / np.sqrt(n)] if "W x" in name else [x]


def best_times(fns: dict, repeats: int, number: int) -> dict:
    """Best per-call time of each function over ``repeats`` interleaved batches of ``number``."""
    best = {k: float("inf") for k in fns}
    names = list(fns)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            for _ in range(number):
                fns[k]()
            best[k] = min(best[k], (time.perf_counter() - t0) / number)
    return best


def run(sizes=(100, 1000), quick: bool = False, log=lambda s: None) -> list[dict]:
    """Time every row at every size; each row's result is checked against JAX's."""
    import jax
    thx_rows = _thx_rows()
    with jax.enable_x64(True):
        jax_rows = _jax_rows()
    out = []
    for name in ROWS:
        f = thx_rows[name]()
        for n in sizes:
            args = _args(name, n)
            with jax.enable_x64(True):
                want = np.asarray(jax_rows[name](*args))
            np.testing.assert_allclose(f(*args), want, rtol=1e-10, atol=1e-12)

            def jax_view(fn=jax_rows[name], args=args):
                with jax.enable_x64(True):
                    return np.asarray(fn(*args))

            def jax_copy(fn=jax_rows[name], args=args):
                with jax.enable_x64(True):
                    return np.array(fn(*args))

            t = best_times({"thx": lambda: f(*args), "jax": jax_view, "jax_copy": jax_copy},
                           5 if quick else 300, max(1, int(2e5 // (n * n))))
            row = {"name": name, "n": n, **t}
            log(f"  {name} n={n}: thx {fmt_time(t['thx'])}, jax {fmt_time(t['jax'])} "
                f"(x{t['thx'] / t['jax']:.2f}), jax + copy {fmt_time(t['jax_copy'])} "
                f"(x{t['thx'] / t['jax_copy']:.2f})")
            out.append(row)
    return out


def format_report(rows: list[dict], load: str) -> str:
    """A Markdown table."""
    out = [f"Load average during the run: {load} (2 cores shared with other jobs).", "",
           "| row | n | thx | JAX | ratio | JAX + copy | ratio to JAX + copy |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['n']} | {fmt_time(r['thx'])} | {fmt_time(r['jax'])} | "
                   f"{r['thx'] / r['jax']:.2f} | {fmt_time(r['jax_copy'])} | {r['thx'] / r['jax_copy']:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m bench.hessian", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--quick", action="store_true", help="n = 10 and 30, few repeats")
    a = ap.parse_args(argv)
    before = _loadavg()
    rows = run([10, 30] if a.quick else a.sizes, a.quick, log=lambda s: print(s, flush=True))
    print()
    print(format_report(rows, f"{before} / {_loadavg()}"))
    return rows


if __name__ == "__main__":
    main()
