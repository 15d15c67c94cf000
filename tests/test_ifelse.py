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
    # Branch shapes may differ (the branch is then chosen on the host, see below).
    f = thx.function([a, x], ifelse(T.gt(a, 0), x[:1], x))
    assert_close(f(1.0, np.array([1.0, 2.0])), np.array([1.0]))
    assert_close(f(-1.0, np.array([1.0, 2.0])), np.array([1.0, 2.0]))


# ------------------------------------------------------------------ branches of different shapes

def _recorder():
    """A Print op that records the values it sees instead of printing them."""
    from thx.printing import Print
    seen = []
    return seen, (lambda name: Print(name, global_fn=lambda op, v: seen.append((op.message, v))))


def test_branches_of_different_shapes_both_taken():
    a = T.dscalar("a")
    x, y = T.dvectors("x", "y")
    short, total = ifelse(T.gt(a, 0), [x[:2] * 2, x.sum()], [T.concatenate([x, y]), y.sum()])
    f = thx.function([a, x, y], [short, total, short.shape[0]])
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 4.0])
    got = f(1.0, xv, yv)
    assert_close(got[0], xv[:2] * 2), assert_close(got[1], xv.sum()), assert_close(got[2], 2)
    got = f(-1.0, xv, yv)
    assert_close(got[0], np.concatenate([xv, yv])), assert_close(got[1], yv.sum())
    assert_close(got[2], 5)
    assert_close(f(2.0, xv, yv)[0], xv[:2] * 2)  # and back


def test_branch_shapes_choose_the_lowering():
    # same shapes: one jax.jit with lax.cond inside; different shapes: the branch is chosen on
    # the host between jitted segments (the node is remembered as a host barrier)
    a = T.dscalar("a")
    x = T.dvector("x")
    same = thx.function([a, x], ifelse(T.gt(a, 0), x * 2, x - 1))
    differ = thx.function([a, x], ifelse(T.gt(a, 0), x[1:], x))
    xv = np.arange(3.0)
    assert_close(same(1.0, xv), xv * 2) and assert_close(same(-1.0, xv), xv - 1)
    assert not same.jax_fn.barriers and "stablehlo.case" in same.lower_text(1.0, xv)
    assert_close(differ(1.0, xv), xv[1:])
    assert len(differ.jax_fn.barriers) == 1
    assert_close(differ(-1.0, xv), xv)


def test_gradient_through_branches_of_different_shapes():
    a = T.dscalar("a")
    x = T.dvector("x")
    out = ifelse(T.gt(a, 0), T.sin(x[:2]) * a, x ** 2)
    cost = (out * T.arange(out.shape[0])).sum() + out.sum()
    f = thx.function([a, x], T.grad(cost, [a, x]))
    xv = np.array([0.3, -1.2, 2.0])

    def jcost(a_, x_, take):
        o = jnp.sin(x_[:2]) * a_ if take else x_ ** 2
        return (o * jnp.arange(o.shape[0])).sum() + o.sum()

    for av in (1.5, -0.5):
        with jax.enable_x64(True):
            want = jax.grad(jcost, argnums=(0, 1))(av, jnp.asarray(xv), av > 0)
        got = f(av, xv)
        assert_close(got[0], np.asarray(want[0])), assert_close(got[1], np.asarray(want[1]))


def test_branches_of_different_shapes_are_lazy():
    # only the chosen branch's work runs: the other branch's Print never fires
    seen, printer = _recorder()
    a = T.dscalar("a")
    x = T.dvector("x")
    out = ifelse(T.gt(a, 0), printer("then")(x[:1] * 2), printer("else")(T.concatenate([x, x])))
    f = thx.function([a, x], out)
    assert_close(f(1.0, np.array([1.0, 2.0])), np.array([2.0]))
    assert [m for m, _ in seen] == ["then"]
    seen.clear()
    assert_close(f(-1.0, np.array([1.0, 2.0])), np.array([1.0, 2.0, 1.0, 2.0]))
    assert [m for m, _ in seen] == ["else"]
    # the same with equal shapes (lax.cond runs one branch too)
    seen.clear()
    g = thx.function([a, x], ifelse(T.gt(a, 0), printer("then")(x * 2), printer("else")(x - 1)))
    g(1.0, np.array([1.0, 2.0]))
    assert [m for m, _ in seen] == ["then"]


def test_an_until_scan_in_one_branch_runs_only_when_chosen():
    seen, printer = _recorder()
    a, m = T.dscalars("a", "m")
    until = thx.scan_module.until
    powers, _ = thx.scan(lambda p, m: (printer("step")(p * 2), until(p * 2 > m)),
                         outputs_info=T.constant(1.0, dtype="float64"), non_sequences=m, n_steps=50)
    f = thx.function([a, m], ifelse(T.gt(a, 0), powers, T.zeros((1,))))
    assert_close(f(1.0, 20.0), np.array([2.0, 4.0, 8.0, 16.0, 32.0]))
    assert len(seen) == 5
    seen.clear()
    assert_close(f(-1.0, 20.0), np.zeros(1))
    assert seen == []


def test_nested_ifelse_with_different_shapes():
    a, b = T.dscalars("a", "b")
    x = T.dvector("x")
    out = ifelse(T.gt(a, 0), ifelse(T.gt(b, 0), x[:1], x[:2] + b), x * a)
    f = thx.function([a, b, x], [out, T.grad(out.sum(), x)])
    xv = np.array([1.0, 2.0, 3.0])
    cases = [((1.0, 1.0), xv[:1], [1.0, 0, 0]), ((1.0, -1.0), xv[:2] - 1, [1.0, 1.0, 0]),
             ((-2.0, 1.0), xv * -2, [-2.0, -2.0, -2.0])]
    for (av, bv), want, want_g in cases:
        got, g = f(av, bv, xv)
        assert_close(got, want), assert_close(g, np.array(want_g))


def test_different_shapes_inside_a_scan_step_is_a_clear_error():
    x = T.dvector("x")
    out, _ = thx.scan(lambda e: ifelse(T.gt(e, 0), T.ones((2,)), T.ones((3,))).sum(), sequences=x)
    f = thx.function([x], out)
    with pytest.raises(ValueError, match="different shapes.*inside a compiled loop step.*scan"):
        f(np.arange(3.0))
    # with one shape it runs (lax.cond inside the step)
    ok, _ = thx.scan(lambda e: ifelse(T.gt(e, 0), T.ones((2,)) * e, T.zeros((2,))).sum(),
                     sequences=x)
    assert_close(thx.function([x], ok)(np.array([-1.0, 2.0])), np.array([0.0, 4.0]))


def test_an_ifelse_value_that_sets_a_shape():
    # arange(ifelse(c, n, m)): the value is chosen on the host, then sets the length
    a = T.dscalar("a")
    x = T.dvector("x")
    n = ifelse(T.gt(a, 0), x.shape[0] * 2, x.shape[0] + 1)
    f = thx.function([a, x], T.arange(n))
    assert_close(f(1.0, np.ones(3)), np.arange(6)), assert_close(f(-1.0, np.ones(3)), np.arange(4))
    # equal values: no host round trip
    g = thx.function([a, x], T.arange(ifelse(T.gt(a, 0), x.shape[0], x.shape[0] * 1)))
    assert_close(g(1.0, np.ones(3)), np.arange(3))
    assert not g.jax_fn.barriers
