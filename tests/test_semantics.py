"""Theano 1.0's semantics where real programs rely on them (issue 12, "Semantics to match Theano").

Each test checks thx against an outside oracle: NumPy, JAX, or the output Theano's
documentation shows.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.gradient import verify_grad, GradientError


# ------------------------------------------------------------------ bool(variable)

def test_bool_of_a_variable_is_true_as_theano():
    x = T.matrix("x")
    assert bool(x) and not (not x)
    assert bool(x + 1) and bool(T.constant(0.0))  # any variable, even the constant 0 (Theano)
    w = None or x  # the ``if not W:`` idiom of optional parameters
    assert w is x


@pytest.mark.parametrize("compare", [lambda a, b: a < b, lambda a, b: a <= b,
                                     lambda a, b: a > b, lambda a, b: a >= b])
def test_comparison_results_refuse_truthiness(compare):
    a, b, c = T.dscalars("a", "b", "c")
    with pytest.raises(TypeError, match="Variables do not support boolean operations."):
        bool(compare(a, b))
    with pytest.raises(TypeError, match="Variables do not support boolean operations."):
        a < b < c  # noqa: B015  (Python's (a < b) and (b < c))


# ------------------------------------------------------------------ softmax of a vector

def _np_softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("name", ["softmax", "logsoftmax"])
def test_softmax_of_a_vector_is_a_one_row_matrix(name):
    x = T.dvector("x")
    out = getattr(T.nnet, name)(x)
    assert out.ndim == 2 and out.broadcastable == (True, False)
    v = np.array([1.0, -2.0, 0.5])
    ref = _np_softmax(v)[None, :]
    ref = np.log(ref) if name == "logsoftmax" else ref
    np.testing.assert_allclose(thx.function([x], out)(v), ref, rtol=1e-12)


def test_softmax_of_a_vector_gradient_and_stabilization_match_jax():
    import jax
    import jax.numpy as jnp
    x = T.dvector("x")
    y = T.lscalar("y")
    sm = T.nnet.softmax(x)
    cost = -T.log(sm)[0, y]  # rewritten to logsoftmax; gradient as jax.grad
    g = thx.function([x, y], T.grad(cost, x))
    v = np.array([300.0, -2.0, 0.5])  # softmax underflows: only the stable form is finite
    with jax.enable_x64(True):
        ref = jax.grad(lambda a: -jax.nn.log_softmax(a)[1])(jnp.asarray(v))
    np.testing.assert_allclose(g(v, 1), np.asarray(ref), rtol=1e-10)


def test_softmax_of_a_scanned_vector_indexes_as_rnn_code():
    # rnnslu.py: s = softmax(dot(h, w) + b) inside scan, then s[:, 0, :]
    h = T.dmatrix("h")
    s, _ = thx.scan(lambda h_t: T.nnet.softmax(h_t), sequences=h)
    f = thx.function([h], s[:, 0, :])
    v = np.arange(6.0).reshape(2, 3) / 4
    np.testing.assert_allclose(f(v), _np_softmax(v), rtol=1e-12)


def test_categorical_crossentropy_of_softmax_rows_unchanged():
    p, y = T.dmatrix("p"), T.lvector("y")
    f = thx.function([p, y], T.nnet.categorical_crossentropy(T.nnet.softmax(p), y))
    v = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    np.testing.assert_allclose(f(v, [1, 2]), -np.log(_np_softmax(v)[[0, 1], [1, 2]]), rtol=1e-12)


# ------------------------------------------------------------------ verify_grad

def test_verify_grad_of_a_scalar_function():
    verify_grad(lambda x: T.sum(x ** 2), [np.array([0.3, -1.2])], rng=np.random.RandomState(0))
    verify_grad(lambda x: x ** 3, [np.array(0.7)], rng=np.random.RandomState(0))


def test_verify_grad_of_a_scalar_function_still_catches_a_wrong_gradient():
    # consider_constant hides one factor: the gradient is x, finite differences give 2x
    with pytest.raises(GradientError):
        verify_grad(lambda x: T.sum(thx.gradient.consider_constant(x) * x), [np.array([0.3, -1.2])],
                    rng=np.random.RandomState(0))


# ------------------------------------------------------------------ numpy's global RNG (G8)

def test_first_compile_leaves_numpys_global_random_state_alone():
    script = textwrap.dedent("""
        import numpy as np, thx, thx.tensor as T
        np.random.seed(1)
        x = T.dscalar()
        thx.function([x], 2 * x)(1.0)
        assert np.random.rand() == np.random.RandomState(1).rand(), "numpy's global RNG was advanced"
        import jax  # already imported by thx: still untouched
        assert np.random.rand() == np.random.RandomState(1).rand(2)[1]
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------ acc_dtype

