"""check_against_jax and config.check_gradients='jax': thx's gradients against jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.check import CHECKED
from thx.gradient import GradientError, GradientMismatchError, check_against_jax
from thx.graph.basic import Apply
from thx.graph.op import Op
from thx.lowering.registry import register

from tests.oracle import assert_close


class WrongSquare(Op):
    """x ** 2 with a deliberately wrong gradient (3 x instead of 2 x)."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def L_op(self, inputs, outputs, grads):
        return [grads[0] * 3 * inputs[0]]


@register(WrongSquare)
def _wrong_square(op, node):
    return lambda x: jnp.square(x)  # the forward pass is right


wrong_square = WrongSquare()


def test_correct_gradients_pass_with_small_errors():
    x = T.dvector("x")
    W = thx.shared(np.array([[0.5, -1.0], [2.0, 0.25]]), name="W")
    h = T.tanh(T.dot(W, x))
    cost = T.sum(h ** 2) + T.log(T.sum(T.exp(x)))
    report = check_against_jax(cost, [x, W, h], {x: np.array([0.3, -0.8])})
    assert report.passed and [r.wrt for r in report] == ["x", "W", report[2].wrt]
    assert [r.shape for r in report] == [(2,), (2, 2), (2,)]  # h is intermediate: cut there
    assert all(r.max_abs_err < 1e-12 and r.max_rel_err < 1e-12 for r in report)
    assert "max abs err" in str(report) and "yes" in str(report)
    # what passed is right: jax.grad of the same cost written in plain jax.numpy (not thx's lowering)
    xv = np.array([0.3, -0.8])

    def jax_cost(xj, Wj):
        hj = jnp.tanh(Wj @ xj)
        return jnp.sum(hj ** 2) + jnp.log(jnp.sum(jnp.exp(xj)))

    with jax.enable_x64(True):
        want = jax.grad(jax_cost, argnums=(0, 1))(jnp.asarray(xv), jnp.asarray(W.get_value()))
    got = thx.function([x], T.grad(cost, [x, W]))(xv)
    for g, w, what in zip(got, want, ["x", "W"]):
        assert_close(g, np.asarray(w), rtol=1e-12, atol=1e-14, what=f"d cost / d {what}")


def test_a_wrong_gradient_is_reported():
    x, y = T.dvectors("x", "y")
    cost = T.sum(wrong_square(x) * y)
    xv, yv = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    with pytest.raises(GradientMismatchError) as info:
        check_against_jax(cost, [x, y], {x: xv, y: yv})
    report = info.value.report
    assert isinstance(info.value, GradientError)
    assert [r.passed for r in report] == [False, True]
    # thx says 3 x y, jax.grad 2 x y: the absolute error is |x y|, the relative one 1/3.
    assert report[0].max_abs_err == pytest.approx(np.max(np.abs(xv * yv)))
    assert report[0].max_rel_err == pytest.approx(1 / 3)
    assert "w.r.t. x differs from jax.grad" in str(info.value)
    quiet = check_against_jax(cost, [x], {x: xv, y: yv}, raise_on_mismatch=False)
    assert not quiet.passed and "NO" in str(quiet)
    with pytest.raises(thx.MissingInputError, match="no value given for y"):
        check_against_jax(cost, [x], {x: xv})


def test_check_gradients_flag_checks_on_first_call_only():
    x = T.dvector("x")
    w = thx.shared(np.array([1.0, 2.0]), name="w")
    good_cost = T.sum(T.sin(x * w))
    bad_cost = T.sum(wrong_square(x) * w)
    before = len(CHECKED)
    with thx.config.change_flags(check_gradients="jax"):
        step = thx.function([x], good_cost, updates=[(w, w - 0.1 * T.grad(good_cost, w))],
                            name="step")
        bad = thx.function([x], T.grad(bad_cost, x))
        plain = thx.function([x], good_cost)
    assert type(plain) is thx.Function  # no gradient in it: no check
    expected_w = np.array([1.0, 2.0]) - 0.1 * np.cos(np.array([0.5, 1.0]) * [1.0, 2.0]) * [0.5, 1.0]
    step(np.array([0.5, 1.0]))
    np.testing.assert_allclose(w.get_value(), expected_w)  # the check left the state alone
    step(np.array([0.5, 1.0]))
    new = CHECKED[before:]
    assert len(new) == 1 and new[0].function == "step" and new[0].passed
    assert [r.wrt for r in new[0]] == ["w"]
    # A cost needing a variable the function replaces (givens) is checked through the givens:
    # the gradient w.r.t. y is the gradient w.r.t. its replacement 2 * x.
    y = T.dvector("y")
    with thx.config.change_flags(check_gradients="jax"):
        partial = thx.function([x], T.grad(T.sum(x * y), y), givens={y: 2 * x})
    np.testing.assert_allclose(partial(np.array([1.0, 2.0])), [1.0, 2.0])
    assert CHECKED[-1][0].skipped == "" and CHECKED[-1].passed
    with pytest.raises(GradientMismatchError, match="w.r.t. x"):
        bad(np.array([1.0, 3.0]))
    np.testing.assert_allclose(bad(np.array([1.0, 3.0])), 3 * np.array([1.0, 3.0]) * w.get_value())


def test_numeric_grad_perturbs_a_fortran_ordered_point():
    """numeric_grad works on a C-ordered copy: reshape(-1) of a Fortran-ordered array is a copy,
    so that point was never perturbed and every derivative read 0."""
    from thx.check import numeric_grad
    p = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    w = np.random.RandomState(0).randn(2, 3)
    g = numeric_grad(lambda a: float((a * w).sum() + (a ** 2).sum()), [p]).gf[0]
    np.testing.assert_allclose(g, w + 2 * p, rtol=1e-6)
