"""Static vs traced integers (issue 11): fixed-length slices compile once, shape-deciding values are
static arguments (one compile per value, a warning when there are many), host integer arithmetic in
the graph's dtypes, shapes unpack.  The oracle is NumPy with explicit dtypes; compiles are counted
with ``Function.n_compiles`` and ``thx.compile.stats()``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile import cache
from thx.lowering.compiles import RecompileWarning

BOUND_ERRORS = IndexError


@pytest.fixture(autouse=True)
def _fresh_compile_cache():
    """Compile counts start at 0: no jitted function reused from another test's identical graph."""
    cache.clear()


def traces() -> int:
    return thx.compile.stats()["traces"]


# ------------------------------------------------------------------ fixed-length slices: traced start


def test_minibatch_slice_compiles_once_for_every_index():
    data = np.arange(40.)
    i = T.lscalar("i")
    f = thx.function([i], thx.shared(data)[i * 4:(i + 1) * 4])
    before = traces()
    for k in range(10):
        np.testing.assert_array_equal(f(k), data[k * 4:(k + 1) * 4])
    np.testing.assert_array_equal(f(-3), data[-12:-8])  # a negative start is NumPy's, not clamped
    assert f.n_compiles == 1 and traces() - before == 1


def test_minibatch_givens_epoch_one_compile():
    """The tutorials' SGD loop: givens slice a shared dataset by an integer index input."""
    rng = np.random.RandomState(0)
    n, bs, d = 60, 6, 3
    xs, ys = rng.randn(n, d), rng.randn(n)
    data_x, data_y = thx.shared(xs), thx.shared(ys)
    w = thx.shared(np.zeros(d))
    index, x, y = T.lscalar("index"), T.dmatrix("x"), T.dvector("y")
    cost = T.mean((T.dot(x, w) - y) ** 2)
    train = thx.function([index], cost, updates=[(w, w - 0.1 * T.grad(cost, w))],
                         givens={x: data_x[index * bs:(index + 1) * bs],
                                 y: data_y[index * bs:(index + 1) * bs]})
    before = traces()
    w_ref = np.zeros(d)
    for epoch in range(2):
        for k in range(n // bs):
            xb, yb = xs[k * bs:(k + 1) * bs], ys[k * bs:(k + 1) * bs]
            c = train(k)
            r = xb @ w_ref - yb
            np.testing.assert_allclose(c, np.mean(r ** 2), rtol=1e-12)
            w_ref = w_ref - 0.1 * (2 * xb.T @ r / bs)
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-12)
    assert train.n_compiles == 1 and traces() - before == 1


def test_window_past_the_end_raises_instead_of_clamping():
    i = T.lscalar("i")
    f = thx.function([i], thx.shared(np.arange(10.), name="data")[i * 2:(i + 1) * 2])
    with pytest.raises(BOUND_ERRORS, match=r"data\[.*must have 2 elements"):
        f(5)  # NumPy gives [] here; a static length of 2 cannot: an error, never dynamic_slice's clamp


def test_window_int8_wraparound_raises():
    """int8 bounds wrap exactly as NumPy's: 2*63 = 126 and 2*63 + 2 = -128, an empty slice."""
    b = T.bscalar("b")
    v = np.arange(200.)
    f = thx.function([b], thx.shared(v)[b * 2:b * 2 + 2])
    np.testing.assert_array_equal(f(10), v[20:22])
    with np.errstate(over="ignore"):
        start, stop = np.int8(63) * np.int8(2), np.int8(63) * np.int8(2) + np.int8(2)
    assert v[start:stop].size == 0
    with pytest.raises(BOUND_ERRORS, match="must have 2 elements"):
        f(63)


def test_window_with_step_2d_and_advanced():
    m = np.arange(60.).reshape(12, 5)
    i = T.lscalar("i")
    sm = thx.shared(m)
    f = thx.function([i], [sm[i * 4:(i + 1) * 4:2], sm[i * 3:i * 3 + 3, 1], sm[i:i + 2, [0, 4, 4]]])
    for k in range(3):
        a, b, c = f(k)
        np.testing.assert_array_equal(a, m[k * 4:(k + 1) * 4:2])
        np.testing.assert_array_equal(b, m[k * 3:k * 3 + 3, 1])
        np.testing.assert_array_equal(c, m[k:k + 2, [0, 4, 4]])
    assert f.n_compiles == 1


