"""The compile cache: a graph compiled twice is rewritten and lowered once; state stays per Function."""

import numpy as np

import thx
import thx.tensor as T
from thx import In, function, shared
from thx.compile import cache


def _logistic_grad():
    x, w = T.dmatrix("x"), T.dvector("w")
    cost = T.sum(T.log1p(T.exp(-T.dot(x, w)))) + 0.5 * T.sum(w ** 2)
    return function([x, w], T.grad(cost, w))


def _logistic_grad_numpy(x, w):
    return -x.T.dot(1.0 / (1.0 + np.exp(x.dot(w)))) + w  # d/dz log1p(exp(-z)) = -1 / (1 + exp(z))


def test_same_graph_twice_shares_the_compilation():
    cache.clear()
    f, g = _logistic_grad(), _logistic_grad()
    assert g.maker.fgraph is f.maker.fgraph
    assert g.jax_fn is f.jax_fn
    assert cache.info()["hits"] == 1
    rng = np.random.RandomState(0)
    x, w = rng.randn(5, 3), rng.randn(3)
    np.testing.assert_allclose(f(x, w), _logistic_grad_numpy(x, w), rtol=1e-12)
    np.testing.assert_allclose(g(x, w), _logistic_grad_numpy(x, w), rtol=1e-12)
    cache.clear()
    h = _logistic_grad()
    assert h.maker.fgraph is not f.maker.fgraph


def test_constants_names_and_flags_are_part_of_the_key():
    x = T.dvector("x")
    two, three = function([x], x * 2.0), function([x], x * 3.0)
    np.testing.assert_array_equal(two(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(three(np.ones(2)), [3.0, 3.0])
    a = np.arange(4.0)
    same = [function([x], x + T.constant(a.copy())) for _ in range(2)]
    other = function([x], x + T.constant(a[::-1].copy()))
    assert same[0].maker.fgraph is same[1].maker.fgraph
    assert other.maker.fgraph is not same[0].maker.fgraph
    np.testing.assert_array_equal(other(np.zeros(4)), a[::-1])
    y = T.dvector("y")  # same structure, another input name: printed graphs differ, so no sharing
    assert function([y], y * 2.0).maker.fgraph is not two.maker.fgraph
    fast_compile = function([x], x * 2.0, mode="FAST_COMPILE")
    assert fast_compile.maker.fgraph is not two.maker.fgraph
    with thx.config.change_flags(scan_map_lowering="scan"):
        assert function([x], x * 2.0).maker.fgraph is not two.maker.fgraph


def test_shared_variables_and_updates_stay_per_function():
    def counter(start):
        s = shared(np.float64(start), name="s")
        inc = T.dscalar("inc")
        return s, function([inc], s * 10.0, updates=[(s, s + inc)])

    s1, f1 = counter(1.0)
    s2, f2 = counter(100.0)
    assert f2.maker.fgraph is f1.maker.fgraph  # one compilation ...
    assert f1(1.0) == 10.0 and f2(5.0) == 1000.0  # ... two states
    assert f1(1.0) == 20.0 and f2(5.0) == 1050.0
    assert s1.get_value() == 3.0 and s2.get_value() == 110.0


def test_in_defaults_and_their_updates_stay_per_function():
    def accumulate(start):
        acc, x = T.dscalar("acc"), T.dscalar("x")
        return function([x, In(acc, value=start, update=acc + x)], acc + x)

    f, g = accumulate(0.0), accumulate(1000.0)
    assert g.maker.fgraph is f.maker.fgraph
    assert f(1.0) == 1.0 and f(2.0) == 3.0
    assert g(1.0) == 1001.0 and g(2.0) == 1003.0
    assert f(0.0) == 3.0


def test_scan_graphs_are_keyed_by_their_inner_graph():
    def jacobian_fn():
        x = T.dvector("x")
        J, updates = thx.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(x.shape[0]),
                              non_sequences=[x ** 2, x])
        return function([x], J, updates=updates)

    f, g = jacobian_fn(), jacobian_fn()
    assert g.maker.fgraph is f.maker.fgraph
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(g(x), np.diag(2 * x))
    cube = T.dvector("x")  # a different step function: another inner graph, another entry
    J3, _ = thx.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(cube.shape[0]),
                     non_sequences=[cube ** 3, cube])
    h = function([cube], J3)
    assert h.maker.fgraph is not f.maker.fgraph
    np.testing.assert_allclose(h(x), np.diag(3 * x ** 2))


def test_the_cache_is_bounded():
    with thx.config.change_flags(compile_cache_size=2):
        cache.clear()
        x = T.dvector("x")
        fs = [function([x], x + float(k)) for k in range(3)]
        assert cache.info()["entries"] == 2
        assert [f(np.zeros(1))[0] for f in fs] == [0.0, 1.0, 2.0]
        assert function([x], x + 0.0).maker.fgraph is not fs[0].maker.fgraph  # evicted first
