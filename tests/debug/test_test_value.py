"""compute_test_value: test values computed with NumPy as the graph is built (checked against NumPy)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.graph import test_value
from thx.graph.basic import NODE_HOOKS

HERE = __file__


@pytest.fixture
def mode(request):
    with thx.config.change_flags(compute_test_value=request.param):
        yield request.param


def values(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_shape_mismatch_raises_at_the_building_line(mode):
    x, y = T.dmatrix('x'), T.dmatrix('y')
    x.tag.test_value = values((2, 3))
    y.tag.test_value = values((4, 5))
    with pytest.raises(ValueError, match=r"not aligned") as info:
        T.dot(x, y)  # the bad node
    msg = str(info.value)
    assert "Apply node that caused the error: dot(x, y)" in msg
    assert "Inputs shapes: [(2, 3), (4, 5)]" in msg
    assert "T.dot(x, y)  # the bad node" in msg
    # the Python traceback itself stops at this line too: the error is raised while building
    frames = [tb.tb_frame.f_code.co_filename for tb in _walk(info.value.__traceback__)]
    assert HERE in frames


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_values_propagate_like_numpy(mode):
    x, W = T.dmatrix('x'), T.dmatrix('W')
    xv, Wv = values((4, 3), 1), values((3, 5), 2)
    x.tag.test_value, W.tag.test_value = xv, Wv
    b = thx.shared(values(5, 3), name='b')  # shared: implicit test value
    h = T.tanh(T.dot(x, W) + b)
    cost = T.sum(h[1:, ::2] ** 2) / 2.0  # indexing, a constant
    hv = np.tanh(xv @ Wv + b.get_value())
    np.testing.assert_allclose(h.tag.test_value, hv)
    np.testing.assert_allclose(cost.tag.test_value, np.sum(hv[1:, ::2] ** 2) / 2.0)
    assert cost.tag.test_value.dtype == np.float64 and cost.tag.test_value.shape == ()
    g = thx.grad(cost, W)  # the gradient graph gets test values too
    np.testing.assert_allclose(g.tag.test_value.shape, (3, 5))
    f = thx.function([x, W], g)
    np.testing.assert_allclose(g.tag.test_value, f(xv, Wv))


def test_setting_a_test_value_converts_it_to_the_type():
    x = T.dvector('x')
    x.tag.test_value = [1, 2]
    assert isinstance(x.tag.test_value, np.ndarray) and x.tag.test_value.dtype == np.float64
    with pytest.raises(TypeError):
        x.tag.test_value = np.ones((2, 2))  # wrong number of dimensions
    i = T.ivector('i')
    with pytest.raises(TypeError):
        i.tag.test_value = [1.5]  # a lossy conversion


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_missing_value_raises(mode):
    x, y = T.dvector('x'), T.dvector('y')
    x.tag.test_value = np.ones(3)
    with pytest.raises(ValueError, match=r"Cannot compute test value: input 1 \(y\) of Op "
                                         r"Elemwise\{add,no_inplace\} missing default value"):
        x + y


@pytest.mark.parametrize("mode", ["warn"], indirect=True)
def test_warn_mode_warns_and_goes_on(mode):
    x, y = T.dvector('x'), T.dvector('y')
    x.tag.test_value = np.ones(3)
    with pytest.warns(UserWarning, match="missing default value") as record:
        s = x + y
    assert record[0].filename == HERE  # the warning points at the line building the node
    assert "test_value" not in s.tag.__dict__
    y.tag.test_value = np.ones(4)
    with pytest.warns(UserWarning, match="Apply node that caused the error: Elemwise"):
        s = x + y
    assert "test_value" not in s.tag.__dict__


@pytest.mark.parametrize("mode", ["ignore"], indirect=True)
def test_ignore_mode_skips_missing_values(mode):
    x, y = T.dvector('x'), T.dvector('y')
    x.tag.test_value = np.arange(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x + y
        e = T.exp(x)
    assert "test_value" not in s.tag.__dict__
    np.testing.assert_allclose(e.tag.test_value, np.exp(np.arange(3.0)))


def test_off_installs_nothing():
    assert thx.config.compute_test_value == "off"
    assert test_value.compute not in NODE_HOOKS
    with thx.config.change_flags(compute_test_value="raise"):
        assert test_value.compute in NODE_HOOKS
    assert test_value.compute not in NODE_HOOKS  # change_flags restores the hook too
    x = T.dvector('x')
    x.tag.test_value = np.ones(2)
    assert "test_value" not in T.exp(x).tag.__dict__


def test_get_test_value():
    x = T.dvector('x')
    with pytest.raises(test_value.TestValueError, match="x has no test value"):
        test_value.get_test_value(x)
    assert test_value.get_test_value(T.constant(2.5)) == 2.5
    s = thx.shared(np.arange(3.0))
    np.testing.assert_array_equal(test_value.get_test_value(s), np.arange(3.0))


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_scan_computes_through_its_inner_graph(mode):
    A, B = T.dmatrix('A'), T.dmatrix('B')
    Av, Bv = values((4, 3), 4), values((3, 3), 5)
    A.tag.test_value, B.tag.test_value = Av, Bv
    h0 = T.dvector('h0')
    h0.tag.test_value = values(3, 6)

    def step(a, h, B):
        nh = T.tanh(a + T.dot(h, B))
        assert nh.tag.test_value.shape == (3,)  # inner nodes have test values as the step runs
        return nh

    out, _ = thx.scan(step, sequences=[A], non_sequences=[B], outputs_info=[h0])
    h, want = h0.tag.test_value, []
    for a in Av:
        h = np.tanh(a + h @ Bv)
        want.append(h)
    np.testing.assert_allclose(out.tag.test_value, np.array(want))


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_scan_taps_get_their_rows(mode):
    x0 = T.dvector('x0')
    x0.tag.test_value = np.array([1.0, 2.0])  # fib: x[t] = x[t-2] + x[t-1]
    seen = {}

    def step(a, b):
        seen["taps"] = (a.tag.test_value, b.tag.test_value)
        return a + b

    out, _ = thx.scan(step, outputs_info=[dict(initial=x0, taps=[-2, -1])], n_steps=5)
    assert seen["taps"] == (1.0, 2.0)
    np.testing.assert_allclose(out.tag.test_value, [3.0, 5.0, 8.0, 13.0, 21.0])


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_scan_step_error_raised_in_the_step(mode):
    A, B = T.dmatrix('A'), T.dmatrix('B')
    A.tag.test_value, B.tag.test_value = values((4, 3)), values((2, 3))

    def step(a, acc, B):
        return acc + T.dot(a, B)  # mismatched inside the step

    with pytest.raises(ValueError, match="not aligned") as info:
        thx.scan(step, sequences=[A], non_sequences=[B], outputs_info=[T.zeros(3)])
    assert "Apply node that caused the error: dot(A[t], B)" in str(info.value)
    assert "return acc + T.dot(a, B)  # mismatched inside the step" in str(info.value)


@pytest.mark.parametrize("mode", ["raise"], indirect=True)
def test_thx_internal_variables_need_no_test_values(mode):
    # the gradient of a scan builds inner graphs on variables of thx's own; compiling rewrites too
    A, B = T.dmatrix('A'), T.dmatrix('B')
    Av, Bv = values((4, 3), 7), values((3, 3), 8)
    A.tag.test_value, B.tag.test_value = Av, Bv
    out, _ = thx.scan(lambda a, h, B: T.tanh(a + T.dot(h, B)), sequences=[A], non_sequences=[B],
                      outputs_info=[T.zeros(3)])
    gB = T.grad(T.sum(out), B)
    got = thx.function([A, B], gB)(Av, Bv)
    with thx.config.change_flags(compute_test_value="off"):
        A2, B2 = T.dmatrix('A'), T.dmatrix('B')
        out2, _ = thx.scan(lambda a, h, B: T.tanh(a + T.dot(h, B)), sequences=[A2],
                           non_sequences=[B2], outputs_info=[T.zeros(3)])
        want = thx.function([A2, B2], T.grad(T.sum(out2), B2))(Av, Bv)
    np.testing.assert_allclose(got, want)