def test_float32_reductions_accumulate_in_float64_as_theano():
    v = np.float32([1e8, 1, -1e8])
    s = thx.shared(v)
    f = thx.function([], [s.sum(), s.mean(), T.prod(s * np.float32(1e-3)), T.sum(s, acc_dtype="float64")])
    total, mean, prod, total2 = f()
    ref = v.astype("float64")  # NumPy oracle: accumulate in float64, cast back
    assert total.dtype == mean.dtype == prod.dtype == "float32"
    assert total == np.float32(ref.sum()) == 1.0 and total2 == 1.0
    assert mean == np.float32(ref.sum() / 3)
    assert prod == np.float32(np.prod((v * np.float32(1e-3)).astype("float64")))


def test_reduction_dtype_and_acc_dtype_keywords():
    x = T.fvector("x")
    assert T.sum(x, dtype="float64").dtype == "float64"
    assert T.sum(T.bvector(), dtype="int8").dtype == "int8"
    assert T.mean(x, dtype="float64").dtype == "float64"
    assert T.sum(x, acc_dtype="float64").owner.op.acc_dtype == "float64"
    with pytest.raises(TypeError, match="precision would be lost"):
        T.sum(T.dvector(), acc_dtype="float32")
    b = T.bvector("b")  # int8 accumulates (and returns) in int64, as NumPy's sum
    np.testing.assert_array_equal(thx.function([b], T.sum(b))(np.int8([100, 100])),
                                  np.sum(np.int8([100, 100])))


def test_sum_axis_given_as_a_numpy_array():
    m = T.dmatrix("m")
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(thx.function([m], T.sum(m, axis=np.array(1)))(v), v.sum(axis=1))
    np.testing.assert_array_equal(thx.function([m], m.sum(axis=np.array([0, 1])))(v), v.sum())


# ------------------------------------------------------------------ scan sequence taps

def _tapped_loop(xp, x, taps, go_backwards=False):
    """The oracle: Theano 1.0 aligns taps as if 0 were among them (and reverses each tap's cut)."""
    lo, hi = min(min(taps), 0), max(max(taps), 0)
    n = x.shape[0] - (hi - lo)
    rows = []
    for t in range(n):
        i = n - 1 - t if go_backwards else t
        vals = [x[i + k - lo] for k in taps]
        acc = vals[0] * 1.0
        for j, v in enumerate(vals[1:], start=2):
            acc = acc + j * xp.sin(v)
        rows.append(acc)
    return xp.stack(rows)


def _tapped_step(*vals):
    acc = vals[0] * 1.0
    for j, v in enumerate(vals[1:], start=2):
        acc = acc + j * T.sin(v)
    return acc


@pytest.mark.parametrize("taps", [[-2, -1], [1, 2], [-1, 1], [-3], [2], [-1, 0, 3], [2, -2]])
def test_scan_sequence_taps_align_as_theano(taps):
    x = T.dvector("x")
    out, _ = thx.scan(_tapped_step, sequences=[{"input": x, "taps": taps}])
    v = np.arange(1.0, 8.0)
    np.testing.assert_allclose(thx.function([x], out)(v), _tapped_loop(np, v, taps), rtol=1e-12)


