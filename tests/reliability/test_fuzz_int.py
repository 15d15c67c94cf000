"""Differential fuzzing of integer graphs: index and shape arithmetic near each dtype's limits.

Each random graph mixes int8..int64 scalar inputs and Python-int constants
near the int8/int16/int32 boundaries (Theano gives a literal the smallest
dtype holding it) with ``+``, ``-``, ``*``, negation, ``maximum``,
``minimum`` and casts.  The oracle replays the graph in NumPy on 0-d arrays of
explicit dtypes (NumPy's array promotion is Theano's upcast; overflow wraps),
and thx must give the same value *and* dtype:

* traced: the expression is an output (computed by XLA);
* static: the expression sets a shape (``arange(e)``), so it is computed on
  the host while tracing (issue 11: ``arange(i + 1)`` at 127 was silently empty);
* slices: ``v[e1:e2]`` of a 24-element vector equals NumPy's, or, when thx
  took the slice as fixed-length (its stop minus its start simplifies to a
  constant) and the real bounds give another length, raises IndexError; never
  another value.

``THX_FUZZ_INT_EXAMPLES`` sets the number of graphs (default 60).
"""

from __future__ import annotations

import os
import random

import numpy as np
import thx
import thx.tensor as T
from thx.tensor.intform import constant_difference

N_GRAPHS = int(os.environ.get("THX_FUZZ_INT_EXAMPLES", "60"))
DTYPES = ("int8", "int16", "int32", "int64")
CONSTANTS = (0, 1, 2, 3, -1, 100, 126, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768,
             -32769, 2 ** 31 - 1, 2 ** 31)


def _literal_dtype(c: int) -> str:
    """Theano's autocast of a Python int: the smallest signed dtype that holds it."""
    return next(d for d in DTYPES if np.iinfo(d).min <= c <= np.iinfo(d).max)


def _near_limits(r: random.Random, dtype: str) -> int:
    info = np.iinfo(dtype)
    return r.choice([info.min, info.min + 1, -2, -1, 0, 1, 2, 5, 63, 64, info.max - 1, info.max,
                     r.randint(info.min, info.max)])


class IntGraph:
    """Random integer expressions, built in thx and replayed in NumPy side by side."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        n_in = self.r.randint(1, 3)
        self.dtypes = [self.r.choice(DTYPES) for _ in range(n_in)]
        self.inputs = [T.scalar(f"i{k}", dtype=d) for k, d in enumerate(self.dtypes)]
        self.values = [_near_limits(self.r, d) for d in self.dtypes]

    def expr(self, depth: int):
        """``(thx variable, NumPy 0-d array)``."""
        r = self.r
        if depth == 0 or r.random() < 0.25:
            if r.random() < 0.6:
                k = r.randrange(len(self.inputs))
                return self.inputs[k], np.asarray(self.values[k], dtype=self.dtypes[k])
            c = r.choice(CONSTANTS)
            return T.constant(c), np.asarray(c, dtype=_literal_dtype(c))
        op = r.choice(["add", "sub", "mul", "neg", "max", "min", "cast", "add", "mul"])
        a, av = self.expr(depth - 1)
        if op == "neg":
            return -a, np.negative(av)
        if op == "cast":
            d = r.choice(DTYPES)
            return T.cast(a, d), av.astype(d)
        b, bv = self.expr(depth - 1)
        if r.random() < 0.5 and op in ("add", "mul", "sub"):  # a Python literal on one side
            c = r.choice(CONSTANTS)
            b, bv = c, np.asarray(c, dtype=_literal_dtype(c))
        fns = {"add": (lambda x, y: x + y, np.add), "sub": (lambda x, y: x - y, np.subtract),
               "mul": (lambda x, y: x * y, np.multiply), "max": (T.maximum, np.maximum),
               "min": (T.minimum, np.minimum)}
        sym, num = fns[op]
        return sym(a, b), num(av, bv)


def _check_graph(seed: int) -> str:
    g = IntGraph(seed)
    with np.errstate(over="ignore"):
        e, ev = g.expr(3)
        e1, e1v = g.expr(2)
        e2, e2v = (e1 + g.r.choice([0, 1, 3, 30]), None) if g.r.random() < 0.5 else g.expr(2)
        if e2v is None:
            e2v = np.asarray(e1v + np.asarray(e2.owner.inputs[1].data))  # the same sum in NumPy
    e2v = np.asarray(e2v, dtype=e2.dtype) if e2v.dtype != e2.dtype else e2v
    where = f"graph {seed}: inputs {list(zip(g.dtypes, g.values))}, e = {e}"

    # traced: XLA computes the expression
    f = thx.function(g.inputs, e, on_unused_input="ignore")
    out = f(*g.values)
    assert out.dtype == ev.dtype, f"{where}: dtype {out.dtype}, NumPy {ev.dtype}"
    assert out == ev, f"{where}: {out} != NumPy {ev}"

    # static: the expression decides a shape, computed on the host while tracing
    if 0 <= int(ev) <= 64:
        h = thx.function(g.inputs, T.arange(e), on_unused_input="ignore")
        np.testing.assert_array_equal(h(*g.values), np.arange(ev), err_msg=where)

    # slices of a 24-element vector with these bounds
    v = T.dvector("v")
    data = np.arange(24.)
    s = thx.function([v] + g.inputs, v[e1:e2], on_unused_input="ignore")
    expected = data[int(e1v):int(e2v)]
    fixed = constant_difference(e2, e1)
    try:
        got = s(data, *g.values)
    except IndexError as err:  # allowed only where a fixed length disagrees with NumPy's
        assert fixed is not None and max(0, fixed) != expected.size, f"{where}: {err}"
        assert "must have" in str(err)
        return "window-error"
    np.testing.assert_array_equal(got, expected, err_msg=f"{where}, slice {e1}:{e2}")
    return "window" if fixed is not None else "static"


def test_integer_graphs_match_numpy():
    kinds: dict[str, int] = {}
    for seed in range(N_GRAPHS):
        kind = _check_graph(seed)
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds.get("window", 0) and kinds.get("static", 0), kinds  # both slice paths exercised
