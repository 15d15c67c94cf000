"""A user's Python op (Theano 1.0's "Creating a new Op: Python implementation" and ``as_op``).

The examples of that page run unchanged: ``DoubleOp1`` (``make_node``), ``DoubleOp2``
(``itypes``/``otypes``), ``AXPBOp`` (``__props__``) and ``numpy_dot`` (``as_op`` with
``infer_shape``).  Values are compared with NumPy, gradients from the op's ``grad`` with finite
differences (``verify_grad``) and with ``jax.grad`` of the same NumPy formula written in JAX.
Such an op has no JAX lowering: its ``perform`` runs on the host between jitted segments, or as
a ``jax.pure_callback`` inside a scan step (thx/lowering/perform.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.compile.ops import as_op

R = np.random.RandomState(11)


class DoubleOp1(theano.Op):
    __props__ = ()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return eval_points
        return self.grad(inputs, eval_points)


class DoubleOp2(theano.Op):
    __props__ = ()
    itypes = [theano.tensor.dmatrix]
    otypes = [theano.tensor.dmatrix]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]


class AXPBOp(theano.Op):
    """``a * x + b`` (the page's ``__props__`` example)."""

    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b
        super().__init__()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.a * inputs[0] + self.b


class Counting(theano.Op):
    """``sin(x)``, counting its calls; no ``__props__``: instances compare by identity."""

    def __init__(self):
        self.calls = 0

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        self.calls += 1
        output_storage[0][0] = np.sin(inputs[0])

    def grad(self, inputs, output_grads):
        return [output_grads[0] * T.cos(inputs[0])]


class SumDiff(theano.Op):
    """Two outputs, ``x + y`` and ``x - y`` (the page's exercise), with a grad."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
        return theano.Apply(self, [x, y], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        output_storage[0][0] = x + y
        output_storage[1][0] = x - y

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]

    def grad(self, inputs, g):
        gs, gd = g
        return [gs + gd, gs - gd]


def test_the_pages_double_ops_compute_twice_the_input():
    x = theano.tensor.matrix()
    inp = np.random.rand(5, 4)
    for op in (DoubleOp1(), DoubleOp2()):
        f = theano.function([x], op(x))
        np.testing.assert_array_equal(f(inp), inp * 2)


def test_props_give_equality_and_the_values_of_each_instance():
    mult4plus5op, another, mult2plus3op = AXPBOp(4, 5), AXPBOp(4, 5), AXPBOp(2, 3)
    assert mult4plus5op == another and hash(mult4plus5op) == hash(another)
    assert mult4plus5op != mult2plus3op
    assert str(mult4plus5op) == "AXPBOp{a=4, b=5}"
    x = theano.tensor.matrix()
    inp = np.random.rand(5, 4).astype(np.float32)
    f, g = theano.function([x], mult4plus5op(x)), theano.function([x], mult2plus3op(x))
    np.testing.assert_allclose(f(inp), 4 * inp + 5)
    np.testing.assert_allclose(g(inp), 2 * inp + 3)


def test_an_op_without_props_compares_by_identity_and_is_not_merged():
    a, b = Counting(), Counting()
    assert a != b and a == a
    x = T.dvector("x")
    f = theano.function([x], a(x) + b(x))
    v = R.randn(3)
    np.testing.assert_allclose(f(v), 2 * np.sin(v))
    assert (a.calls, b.calls) == (1, 1)


def test_equal_ops_on_the_same_input_are_merged_and_run_once():
    op = AXPBOp(3, 1)
    x = T.dvector("x")
    f = theano.function([x], [op(x), AXPBOp(3, 1)(x) * 2])
    assert sum(isinstance(n.op, AXPBOp) for n in f.maker.fgraph.apply_nodes) == 1
    v = R.randn(4)
    got = f(v)
    np.testing.assert_allclose(got[0], 3 * v + 1)
    np.testing.assert_allclose(got[1], 2 * (3 * v + 1))


def test_itypes_are_checked_with_theanos_message():
    with pytest.raises(TypeError, match="We expected inputs of types"):
        DoubleOp2()(T.fmatrix())
    with pytest.raises(ValueError, match="We expected 1 inputs but got 2"):
        DoubleOp2()(T.dmatrix(), T.dmatrix())
    np.testing.assert_array_equal(DoubleOp2()(np.ones((2, 2))).eval(), np.full((2, 2), 2.0))


def test_gradient_uses_the_ops_grad_and_matches_finite_differences_and_jax():
    x = T.dmatrix("x")
    v = R.randn(3, 4)
    cost = T.sum(T.tanh(DoubleOp1()(x)) ** 2)
    g = theano.function([x], T.grad(cost, x))(v)
    with jax.enable_x64(True):
        want = jax.grad(lambda a: jnp.sum(jnp.tanh(2 * a) ** 2))(v)
    np.testing.assert_allclose(g, np.asarray(want), rtol=1e-12)
    theano.gradient.verify_grad(DoubleOp2(), [R.randn(5, 7)], rng=np.random.RandomState(3))
    theano.gradient.verify_grad(lambda a, b: SumDiff()(a, b)[1] * SumDiff()(a, b)[0],
                                [R.randn(3), R.randn(3)], rng=np.random.RandomState(4))


def test_rop_uses_the_ops_r_op():
    x, v = T.dvector("x"), T.dvector("v")
    y = T.sin(DoubleOp1()(x))
    f = theano.function([x, v], T.Rop(y, x, v))
    a, b = R.randn(4), R.randn(4)
    with jax.enable_x64(True):
        _, want = jax.jvp(lambda t: jnp.sin(2 * t), (a,), (b,))
    np.testing.assert_allclose(f(a, b), np.asarray(want), rtol=1e-12)


def test_as_op_numpy_dot_from_the_page():
    def infer_shape_numpy_dot(node, input_shapes):
        ashp, bshp = input_shapes
        return [ashp[:-1] + bshp[-1:]]

    @as_op(itypes=[theano.tensor.fmatrix, theano.tensor.fmatrix],
           otypes=[theano.tensor.fmatrix], infer_shape=infer_shape_numpy_dot)
    def numpy_dot(a, b):
        return np.dot(a, b)

    x, y = theano.tensor.fmatrix(), theano.tensor.fmatrix()
    f = theano.function([x, y], numpy_dot(x, y))
    inp1, inp2 = np.random.rand(5, 4).astype("float32"), np.random.rand(4, 7).astype("float32")
    out = f(inp1, inp2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.dot(inp1, inp2), rtol=1e-6)
    assert str(numpy_dot) == "FromFunctionOp{numpy_dot}"
    # the shape comes from infer_shape: the function that asks only for it never runs numpy_dot
    s = theano.function([x, y], numpy_dot(x, y).shape)
    assert not any(isinstance(n.op, type(numpy_dot)) for n in s.maker.fgraph.apply_nodes)
    np.testing.assert_array_equal(s(inp1, inp2), [5, 7])


def test_as_op_refuses_what_is_not_a_type_and_has_no_gradient():
    with pytest.raises(TypeError, match="itypes has to be a list of Theano types"):
        as_op(itypes=[np.float64], otypes=[T.dvector])
    with pytest.raises(TypeError, match="infer_shape needs to be a callable"):
        as_op(itypes=[T.dvector], otypes=[T.dvector], infer_shape=3)
    double = as_op(itypes=[T.dvector], otypes=[T.dvector])(lambda v: v * 2)
    v = T.dvector("v")
    with pytest.raises(NotImplementedError, match="grad is not implemented"):
        T.grad(T.sum(double(v)), v)


def test_several_outputs_and_a_result_of_a_new_length_each_call():
    @as_op(itypes=[T.dvector], otypes=[T.dvector, T.lscalar])
    def positives(v):
        p = v[v > 0]
        return p, np.int64(p.size)

    x = T.dvector("x")
    f = theano.function([x], [positives(x)[0] * 2, positives(x)[1] + 1])
    for v in (np.array([1.0, -2.0, 3.0]), np.array([-1.0, 5.0])):
        got = f(v)
        np.testing.assert_array_equal(got[0], 2 * v[v > 0])
        assert got[1] == (v > 0).sum() + 1


def test_inside_a_scan_step_the_op_runs_as_a_callback_from_infer_shape():
    X = T.dmatrix("X")
    out, _ = theano.scan(lambda row, acc: acc + DoubleOp1()(row), sequences=X,
                         outputs_info=T.zeros_like(X[0]))
    f = theano.function([X], out)
    A = R.randn(4, 3)
    np.testing.assert_allclose(f(A), np.cumsum(2 * A, axis=0))
    mapped, _ = theano.map(lambda row: SumDiff()(row, row * 3)[1], sequences=X)
    np.testing.assert_allclose(theano.function([X], mapped)(A), -2 * A)


def test_inside_a_scan_step_an_op_without_infer_shape_raises_a_clear_error():
    X = T.dmatrix("X")
    out, _ = theano.map(lambda row: AXPBOp(2, 1)(row), sequences=X)
    with pytest.raises(Exception, match="AXPBOp an infer_shape") as info:
        theano.function([X], out)(R.randn(2, 3))
    assert "NotImplementedError" in str(info.value).splitlines()[0] or isinstance(info.value, NotImplementedError)


def test_perform_output_of_the_wrong_kind_raises_naming_the_op():
    class Bad(theano.Op):
        __props__ = ()
        itypes = [T.dvector]
        otypes = [T.dvector]

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0].reshape(1, -1)  # a matrix for a vector output

    x = T.dvector("x")
    with pytest.raises(TypeError, match=r"Bad.perform stored a value for output 0 that is not a "
                                        r"TensorType\(float64, vector\): Wrong number of dimensions"):
        theano.function([x], Bad()(x))(np.ones(3))


def test_an_error_raised_by_perform_keeps_its_type():
    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def checked_log(v):
        if (v <= 0).any():
            raise ValueError("checked_log: non-positive input")
        return np.log(v)

    x = T.dvector("x")
    f = theano.function([x], checked_log(x) * 2)
    with pytest.raises(ValueError, match="checked_log: non-positive input"):
        f(np.array([1.0, -1.0]))
    np.testing.assert_allclose(f(np.array([1.0, np.e])), [0.0, 2.0])


def test_an_op_in_an_ifelse_branch_runs_on_the_host():
    from thx.ifelse import ifelse
    x, c = T.dvector("x"), T.iscalar("c")
    f = theano.function([x, c], ifelse(c, AXPBOp(2, 0)(x), x - 1))
    v = R.randn(3)
    np.testing.assert_allclose(f(v, 1), 2 * v)
    np.testing.assert_allclose(f(v, 0), v - 1)


def test_gof_names_are_thx_graph_classes():
    assert theano.gof.Op is theano.Op and theano.gof.Apply is theano.Apply
    assert isinstance(T.dmatrix, theano.gof.Type)


class HostSigmoid(theano.Op):
    """The logistic function in NumPy, with a symbolic gradient built from the op itself."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = 1 / (1 + np.exp(-inputs[0]))

    def infer_shape(self, node, shapes):
        return shapes

    def grad(self, inputs, g):
        s = self(inputs[0])
        return [g[0] * s * (1 - s)]


def test_minibatch_sgd_through_givens_and_an_index_with_a_python_op_matches_numpy():
    rng = np.random.RandomState(0)
    n, d, bs = 120, 5, 20
    X, y = rng.randn(n, d), (rng.rand(n) > 0.5).astype("float64")
    data_x, data_y = theano.shared(X), theano.shared(y)
    w, b = theano.shared(np.zeros(d)), theano.shared(0.0)
    idx, x, t = T.lscalar("idx"), T.dmatrix("x"), T.dvector("t")
    p = HostSigmoid()(T.dot(x, w) + b)
    cost = -T.mean(t * T.log(p) + (1 - t) * T.log(1 - p))
    gw, gb = T.grad(cost, [w, b])
    train = theano.function([idx], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)],
                            givens={x: data_x[idx * bs:(idx + 1) * bs],
                                    t: data_y[idx * bs:(idx + 1) * bs]})
    wn, bn = np.zeros(d), 0.0
    for _ in range(2):
        for i in range(n // bs):
            xb, tb = X[i * bs:(i + 1) * bs], y[i * bs:(i + 1) * bs]
            pn = 1 / (1 + np.exp(-(xb @ wn + bn)))
            np.testing.assert_allclose(train(i), -np.mean(tb * np.log(pn) + (1 - tb) * np.log(1 - pn)),
                                       rtol=1e-12)
            g = (pn - tb) / bs
            wn, bn = wn - 0.5 * xb.T @ g, bn - 0.5 * g.sum()
    np.testing.assert_allclose(w.get_value(), wn, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.get_value(), bn, rtol=1e-12, atol=1e-15)