def test_scan_taps_documented_example():
    # issue 12: taps=[-2, -1] of [1..5] gives [1 2 3] (the -2 tap) in Theano
    x = T.dvector("x")
    out, _ = thx.scan(lambda a, b: a, sequences=[{"input": x, "taps": [-2, -1]}])
    np.testing.assert_array_equal(thx.function([x], out)(np.arange(1.0, 6.0)), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("taps,go_backwards", [([-2, -1], False), ([1, 2], False), ([-1, 2], True)])
def test_scan_sequence_taps_gradient_matches_jax(taps, go_backwards):
    import jax
    import jax.numpy as jnp
    x = T.dvector("x")
    out, _ = thx.scan(_tapped_step, sequences=[{"input": x, "taps": taps}], go_backwards=go_backwards)
    cost = T.sum(out * T.arange(out.shape[0]))
    g = thx.function([x], T.grad(cost, x))
    v = np.linspace(-1.0, 2.0, 7)

    def ref_cost(a):
        o = _tapped_loop(jnp, a, taps, go_backwards)
        return jnp.sum(o * jnp.arange(o.shape[0]))

    with jax.enable_x64(True):
        ref = np.asarray(jax.grad(ref_cost)(jnp.asarray(v)))
    np.testing.assert_allclose(g(v), ref, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ gradient contract

def test_gradient_of_an_integer_variable_is_float_zeros_inside_the_graph():
    x, y = T.ivector("x"), T.dvector("y")
    g = T.grad(T.sum(T.cast(x, "float64") * y), x)
    assert g.dtype == "float64"
    np.testing.assert_array_equal(g.eval({x: np.int32([1, 2]), y: [3.0, 4.0]}), [0.0, 0.0])


def test_dxdx_of_an_integer_is_one():
    # Theano's test_dxdx: the Op contract gives 1, not 0, for an integer seed
    x = T.iscalar("x")
    assert T.grad(x, x).eval({x: 12}) == 1.0


def test_known_grads_on_an_integer_variable_is_returned():
    # Theano's test_known_grads_integers
    x = T.iscalar("x")
    g_expected = T.dscalar("g")
    g = thx.gradient.grad(cost=None, known_grads={x: g_expected}, wrt=x)
    assert thx.function([g_expected], g)(0.6) == 0.6


def test_known_grads_must_be_float():
    y = T.dvector("y")
    with pytest.raises(TypeError, match="continuous"):
        thx.gradient.grad(None, y, known_grads={y * 2: T.ivector()})


def test_known_grads_broadcasts_to_the_variable():
    y = T.dvector("y")
    h = T.exp(y)
    g = thx.gradient.grad(None, y, known_grads={h: T.constant(2.0)})
    v = np.array([0.5, -1.0])
    np.testing.assert_allclose(g.eval({y: v}), 2.0 * np.exp(v))


def test_grad_of_consider_constant_is_zeros_and_disconnected_grad_is_disconnected():
    x = T.dvector("x")
    g = T.grad(thx.gradient.consider_constant(x).sum(), x)  # Theano 1.0: zeros, no error
    np.testing.assert_array_equal(g.eval({x: [1.0, 2.0]}), [0.0, 0.0])
    with pytest.raises(thx.gradient.DisconnectedInputError):
        T.grad(thx.gradient.disconnected_grad(x).sum(), x)
    # the forward value is x itself
    np.testing.assert_array_equal(thx.gradient.consider_constant(x).eval({x: [1.0, 2.0]}), [1.0, 2.0])


def test_set_subtensor_downcasts_as_numpy_assignment():
    b, f, d = T.bvector("b"), T.fvector("f"), T.dscalar("d")
    ref_b = np.int8([1, 2])
    ref_b[0] = 3.7  # NumPy (and Theano) truncate into the int8 storage
    out = T.set_subtensor(b[0], np.float64(3.7))
    assert out.dtype == "int8"
    np.testing.assert_array_equal(out.eval({b: np.int8([1, 2])}), ref_b)
    ref_f = np.float32([1, 2])
    ref_f[0] += 1.1
    out = T.inc_subtensor(f[0], d)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(out.eval({f: np.float32([1, 2]), d: 1.1}), ref_f)
    with pytest.raises(TypeError, match="same_kind"):
        T.inc_subtensor(b[0], d)  # NumPy's ``a[0] += 1.1`` refuses it for int8 too


def test_inc_subtensor_with_a_value_of_more_dimensions_fails_when_built():
    v, i = T.dvector("v"), T.lvector("i")
    with pytest.raises(TypeError, match="1-dimensional subtensor with a 2-dimensional value"):
        T.inc_subtensor(v[i], T.dmatrix())
    with pytest.raises(TypeError, match="1-dimensional subtensor with a 2-dimensional value"):
        T.set_subtensor(v[1:], T.dmatrix())


# ------------------------------------------------------------------ exception types (Theano's tests)

def test_in_of_a_shared_variable_is_a_type_error():
    from thx.compile import In
    s = thx.shared(np.zeros(2))
    with pytest.raises(TypeError, match="Cannot use a shared variable"):
        thx.function([In(s)], s * 2)


def test_update_of_another_broadcast_pattern_is_a_type_error():
    # Theano's test_update_err_broadcast: a broadcasted scalar into a matrix
    s = thx.shared(np.random.RandomState(0).rand(3, 3).astype("float32"))
    with pytest.raises(TypeError, match="An update must have the same type"):
        thx.function([], [], updates={s: s.sum().dimshuffle("x", "x")})
    with pytest.raises(TypeError, match="An update must have the same type"):
        thx.function([], [], updates={s: T.cast(s, "float64")})


@pytest.mark.parametrize("make", [thx.gradient.grad_undefined, thx.gradient.grad_not_implemented])
def test_compiling_an_undefined_gradient_is_a_type_error(make):
    # Theano's test_undefined_grad_func / test_unimplemented_grad_func
    a = T.vector("a")
    with pytest.raises(TypeError, match="undefined gradient"):
        thx.function([a], make(T.add, 0, a), on_unused_input="ignore")


def test_scan_strict_with_a_missing_non_sequence_is_a_missing_input_error():
    # Theano's test_strict_mode_ex
    from thx.graph.fg import MissingInputError
    w_ = thx.shared(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    x0 = T.dvector("x0")
    with pytest.raises(MissingInputError):
        thx.scan(lambda x: T.dot(x, w_), outputs_info=[x0], n_steps=3, strict=True)
    out, _ = thx.scan(lambda x, w: T.dot(x, w), outputs_info=[x0], non_sequences=[w_], n_steps=3,
                      strict=True)
    ref = np.array([1.0, 2.0])
    for _ in range(3):
        ref = ref @ w_.get_value()
    np.testing.assert_allclose(thx.function([x0], out[-1])([1.0, 2.0]), ref)


def test_scan_inconsistent_broadcast_raises():
    # Theano's test_inconsistent_broadcast_error: a (1, 10) state and a (n, 10) step result
    x = T.tensor3("x")
    initial_x = T.constant(np.zeros((1, 10)))
    with pytest.raises(TypeError, match="Inconsistency in the inner graph of scan"):
        y, _ = thx.scan(lambda x, prev_x: x + prev_x, sequences=x, outputs_info=[dict(initial=initial_x)])
        T.grad(y.sum(), x)


# ------------------------------------------------------------------ Function.copy

def test_copy_returns_what_theanos_tutorial_shows():
    # doc/tutorial/examples.txt, "Copying functions" (Theano 1.0)
    state = thx.shared(0)
    inc = T.iscalar("inc")
    accumulator = thx.function([inc], state, updates=[(state, state + inc)])
    out = accumulator(10)
    assert isinstance(out, np.ndarray) and out == 0 and state.get_value() == 10
    new_state = thx.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    out = new_accumulator(100)
    assert isinstance(out, list) and len(out) == 1 and out[0] == 0
    assert new_state.get_value() == 100 and state.get_value() == 10
    null_accumulator = accumulator.copy(delete_updates=True)
    out = null_accumulator(9000)
    assert isinstance(out, list) and out == [10] and state.get_value() == 10


# ------------------------------------------------------------------ gradient checks on real programs

def _checked(fn, *args):
    from thx.check import CHECKED
    before = len(CHECKED)
    fn(*args)
    return CHECKED[before:]


def test_check_gradients_through_givens_minibatch():
    from thx.check import GradientMismatchError
    rng = np.random.RandomState(0)
    data_x, data_y = thx.shared(rng.randn(6, 3)), thx.shared(rng.randn(6))
    W = thx.shared(rng.randn(3), name="W")
    index = T.lscalar("index")
    x, y = T.dvector("x"), T.dscalar("y")
    cost = (T.dot(x, W) - y) ** 2
    with thx.config.change_flags(check_gradients="jax"):
        train = thx.function([index], cost, updates=[(W, W - 0.1 * T.grad(cost, W))],
                             givens={x: data_x[index], y: data_y[index]})
        clipped = thx.function([index], T.grad(T.sum(thx.gradient.grad_clip(x * W, -0.01, 0.01)), W),
                               givens={x: data_x[index]})
    reports = _checked(train, 2)
    assert len(reports) == 1 and [r.wrt for r in reports[0]] == ["W"]
    row = reports[0][0]
    assert row.skipped == "" and row.passed and row.max_abs_err < 1e-12
    # the check really runs through the givens: a clipped gradient differs from jax.grad
    with pytest.raises(GradientMismatchError, match="w.r.t. W"):
        clipped(1)


def test_check_gradients_with_consider_constant_around_random_samples():
    # rbm.py's CD-1: the negative sample comes from RandomStreams and is held constant
    from thx.tensor.shared_randomstreams import RandomStreams
    rng = np.random.RandomState(1)
    W = thx.shared(rng.randn(4, 3) * 0.1, name="W")
    srng = RandomStreams(seed=3)
    v = T.dmatrix("v")
    h_mean = T.nnet.sigmoid(T.dot(v, W))
    h_sample = srng.binomial(size=h_mean.shape, n=1, p=h_mean, dtype="float64")
    v_sample = srng.binomial(size=v.shape, n=1, p=T.nnet.sigmoid(T.dot(h_sample, W.T)),
                             dtype="float64")

    def free_energy(vv):
        return -T.sum(T.nnet.softplus(T.dot(vv, W)), axis=1)

    cost = T.mean(free_energy(v)) - T.mean(free_energy(v_sample))
    g = T.grad(cost, W, consider_constant=[v_sample])
    with thx.config.change_flags(check_gradients="jax"):
        f = thx.function([v], cost, updates=[(W, W - 0.1 * g)])
    reports = _checked(f, (rng.rand(5, 4) > 0.5).astype("float64"))
    assert len(reports) == 1 and reports[0].passed and not reports[0][0].skipped


def test_check_reports_abs_at_zero_as_a_convention():
    import jax
    from thx.check import check_against_jax
    w = T.dvector("w")
    report = check_against_jax(T.sum(abs(w) * 3.0), w, {w: np.array([0.0, -2.0, 1.5])})
    with jax.enable_x64(True):
        assert float(jax.grad(lambda a: abs(a))(0.0)) == 1.0  # JAX's convention; Theano's is 0
    assert report.passed and "abs'(0)" in report[0].convention
    assert "convention" in str(report)
    # away from 0 there is nothing to explain
    report = check_against_jax(T.sum(abs(w)), w, {w: np.array([0.5, -2.0])})
    assert report.passed and report[0].convention == ""
