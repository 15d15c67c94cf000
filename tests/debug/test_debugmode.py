"""DebugMode: each call compares every node's JAX lowering with its NumPy perform, and the rewrites."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile import cache
from thx.compile.debugmode import (BadOptimization, BadThunkOutput, DebugMode, DebugModeError,
                                   InvalidValueError)
from thx.lowering import registry
from thx.rewriting import engine


def test_correct_functions_pass_and_match_numpy():
    x, W = T.dvector("x"), T.dmatrix("W")
    s = thx.shared(np.zeros(2))
    f = thx.function([x, W], T.tanh(T.dot(W, x)).sum(), updates=[(s, s + T.dot(W, x))], mode=DebugMode())
    w, v = np.arange(6.0).reshape(2, 3) / 6, np.array([1.0, -1.0, 0.5])
    assert float(f(v, w)) == pytest.approx(np.tanh(w @ v).sum())
    f(v, w)
    np.testing.assert_allclose(s.get_value(), 2 * (w @ v))
    assert isinstance(thx.function([x], x + 1, mode="DebugMode").maker.mode, DebugMode)


def _lowering_of(op_type):
    key = next(c for c in op_type.__mro__ if c in registry.JAX_IMPLS)
    return key, registry.JAX_IMPLS[key]


def test_a_broken_lowering_is_caught_and_named():
    x, W = T.dvector("x"), T.dmatrix("W")
    f = thx.function([x, W], T.exp(T.dot(W, x)).sum(), mode=DebugMode())
    dot_node = next(n for n in f.maker.fgraph.toposort() if "dot" in str(n.op).lower())
    key, good = _lowering_of(type(dot_node.op))
    registry.JAX_IMPLS[key] = lambda op, node: (lambda *a: good(op, node)(*a) + 1.0)  # off by one
    try:
        with pytest.raises(BadThunkOutput, match=r"node \d+, dot\(W, x\)\n  JAX lowering gives") as e:
            f(np.ones(3), np.ones((2, 3)))
        np.testing.assert_allclose(e.value.val1, e.value.val2 + 1.0)
        assert isinstance(e.value, DebugModeError)
    finally:
        registry.JAX_IMPLS[key] = good
    assert float(f(np.ones(3), np.ones((2, 3)))) == pytest.approx(2 * np.exp(3.0))


def test_a_wrong_rewrite_is_bad_optimization():
    @engine.local_rewrite(T.exp)
    def local_wrong_exp(fgraph, node):  # exp(x) -> x + 1 (wrong on purpose)
        return [node.inputs[0] + 1]

    engine.register(local_wrong_exp, "canonicalize")
    cache.clear()  # a graph compiled before must not be reused: it did not meet the rewrite
    try:
        x = T.dvector("x")
        f = thx.function([x], T.exp(x) * 3, mode=DebugMode())
        with pytest.raises(BadOptimization, match="changed the value of output 0") as e:
            f(np.array([0.0, 1.0]))
        np.testing.assert_allclose(e.value.old_r_val, np.exp([0.0, 1.0]) * 3)
    finally:
        for p in engine.REGISTRY.values():
            p[:] = [(rw, tags) for rw, tags in p if rw is not local_wrong_exp]
        cache.clear()  # nor may the wrongly rewritten graph be reused later


def test_non_finite_values_from_finite_inputs():
    x = T.dvector("x")
    f = thx.function([x], T.log(x), mode=DebugMode())
    with pytest.raises(InvalidValueError, match=r"computed by node \d+, Elemwise\{log"):
        f(np.array([-1.0]))
    ok = thx.function([x], T.log(x), mode=DebugMode(check_isfinite=False))
    assert np.isnan(ok(np.array([-1.0]))[0])


def test_the_mode_flag_selects_debugmode_with_the_optimizer_flag():
    x = T.dvector("x")
    with thx.config.change_flags(mode="DebugMode", optimizer="fast_compile"):
        f = thx.function([x], T.log(x))
    assert isinstance(f.maker.mode, DebugMode) and f.maker.mode.optimizer == "fast_compile"
    assert isinstance(DebugMode().including("fast_run"), DebugMode)
    with pytest.raises(InvalidValueError):
        f(np.array([-1.0]))
