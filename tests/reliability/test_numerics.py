"""Numerical edge cases: where Theano defines gradients specially, inf/NaN, float32.

Semantics asserted here are Theano's (see docs/reliability.md):

* ``abs`` at 0 has gradient 0 (``sgn(0) = 0``); ``sqrt`` at 0 has gradient inf;
* ties in ``maximum``/``minimum``/``max``/``min`` give the *whole* gradient to every
  tied input (JAX splits it: 0.5 each); ``clip`` passes the gradient at its bounds;
* in FAST_RUN the gradient through ``switch`` of a branch that is not taken is an
  exact 0, even where that branch's own gradient is inf or NaN (Theano's switch
  sinks); without rewrites it is ``0 * inf = NaN``, as in Theano;
* inf and NaN propagate like NumPy;
* with ``floatX=float32`` a model is float32 end to end (no float64 in the graph
  or in the XLA program), in process and through ``THX_FLAGS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.oracle import numpy_eval

NO_REWRITES = thx.Mode(optimizer=None)


def grads(cost, wrt, values, mode=None):
    f = thx.function(wrt, T.grad(cost, wrt), mode=mode)
    return f(*values)


@pytest.mark.parametrize("mode", [None, NO_REWRITES], ids=["FAST_RUN", "no rewrites"])
def test_abs_at_zero_has_zero_gradient(mode):
    x = T.dvector("x")
    (g,) = grads(T.sum(abs(x)), [x], [np.array([-2.0, 0.0, 3.0])], mode)
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("mode", [None, NO_REWRITES], ids=["FAST_RUN", "no rewrites"])
def test_sqrt_at_zero_has_infinite_gradient(mode):
    x = T.dvector("x")
    (g,) = grads(T.sum(T.sqrt(x)), [x], [np.array([0.0, 4.0])], mode)
    assert g[0] == np.inf and g[1] == 0.25


@pytest.mark.parametrize("mode", [None, NO_REWRITES], ids=["FAST_RUN", "no rewrites"])
def test_maximum_and_minimum_ties_give_both_inputs_the_gradient(mode):
    x, y = T.dvectors("x", "y")
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])  # a tie at 0
    gx, gy = grads(T.sum(T.maximum(x, y)), [x, y], [xv, yv], mode)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 1.0, 0.0])
    gx, gy = grads(T.sum(T.minimum(x, y)), [x, y], [xv, yv], mode)
    np.testing.assert_array_equal(gx, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0, 1.0])
    # JAX splits a tie instead: this is a deliberate difference (Theano's rule)
    jx, jy = jax.grad(lambda a, b: jnp.sum(jnp.maximum(a, b)), argnums=(0, 1))(xv, yv)
    assert jx[0] == jy[0] == 0.5
    (g,) = grads(T.sum(T.maximum(x, x)), [x], [xv], mode)  # both arguments are x
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("mode", [None, NO_REWRITES], ids=["FAST_RUN", "no rewrites"])
def test_max_and_min_reductions_give_every_tied_element_the_gradient(mode):
    m = T.dmatrix("m")
    mv = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    (g,) = grads(T.sum(T.max(m, axis=1)), [m], [mv], mode)
    np.testing.assert_array_equal(g, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    (g,) = grads(T.min(m), [m], [np.array([[0.0, 2.0], [0.0, 1.0]])], mode)
    np.testing.assert_array_equal(g, [[1.0, 0.0], [1.0, 0.0]])


def test_clip_passes_the_gradient_at_its_bounds():
    x = T.dvector("x")
    (g,) = grads(T.sum(T.clip(x, -1.0, 1.0)), [x], [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


SWITCH_CASES = [
    # name, expression builder, input values, gradient in FAST_RUN
    ("log at 0", lambda x: T.switch(x > 0, T.log(x), 0), [0.0, 2.0, -1.0], [0.0, 0.5, 0.0]),
    ("sqrt of a negative", lambda x: T.switch(x < 7, x, T.sqrt(x - 7)), [5.0, 11.0], [1.0, 0.25]),
    ("1/x at 0", lambda x: T.switch(T.eq(x, 0), 1.0, 1.0 / x), [0.0, 2.0], [0.0, -0.25]),
    ("sin(t)/t at 0", lambda x: T.switch(x ** 2 < 1e-12, 1.0, T.sin(x ** 2) / x ** 2), [0.0], [0.0]),
]


@pytest.mark.parametrize("name,build,xs,want", SWITCH_CASES, ids=[c[0] for c in SWITCH_CASES])
def test_switch_branch_not_taken_gives_an_exact_zero_gradient(name, build, xs, want):
    x = T.dvector("x")
    cost = T.sum(build(x))
    xv = np.array(xs)
    (g,) = grads(cost, [x], [xv])
    np.testing.assert_allclose(g, want, rtol=1e-12)
    # Theano without its rewrites computes 0 * inf there: NaN, like JAX's jnp.where
    (g0,) = grads(cost, [x], [xv], NO_REWRITES)
    assert np.isnan(g0[0])


def test_inf_and_nan_propagate_like_numpy():
    x = T.dvector("x")
    outs = [x * 2, T.exp(x), T.log(x), 1.0 / x, T.sum(x), T.max(x), T.mean(x), T.sqrt(x),
            T.nnet.sigmoid(x), T.nnet.softplus(x), T.tanh(x), T.grad(T.sum(T.exp(x)), x)]
    f = thx.function([x], outs)
    with np.errstate(all="ignore"):
        for xv in ([1.0, np.inf, -2.0], [0.0, np.nan, 1e3], [-np.inf, 0.0, 710.0]):
            xv = np.array(xv)
            got = f(xv)
            ref = numpy_eval(outs, {x: xv})
            want = [xv * 2, np.exp(xv), np.log(xv), 1.0 / xv, np.sum(xv), np.max(xv), np.mean(xv),
                    np.sqrt(xv), 1 / (1 + np.exp(-xv)), np.logaddexp(0, xv), np.tanh(xv), np.exp(xv)]
            for a, r, w in zip(got, ref, want):
                np.testing.assert_allclose(a, w, rtol=1e-12)  # inf, -inf and NaN where NumPy has them
                np.testing.assert_allclose(r, w, rtol=1e-12)


def test_nan_and_inf_inputs_are_accepted():
    x = T.dscalar("x")
    f = thx.function([x], x + 1)
    assert np.isnan(f(float("nan"))) and f(float("inf")) == np.inf
    i = T.iscalar("i")
    with pytest.raises(TypeError, match="cannot store accurately value nan"):
        thx.function([i], i + 1)(float("nan"))


def _no_float64(f):
    fg = f.maker.fgraph
    kinds = {v.type.dtype for n in fg.apply_nodes for v in n.inputs + n.outputs}
    return "float64" not in kinds


def _f64_only_in_accumulators(hlo: str) -> bool:
    """Every float64 value in ``hlo`` is a reduction's accumulator: converted in, reduced from a
    zero constant, converted back."""
    allowed = ("stablehlo.convert", "stablehlo.reduce", "stablehlo.constant dense<0.000000e+00>")
    return not [line for line in hlo.splitlines() if "f64" in line and not any(a in line for a in allowed)]


def test_float32_end_to_end_with_change_flags():
    with thx.config.change_flags(floatX="float32"):
        X, y = T.matrix("X"), T.vector("y")
        w = thx.shared(np.zeros(3, dtype="float32"), name="w")
        b = thx.shared(np.float32(0.0), name="b")
        p = T.nnet.sigmoid(T.dot(X, w) + b)
        cost = T.mean(-y * T.log(p) - (1 - y) * T.log(1 - p)) + 0.01 * T.sum(w ** 2)
        gw, gb = T.grad(cost, [w, b])
        train = thx.function([X, y], [cost, p], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
        assert X.dtype == y.dtype == cost.dtype == gw.dtype == "float32"
        assert _no_float64(train)
        # float64 only inside the sums (Theano's acc_dtype: float32 accumulates in float64)
        assert _f64_only_in_accumulators(train.lower_text(np.ones((4, 3), "float32"),
                                                          np.ones(4, "float32")))
        rng = np.random.RandomState(0)
        Xv = rng.normal(size=(8, 3)).astype("float32")
        yv = (Xv[:, 0] > 0).astype("float32")
        wv, bv = np.zeros(3), 0.0
        for _ in range(5):
            c, pv = train(Xv, yv)
            assert c.dtype == pv.dtype == np.float32
            assert w.get_value().dtype == np.float32 and b.get_value().dtype == np.float32
            # the same step in float64 NumPy: float32 rounding only
            pr = 1 / (1 + np.exp(-(Xv @ wv + bv)))
            np.testing.assert_allclose(pv, pr, rtol=1e-5, atol=1e-6)
            d = (pr - yv) / len(yv)
            wv, bv = wv - 0.1 * (Xv.T @ d + 0.02 * wv), bv - 0.1 * d.sum()
        np.testing.assert_allclose(w.get_value(), wv, rtol=1e-4, atol=1e-6)


def test_float32_through_thx_flags_in_a_new_process():
    code = textwrap.dedent("""
        import json, numpy as np, thx, thx.tensor as T
        x = T.vector('x')
        w = thx.shared(np.ones(3, dtype=thx.config.floatX))
        y = T.sum(T.tanh(x * w * 0.5) ** 2)
        f = thx.function([x], [y, T.grad(y, x)], updates=[(w, w * 0.9)])
        out = f([1.0, 2.0, 3.0])
        print(json.dumps(dict(floatX=thx.config.floatX, x=x.dtype, const=str(T.as_tensor_variable(0.5).dtype),
                              outs=[str(o.dtype) for o in out], w=str(w.get_value().dtype),
                              f64=any(v.type.dtype == 'float64' for n in f.maker.fgraph.apply_nodes
                                      for v in n.outputs),
                              g=[float(v) for v in out[1]])))
    """)
    env = dict(os.environ, THX_FLAGS="floatX=float32")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["floatX"] == got["x"] == got["const"] == got["w"] == "float32"
    assert got["outs"] == ["float32", "float32"] and got["f64"] is False
    xv = np.array([1.0, 2.0, 3.0])
    t = np.tanh(0.5 * xv)
    np.testing.assert_allclose(got["g"], 2 * t * (1 - t ** 2) * 0.5, rtol=1e-5)


def test_empty_arrays():
    """Zero-length dimensions: reductions with an identity, dot, join, and a scan that runs
    no step (with its gradient: jaxlib 0.10 aborted the process on the join of its rows)."""
    x, m = T.dvector("x"), T.dmatrix("m")
    rec, _ = thx.scan(lambda a, h: h + a, sequences=x, outputs_info=T.constant(np.float64(0.0)))
    none, _ = thx.scan(lambda h: h * 2, outputs_info=x, n_steps=0)
    outs = [T.sum(x), T.prod(x), T.dot(m, x), T.concatenate([x, x])[1:],
            T.concatenate([x.dimshuffle("x", 0), m])[1:], rec, T.grad(T.sum(rec), x),
            T.nnet.softmax(m.T)]
    f = thx.function([x, m], outs)
    got = f(np.zeros(0), np.zeros((2, 0)))
    want = [0.0, 1.0, np.zeros(2), np.zeros(0), np.zeros((2, 0)), np.zeros(0), np.zeros(0),
            np.zeros((0, 2))]
    for a, w in zip(got, want):
        assert np.shape(a) == np.shape(w)
        np.testing.assert_array_equal(a, w)
    g = thx.function([x], none)
    assert g(np.ones(2)).shape == (0, 2)
    a = T.dvector("a")
    h = thx.function([a, m], T.concatenate([a.dimshuffle("x", 0), m])[1:])  # m has no row
    assert h(np.ones(2), np.zeros((0, 2))).shape == (0, 2)
