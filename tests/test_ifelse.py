"""thx.ifelse: values, laziness (work inside lax.cond branches), gradient, R_op, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.ifelse import IfElse, ifelse
from tests.oracle import assert_close


def test_conditions_tutorial_switch_vs_ifelse():
    # Theano's "Conditions" tutorial, with small matrices and every linker name it uses.
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = thx.function([a, b, x, y], z_switch, mode=thx.Mode(linker="vm"))
    f_lazy = thx.function([a, b, x, y], z_lazy, mode=thx.Mode(linker="cvm"))
    m1, m2 = np.arange(6.0).reshape(2, 3), -np.ones((2, 3))
    for val1, val2 in [(0.0, 1.0), (1.0, 0.0)]:
        expected = m1.mean() if val1 < val2 else m2.mean()
        assert_close(f_switch(val1, val2, m1, m2), expected)
        assert_close(f_lazy(val1, val2, m1, m2), expected)
    for linker in ("py", "c|py"):
        f = thx.function([a, b, x, y], z_lazy, mode=thx.Mode(linker=linker))
        assert_close(f(0.0, 1.0, m1, m2), m1.mean())


def test_only_the_taken_branch_is_computed():
    # The branch-only work (the reductions) sits inside the two regions of one conditional.
    a = T.dscalar("a")
    x, y = T.dmatrices("x", "y")
    f = thx.function([a, x, y], ifelse(T.gt(a, 0), T.exp(x).sum(), T.log(y).sum()))
    hlo = f.lower_text(1.0, np.ones((2, 2)), np.ones((2, 2)))
    before_case, _, in_case = hlo.partition("stablehlo.case")
    assert "reduce" not in before_case and "exponential" not in before_case
    assert "exponential" in in_case and "log" in in_case
    # A value the condition also needs stays outside and is computed once.
    s = x.sum()
    g = thx.function([x, y], ifelse(T.gt(s, 0), s * 2, y.sum()))
    before_case = g.lower_text(np.ones((2, 2)), np.ones((2, 2))).partition("stablehlo.case")[0]
    assert "reduce" in before_case
    assert_close(g(np.ones((2, 2)), np.ones((2, 2))), 8.0)
    assert_close(g(-np.ones((2, 2)), 3 * np.ones((2, 2))), 12.0)


def test_list_outputs_nested_ifelse_and_types():
    a, b = T.dscalars("a", "b")
    x = T.dvector("x")
    lo, hi = ifelse(T.lt(a, b), [a, b], [b, a])
    inner = ifelse(T.gt(a, 0), x * 2, x * 3)
    outer = ifelse(T.lt(a, b), inner + 1, -x)
    out_tuple = ifelse(T.lt(a, b), (a,), (b,))
    assert isinstance(out_tuple, tuple) and isinstance(lo, T.TensorVariable)
    f = thx.function([a, b, x], [lo, hi, outer, out_tuple[0]])
    xv = np.array([1.0, -2.0])
    for av, bv in [(1.0, 2.0), (-1.0, 2.0), (3.0, 2.0)]:
        expected_outer = (xv * (2 if av > 0 else 3) + 1) if av < bv else -xv
        got = f(av, bv, xv)
        assert_close(got[0], min(av, bv))
        assert_close(got[1], max(av, bv))
        assert_close(got[2], expected_outer)
        assert_close(got[3], av if av < bv else bv)


def test_gradient_against_jax():
    a = T.dscalar("a")
    x, y = T.dvectors("x", "y")
    cost = ifelse(T.lt(a, 0), T.sum(T.sin(x) * y), T.sum(x ** 2)) * a
    f = thx.function([a, x, y], T.grad(cost, [a, x, y]))

    def jcost(a, x, y):
        return jax.lax.cond(a < 0, lambda: jnp.sum(jnp.sin(x) * y), lambda: jnp.sum(x ** 2)) * a

    xv, yv = np.array([0.3, -1.2]), np.array([2.0, 0.5])
    for av in (-1.5, 2.0):
        with jax.enable_x64(True):
            expected = jax.grad(jcost, argnums=(0, 1, 2))(av, xv, yv)
        for got, exp in zip(f(av, xv, yv), expected):
            assert_close(got, np.asarray(exp))


def test_rop_against_jvp():
    a = T.dscalar("a")
    x, v = T.dvectors("x", "v")
    out = ifelse(T.gt(a, 0), T.tanh(x), x ** 3)
    f = thx.function([a, x, v], T.Rop(out, x, v))
    xv, vv = np.array([0.2, -0.7]), np.array([1.0, 3.0])
    for av in (1.0, -1.0):
        fn = jnp.tanh if av > 0 else (lambda t: t ** 3)
        with jax.enable_x64(True):
            expected = jax.jvp(fn, (xv,), (vv,))[1]
        assert_close(f(av, xv, vv), np.asarray(expected))


def test_printing_and_errors():
    a = T.dscalar("a")
    x = T.dvector("x")
    assert thx.pp(ifelse(a, x, -x, name="pick")) == "if{pick}(a, x, (-x))"
    assert str(IfElse(1)) == "if{}"
    with pytest.raises(TypeError, match="has to be a scalar"):
        ifelse(x, x, x)
    with pytest.raises(TypeError, match="identical types.*float64, vector.*float64, matrix"):
        ifelse(a, x, T.dmatrix("m"))
    with pytest.raises(ValueError, match="`then` 2, variables on `else` 1"):
        ifelse(a, [x, x], [x])
    # Branch shapes may differ (the branch is then chosen on the host: tests/test_ifelse_shapes.py).
    f = thx.function([a, x], ifelse(T.gt(a, 0), x[:1], x))
    assert_close(f(1.0, np.array([1.0, 2.0])), np.array([1.0]))
    assert_close(f(-1.0, np.array([1.0, 2.0])), np.array([1.0, 2.0]))
