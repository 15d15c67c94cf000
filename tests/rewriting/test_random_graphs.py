"""Randomized check: 500 random expression graphs (seeded), optimized, against plain NumPy.

Each random graph is built twice from the same choices: as a thx graph, and as the same
formula in NumPy (for the graphs that take a gradient, the reference is central finite
differences of that formula).  The FAST_RUN-rewritten thx graph runs on
the ops' NumPy ``perform`` (``tests.oracle.numpy_eval``), so the whole test takes seconds.
Where the reference gives inf/nan the rewritten graph may do better (that is what
stabilization is for); everywhere else both must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import thx.tensor as T
from thx.graph.basic import Constant, ancestors, graph_inputs
from thx.printing import pp

from tests.oracle import finite_diff, numpy_eval, optimized

s, x, y, m = T.dscalar("s"), T.dvector("x"), T.dvector("y"), T.dmatrix("m")
i, f = T.ivector("i"), T.fvector("f")
FLOATS = [s, x, y, m, f]
CONSTS = [0, 1, -1, 2, 3, 0.5, 1.5, -2.5]


def _values(rng):
    return {s: rng.uniform(0.5, 1.5), x: rng.uniform(-1.5, 1.5, 3), y: rng.uniform(0.5, 1.5, 3),
            m: rng.uniform(-1.5, 1.5, (2, 3)), f: rng.uniform(-1, 1, 3).astype("float32"),
            i: rng.randint(-3, 4, 3).astype("int32")}


def _leaf(rng):
    """(thx variable, its reference as ``fn(xp, env)``)."""
    if rng.rand() < 0.25:
        c = T.constant(CONSTS[rng.randint(len(CONSTS))])
        # NumPy would compute exp(int8) in float16; thx (Theano) in float32: use a wide constant
        return c, lambda xp, env, c=c: xp.asarray(c.data.item())
    v = [s, x, y, m, i, f][rng.randint(6)]
    return v, lambda xp, env, v=v: xp.asarray(env[v], dtype=v.dtype)


def _softmax(xp, a):
    e = xp.exp(a - xp.max(a, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _same_rank_softmax(a, then=lambda v: v):
    """softmax of a vector is a (1, n) row (Theano 1.0): [0] takes the row back."""
    out = then(T.nnet.softmax(a))
    return out[0] if a.ndim == 1 else out


def _sigmoid(xp, a):
    return 1 / (1 + xp.exp(-a))


# (thx form, the same math in the array namespace xp; binary forms also get b's thx dtype)
UNARY = [
    (T.neg, lambda xp, a: -a),
    (T.exp, lambda xp, a: xp.exp(a)),
    (T.tanh, lambda xp, a: xp.tanh(a)),
    (T.nnet.sigmoid, _sigmoid),
    (T.nnet.softplus, lambda xp, a: xp.logaddexp(0, a)),
    (T.sqr, lambda xp, a: a * a),
    (T.log1p, lambda xp, a: xp.log1p(a)),
    (lambda a: T.log(T.abs_(a) + 1), lambda xp, a: xp.log(xp.abs(a) + 1)),
    (lambda a: T.sqrt(T.abs_(a)), lambda xp, a: xp.sqrt(xp.abs(a))),
    (lambda a: a ** 2, lambda xp, a: a ** 2),
    (lambda a: a ** 1, lambda xp, a: a),
    (lambda a: a ** 0, lambda xp, a: xp.ones_like(a)),
    (lambda a: a * a, lambda xp, a: a * a),
    (lambda a: -(-a), lambda xp, a: a),
    (lambda a: T.log(1 + a), lambda xp, a: xp.log(1 + a)),
    (lambda a: T.exp(a) - 1, lambda xp, a: xp.exp(a) - 1),
    (lambda a: T.log(T.nnet.sigmoid(a)), lambda xp, a: xp.log(_sigmoid(xp, a))),
    (lambda a: T.log(1 - T.nnet.sigmoid(a)), lambda xp, a: xp.log(1 - _sigmoid(xp, a))),
    (lambda a: 1 / (1 + T.exp(-a)), _sigmoid),
    (lambda a: T.ones_like(a) * 2, lambda xp, a: xp.ones_like(a) * 2),
    (lambda a: T.zeros_like(a) + a, lambda xp, a: a),
    (lambda a: T.sum(a), lambda xp, a: xp.sum(a)),
    (lambda a: T.mean(a), lambda xp, a: xp.mean(a)),
    (lambda a: T.sum(a, axis=0) if a.ndim else a, lambda xp, a: xp.sum(a, axis=0) if a.ndim else a),
    (lambda a: T.log(T.sum(T.exp(a))), lambda xp, a: xp.log(xp.sum(xp.exp(a)))),
    (lambda a: T.cast(a, "float64"), lambda xp, a: a.astype("float64")),
    (lambda a: a.dimshuffle("x", *range(a.ndim)), lambda xp, a: a[None]),
    (lambda a: a.T if a.ndim == 2 else a, lambda xp, a: a.T if a.ndim == 2 else a),
    (lambda a: T.sum(a * 3), lambda xp, a: xp.sum(a * 3)),
    (lambda a: T.cast(a.shape[0], "float64") * a if a.ndim else a,
     lambda xp, a: float(a.shape[0]) * a if a.ndim else a),
    (lambda a: _same_rank_softmax(a) if a.ndim else a,
     lambda xp, a: _softmax(xp, a) if a.ndim else a),
    (lambda a: _same_rank_softmax(a, T.log) if a.ndim else a,
     lambda xp, a: xp.log(_softmax(xp, a)) if a.ndim else a),
    (lambda a: a.reshape(a.shape, ndim=a.ndim), lambda xp, a: a),
]
BINARY = [
    (lambda a, b: a + b, lambda xp, a, b, b_dtype: a + b),
    (lambda a, b: a - b, lambda xp, a, b, b_dtype: a - b),
    (lambda a, b: a * b, lambda xp, a, b, b_dtype: a * b),
    (lambda a, b: a / (T.abs_(b) + 1), lambda xp, a, b, b_dtype: a / (xp.abs(b) + 1)),
    (lambda a, b: (a * b) / b if b.dtype != "int32" else a * b,
     lambda xp, a, b, b_dtype: (a * b) / b if b_dtype != "int32" else a * b),
    (lambda a, b: a - (b - a), lambda xp, a, b, b_dtype: a - (b - a)),
    (lambda a, b: -(a - b), lambda xp, a, b, b_dtype: -(a - b)),
    (lambda a, b: T.fill(a, b), lambda xp, a, b, b_dtype: xp.zeros_like(a) + b),
    (lambda a, b: T.maximum(a, b), lambda xp, a, b, b_dtype: xp.maximum(a, b)),
    (lambda a, b: T.switch(T.lt(a, b), a, b), lambda xp, a, b, b_dtype: xp.where(a < b, a, b)),
    (lambda a, b: 2 * (a * 3) / 4 + b, lambda xp, a, b, b_dtype: 2 * (a * 3) / 4 + b),
    (lambda a, b: (a + 1) - (2 - b), lambda xp, a, b, b_dtype: (a + 1) - (2 - b)),
]


def _expr(rng, depth):
    """A random (thx variable, reference ``fn(xp, env)``) pair."""
    if depth == 0 or rng.rand() < 0.15:
        return _leaf(rng)
    if rng.rand() < 0.5:
        op, ref = UNARY[rng.randint(len(UNARY))]
        a, ra = _expr(rng, depth - 1)
        return op(a), lambda xp, env: ref(xp, ra(xp, env))
    (a, ra), (b, rb) = _expr(rng, depth - 1), _expr(rng, depth - 1)
    op, ref = BINARY[rng.randint(len(BINARY))]
    out = op(a, b)
    if out.ndim > 2:
        return a, ra
    # the thx dtype of b decides one row's form (NumPy's dtypes differ: int64 for int8 constants)
    return out, lambda xp, env: ref(xp, ra(xp, env), rb(xp, env), b.dtype)


def random_graph(seed):
    """(output, reference, rng, is_grad): the reference is ``fn(values) -> expected output``."""
    rng = np.random.RandomState(seed)
    out, ref = _expr(rng, 4)
    out = T.as_tensor_variable(out)
    value_ref = ref
    if out.ndim > 2:
        out = T.sum(out)
        value_ref = lambda xp, env: xp.sum(ref(xp, env))  # noqa: E731
    reference = lambda vals: value_ref(np, vals)  # noqa: E731
    if rng.rand() < 0.25:  # gradients make the graphs Theano's optimizer was made for
        wrt = [v for v in graph_inputs([out]) if v in FLOATS and v.dtype == "float64"]
        if wrt and out.dtype == "float64":
            out = T.grad(T.sum(out), wrt[0], disconnected_inputs="ignore")
            reference = _finite_diff_reference(value_ref, wrt[0])
            return out, reference, rng, True
    return out, reference, rng, False


def _finite_diff_reference(value_ref, wrt):
    """Central differences of ``sum(formula)`` in NumPy, w.r.t. ``wrt``."""
    def reference(vals):
        return finite_diff(lambda w: value_ref(np, {**vals, wrt: w}), [np.asarray(vals[wrt], "float64")],
                           np.asarray(1.0), 0, eps=1e-6)
    return reference


def _check(seed):
    out, reference, rng, is_grad = random_graph(seed)
    ins = [v for v in graph_inputs([out]) if not isinstance(v, Constant)]
    vals = _values(rng)
    try:  # shapes that do not broadcast (a matrix and its transpose ...): not a valid graph
        numpy_eval([out], {v: vals[v] for v in ins})
    except ValueError:
        return None
    with np.errstate(all="ignore"):
        want = np.asarray(reference(vals))
    fg = optimized(ins, [out], "FAST_RUN")
    (got,) = numpy_eval(fg.outputs, dict(zip(fg.inputs, [vals[v] for v in ins])))
    got = np.asarray(got)
    assert got.dtype == out.dtype and got.shape == want.shape, (seed, pp(out), pp(fg.outputs[0]))
    finite = np.isfinite(want)
    # float32 intermediates (a float32 input, or a float op on an int8 constant, as Theano types
    # it) round where the NumPy formula, in float64, does not
    float32 = any(getattr(v, "dtype", "") == "float32" for v in ancestors([out]))
    tol = 2e-5 if float32 else 1e-7
    if is_grad:  # central differences: truncation and rounding error ~1e-9 of the scale
        tol = max(tol, 1e-5)
    atol = tol * (1 + float(np.max(np.abs(want[finite]), initial=0.0)))
    np.testing.assert_allclose(got[finite], want[finite].astype(got.dtype), rtol=tol, atol=atol,
                               err_msg=f"seed {seed}: {pp(out)}\n  -> {pp(fg.outputs[0])}")
    return bool(finite.all())


@pytest.mark.parametrize("block", range(5))
def test_random_graphs_keep_their_values(block):
    checked = finite = 0
    seed = block * 1000
    while checked < 100:  # 5 blocks x 100 graphs
        ok = _check(seed)
        seed += 1
        if ok is not None:
            checked += 1
            finite += ok
    assert finite >= 80  # the comparison is not vacuous