def test_set_and_inc_subtensor_window():
    i = T.lscalar("i")
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = thx.function([x, y, i], [T.set_subtensor(x[i * 2:(i + 1) * 2, 1:], y),
                                 T.inc_subtensor(x[i * 2:(i + 1) * 2, 1:], y)])
    xv, yv = np.arange(24.).reshape(6, 4), -np.ones((2, 3))
    for k in range(3):
        s, a = f(xv, yv, k)
        es, ea = xv.copy(), xv.copy()
        es[k * 2:(k + 1) * 2, 1:] = yv
        ea[k * 2:(k + 1) * 2, 1:] += yv
        np.testing.assert_array_equal(s, es)
        np.testing.assert_array_equal(a, ea)
    assert f.n_compiles == 1


def test_window_gradient():
    i = T.lscalar("i")
    v = T.dvector("v")
    g = T.grad(T.sum(v[i * 2:(i + 1) * 2] ** 2), v)
    f = thx.function([v, i], g)
    vv = np.arange(6.)
    for k in range(3):
        e = np.zeros(6)
        e[k * 2:(k + 1) * 2] = 2 * vv[k * 2:(k + 1) * 2]
        np.testing.assert_array_equal(f(vv, k), e)
    assert f.n_compiles == 1


def test_window_inside_scan():
    data = np.arange(12.)
    t = T.lvector("t")
    sd = thx.shared(data)
    out, _ = thx.scan(lambda k: T.sum(sd[k * 3:(k + 1) * 3]), sequences=t)
    f = thx.function([t], out)
    np.testing.assert_array_equal(f(np.array([0, 2, 1, 3])), [3., 21., 12., 30.])


# ------------------------------------------------------------------ values that decide a shape: static


@pytest.mark.parametrize("build, oracle", [
    (lambda v, n: v[:n], lambda v, n: v[:n]),
    (lambda v, n: v[n:], lambda v, n: v[n:]),
    (lambda v, n: v[::n], lambda v, n: v[::n]),
    (lambda v, n: v[n:2 * n + 1], lambda v, n: v[n:2 * n + 1]),
    (lambda v, n: T.arange(n) + v[0], lambda v, n: np.arange(n) + v[0]),
    (lambda v, n: T.alloc(v[0], n, 2), lambda v, n: np.full((n, 2), v[0])),
    (lambda v, n: T.reshape(v, (n, -1)), lambda v, n: v.reshape(n, -1)),
])
def test_shape_deciding_values_are_static(build, oracle):
    v, n = T.dvector("v"), T.lscalar("n")
    f = thx.function([v, n], build(v, n))
    vv = np.arange(12.)
    for k in (1, 2, 3, 2, 1):
        np.testing.assert_array_equal(f(vv, k), oracle(vv, k))
    assert f.n_compiles == 3  # one per distinct value, cached


def test_static_shared_integer():
    s = thx.shared(np.int64(3))
    v = T.dvector("v")
    f = thx.function([v], v[:s])
    np.testing.assert_array_equal(f(np.arange(5.)), [0., 1., 2.])
    s.set_value(np.int64(4))
    np.testing.assert_array_equal(f(np.arange(5.)), [0., 1., 2., 3.])


def test_recompile_warning_once_naming_the_input():
    v, n = T.dvector("v"), T.lscalar("n_keep")
    f = thx.function([v, n], v[:n] * 2.0)
    with thx.config.change_flags(recompile_warn_threshold=3), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for k in range(8):
            f(np.arange(10.), k)
    rec = [x for x in w if issubclass(x.category, RecompileWarning)]
    assert len(rec) == 1
    assert "n_keep (value)" in str(rec[0].message) and "compiled 4 times" in str(rec[0].message)
    assert rec[0].filename == __file__  # points at the call


def test_data_dependent_length_is_a_clear_error():
    v = T.dvector("v")
    f = thx.function([v], v[:T.argmax(v)])
    with pytest.raises(Exception, match=r"Subtensor.*argmax.*decides the length of the result") as e:
        f(np.arange(3.))
    assert "Slice entries must be static" not in str(e.value)


# ------------------------------------------------------------------ host integer arithmetic: dtypes


@pytest.mark.parametrize("dtype, values", [
    ("int8", [-128, -1, 0, 126, 127]),
    ("int16", [-32768, 127, 128, 32766, 32767]),
    ("int32", [127, 128, 32767, 32768]),
    ("int64", [127, 128, 32767, 32768]),
])
def test_static_arithmetic_follows_graph_dtypes(dtype, values):
    i = T.scalar("i", dtype=dtype)
    f = thx.function([i], [T.arange(i + 1), T.arange(i + 300).shape[0], T.arange(2 * i - 100)])
    for val in values:
        x = np.asarray(val, dtype=dtype)
        with np.errstate(over="ignore"):
            a = x + np.int8(1)       # Theano's upcast: the int8 constant takes the input's dtype
            b = x + np.int16(300)    # 300 is an int16 constant
            c = np.int8(2) * x - np.int8(100)
        got = f(val)
        np.testing.assert_array_equal(got[0], np.arange(a))
        assert got[0].dtype == np.arange(a).dtype
        assert int(got[1]) == max(0, int(b))
        np.testing.assert_array_equal(got[2], np.arange(c))


def test_arange_of_i_plus_one_at_int8_boundary():
    """Issue 11: arange(i + 1) with an int64 input gave shape (0,) at 127 and failed at 128."""
    i = T.lscalar("i")
    f = thx.function([i], T.arange(i + 1))
    assert f(127).shape == (128,) and f(128).shape == (129,)
    assert f(32767).shape == (32768,) and f(-5).shape == (0,)


# ------------------------------------------------------------------ shapes unpack


def test_shape_unpacks():
    X = T.dtensor3("X")
    rows, cols, depth = X.shape
    dims = [s for s in X.shape]
    a, b = T.stack([T.lscalar("p"), T.lscalar("q")])
    f = thx.function([X], [cols * depth, rows] + dims, on_unused_input="ignore")
    out = f(np.zeros((2, 3, 4)))
    assert [int(o) for o in out] == [12, 2, 2, 3, 4]
    assert a.ndim == 0 and b.ndim == 0
    with pytest.raises(TypeError, match="does not support iteration"):
        iter(T.dvector("v"))
    with pytest.raises(TypeError, match="does not support iteration"):
        r, c = T.dmatrix("m")


def test_static_argnames_specialises_on_a_scalar_input():
    x, k = T.dvector("x"), T.lscalar("k")
    f = thx.function([x, k], x * k, static_argnames=["k"])
    for val in (3, 4, 3):
        np.testing.assert_array_equal(f(np.ones(2), val), [val, val])
    assert f.n_compiles == 2
    g = thx.function([x, k], x * k)  # the same graph without it: traced, one compile
    for val in (3, 4, 5):
        g(np.ones(2), val)
    assert g.n_compiles == 1
    with pytest.raises(ValueError, match="'z' is not an input"):
        thx.function([x, k], x * k, static_argnames=["z"])
    with pytest.raises(TypeError, match="only scalars can be static"):
        thx.function([x, k], x * k, static_argnames=[x])


def test_arange_of_fixed_length_has_a_traced_start():
    i, b = T.lscalar("i"), T.bscalar("b")
    f = thx.function([i], [T.arange(i, i + 5), T.arange(2 * i, 2 * i + 7, 3), T.arange(i + 4, i, -1)])
    for k in (0, 3, -2, 100):
        for got, want in zip(f(k), [np.arange(k, k + 5), np.arange(2 * k, 2 * k + 7, 3),
                                    np.arange(k + 4, k, -1)]):
            np.testing.assert_array_equal(got, want)
    assert f.n_compiles == 1
    g = thx.function([b], T.arange(b, b + 5))
    # b + 5 wraps in int8 from 123 on; NumPy's length wraps back to 5 (at 127 NumPy's own second
    # element, start + 1, overflows int8 and its result is garbage: not an oracle there)
    for k in (-128, 0, 123, 125, 126):
        x = np.int8(k)
        with np.errstate(over="ignore"):
            want = np.arange(x, x + np.int8(5), dtype=g(k).dtype)
        np.testing.assert_array_equal(g(k), want)
    assert g.n_compiles == 1


def test_recompile_warning_covers_a_function_cut_into_segments():
    # an `until` scan runs as jitted segments around a host step: the warning still counts the
    # function's input shapes, once each
    v = T.dvector("v")
    out, _ = thx.scan(lambda s: (s * 2.0, thx.scan_module.until(T.sum(s) > 1e3)),
                      outputs_info=v, n_steps=50)
    f = thx.function([v], out[-1])
    with thx.config.change_flags(recompile_warn_threshold=3), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in (2, 3, 2, 4, 5, 6, 3):
            s = np.ones(n)
            for _ in range(50):  # NumPy: the step that sees the condition true still runs
                stop = s.sum() > 1e3
                s = s * 2.0
                if stop:
                    break
            np.testing.assert_allclose(f(np.ones(n)), s)
    rec = [x for x in w if issubclass(x.category, RecompileWarning)]
    assert len(rec) == 1
    assert "v (shape)" in str(rec[0].message) and "compiled 4 times" in str(rec[0].message)
    assert rec[0].filename == __file__
