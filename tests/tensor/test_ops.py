"""Every op of thx.tensor, driven from one table of op specs.

Each row gives the thx expression, the NumPy reference, the same math in
jax.numpy, the inputs, and which inputs to differentiate.  Each op gets a
value test (vs NumPy) and a gradient test (vs jax.grad and vs finite
differences of the NumPy reference).  A new op is tested by adding a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax.numpy as jnp
import numpy as np
import pytest
import math

import thx.tensor as T
from tests.oracle import assert_close, finite_diff, jax_grads, projection, thx_value_and_grads

R = np.random.RandomState(1234)


def U(lo, hi, shape=(3, 4)):
    return R.uniform(lo, hi, size=shape)


@dataclass
class Spec:
    name: str
    build: Callable
    ref: Callable
    jref: Callable
    inputs: list
    grad: tuple = (0,)
    rtol: float = 1e-6
    fd: bool = True
    extra: dict = field(default_factory=dict)


def _un(name, np_fn, j_fn, lo=-2.0, hi=2.0, grad=(0,)):
    return Spec(name, getattr(T, name), np_fn, j_fn, [U(lo, hi)], grad)


def away_from_int(shape=(3, 4)):
    return np.round(U(-3, 3, shape)) + U(0.2, 0.4, shape)


SPECS: list[Spec] = [
    _un("exp", np.exp, jnp.exp),
    _un("log", np.log, jnp.log, 0.5, 3),
    _un("log1p", np.log1p, jnp.log1p, -0.5, 3),
    _un("expm1", np.expm1, jnp.expm1),
    _un("sqrt", np.sqrt, jnp.sqrt, 0.5, 3),
    _un("sqr", np.square, jnp.square),
    _un("abs_", np.abs, jnp.abs, 0.2, 2),
    Spec("abs_neg", T.abs_, np.abs, jnp.abs, [U(-2, -0.2)]),
    _un("sgn", np.sign, jnp.sign),
    _un("neg", np.negative, jnp.negative),
    _un("sin", np.sin, jnp.sin),
    _un("cos", np.cos, jnp.cos),
    _un("tan", np.tan, jnp.tan, -1, 1),
    _un("tanh", np.tanh, jnp.tanh),
    _un("arcsin", np.arcsin, jnp.arcsin, -0.9, 0.9),
    _un("arccos", np.arccos, jnp.arccos, -0.9, 0.9),
    _un("arctan", np.arctan, jnp.arctan),
    _un("sinh", np.sinh, jnp.sinh),
    _un("cosh", np.cosh, jnp.cosh),
    _un("arctanh", np.arctanh, jnp.arctanh, -0.9, 0.9),
    _un("arcsinh", np.arcsinh, jnp.arcsinh),
    _un("arccosh", np.arccosh, jnp.arccosh, 1.2, 3),
    _un("log2", np.log2, jnp.log2, 0.5, 3),
    _un("log10", np.log10, jnp.log10, 0.5, 3),
    _un("exp2", np.exp2, jnp.exp2),
    _un("erf", np.vectorize(math.erf), lambda x: __import__("jax").scipy.special.erf(x)),
    _un("erfc", np.vectorize(math.erfc), lambda x: __import__("jax").scipy.special.erfc(x)),
    Spec("floor", T.floor, np.floor, jnp.floor, [away_from_int()]),
    Spec("ceil", T.ceil, np.ceil, jnp.ceil, [away_from_int()]),
    Spec("round", T.round, np.round, jnp.round, [away_from_int()]),
    Spec("trunc", T.trunc, np.trunc, jnp.trunc, [away_from_int()]),
    _un("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda x: 1 / (1 + jnp.exp(-x)), -5, 5),
    _un("softplus", lambda x: np.log1p(np.exp(x)), lambda x: jnp.log1p(jnp.exp(x)), -5, 5),
    Spec("nnet.sigmoid", T.nnet.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: 1 / (1 + jnp.exp(-x)),
         [U(-3, 3)]),
    # binary, with broadcasting of a row against a matrix
    Spec("add", lambda a, b: a + b, np.add, jnp.add, [U(-2, 2), U(-2, 2, (4,))], (0, 1)),
    Spec("sub", lambda a, b: a - b, np.subtract, jnp.subtract, [U(-2, 2), U(-2, 2)], (0, 1)),
    Spec("mul", lambda a, b: a * b, np.multiply, jnp.multiply, [U(-2, 2), U(-2, 2, (4,))], (0, 1)),
    Spec("mul3", lambda a, b, c: T.mul(a, b, c), lambda a, b, c: a * b * c, lambda a, b, c: a * b * c,
         [U(-2, 2), U(-2, 2), U(-2, 2)], (0, 1, 2)),
    Spec("true_div", lambda a, b: a / b, np.divide, jnp.divide, [U(-2, 2), U(0.5, 2)], (0, 1)),
    Spec("pow", lambda a, b: a ** b, np.power, jnp.power, [U(0.5, 2), U(-2, 2)], (0, 1)),
    Spec("pow_const", lambda a: a ** 3, lambda a: a ** 3, lambda a: a ** 3, [U(-2, 2)]),
    Spec("rpow", lambda a: 2 ** a, lambda a: 2.0 ** a, lambda a: 2.0 ** a, [U(-2, 2)]),
    Spec("maximum", T.maximum, np.maximum, jnp.maximum, [U(-2, 2), U(-2, 2)], (0, 1)),
    Spec("minimum", T.minimum, np.minimum, jnp.minimum, [U(-2, 2), U(-2, 2)], (0, 1)),
    Spec("arctan2", T.arctan2, np.arctan2, jnp.arctan2, [U(-2, 2), U(0.5, 2)], (0, 1)),
    Spec("xlogx", T.xlogx.xlogx, lambda x: x * np.log(x), lambda x: x * jnp.log(x), [U(0.2, 3)]),
    Spec("xlogy0", T.xlogx.xlogy0, lambda x, y: x * np.log(y), lambda x, y: x * jnp.log(y),
         [U(-2, 2), U(0.2, 3)], (0, 1)),
    Spec("mod", lambda a, b: a % b, np.mod, jnp.mod, [U(0.1, 5), U(1.1, 2)], (0,)),
    Spec("int_div", lambda a, b: a // b, np.floor_divide, jnp.floor_divide,
         [R.randint(-9, 9, (3, 4)), R.randint(1, 4, (3, 4))], ()),
    Spec("lt", T.lt, np.less, jnp.less, [U(-1, 1), U(-1, 1)], ()),
    Spec("gt", T.gt, np.greater, jnp.greater, [U(-1, 1), U(-1, 1)], ()),
    Spec("le", T.le, np.less_equal, jnp.less_equal, [U(-1, 1), U(-1, 1)], ()),
    Spec("ge", T.ge, np.greater_equal, jnp.greater_equal, [U(-1, 1), U(-1, 1)], ()),
    Spec("eq", T.eq, np.equal, jnp.equal, [R.randint(0, 3, (3, 4)), R.randint(0, 3, (3, 4))], ()),
    Spec("neq", T.neq, np.not_equal, jnp.not_equal, [R.randint(0, 3, (3, 4)), R.randint(0, 3, (3, 4))], ()),
    Spec("switch", lambda c, a, b: T.switch(T.gt(c, 0), a, b), lambda c, a, b: np.where(c > 0, a, b),
         lambda c, a, b: jnp.where(c > 0, a, b), [U(-1, 1), U(-2, 2), U(-2, 2)], (1, 2)),
    Spec("clip", lambda a: T.clip(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
         lambda a: jnp.clip(a, -0.5, 0.7), [np.array([-1.3, -0.2, 0.1, 0.5, 0.9, 1.7])]),
    Spec("cast", lambda a: T.cast(a, "float32"), lambda a: a.astype("float32"),
         lambda a: a.astype("float32"), [U(-2, 2)], (0,), rtol=1e-6, fd=False),
    Spec("fill", lambda a, b: T.fill(a, b), lambda a, b: np.broadcast_to(b, a.shape),
         lambda a, b: jnp.broadcast_to(b, a.shape), [U(-2, 2), U(-2, 2, ())], (1,)),
    Spec("round_away", lambda a: T.round(a, "half_away_from_zero"), lambda a: np.sign(a) * np.floor(np.abs(a) + 0.5),
         lambda a: jnp.sign(a) * jnp.floor(jnp.abs(a) + 0.5), [np.array([-2.5, -0.5, 0.5, 1.5, 2.2])], ()),
    Spec("round_away_grad", lambda a: T.round(a, "half_away_from_zero"),
         lambda a: np.sign(a) * np.floor(np.abs(a) + 0.5), lambda a: jnp.sign(a) * jnp.floor(jnp.abs(a) + 0.5),
         [away_from_int()]),
    Spec("isnan", T.isnan, np.isnan, jnp.isnan, [np.array([0.0, np.nan, np.inf])], ()),
    Spec("isinf", T.isinf, np.isinf, jnp.isinf, [np.array([0.0, np.nan, -np.inf])], ()),
    Spec("and_or_xor", lambda a, b: (a & b) | (a ^ b), lambda a, b: (a & b) | (a ^ b),
         lambda a, b: (a & b) | (a ^ b), [R.randint(0, 8, (5,)), R.randint(0, 8, (5,))], ()),
    Spec("invert", lambda a: ~a, np.invert, jnp.invert, [np.array([True, False])], ()),
    # reductions
    Spec("sum", T.sum, np.sum, jnp.sum, [U(-2, 2)]),
    Spec("sum_axis0", lambda a: T.sum(a, axis=0), lambda a: np.sum(a, 0), lambda a: jnp.sum(a, 0), [U(-2, 2)]),
    Spec("sum_keepdims", lambda a: T.sum(a, axis=1, keepdims=True), lambda a: np.sum(a, 1, keepdims=True),
         lambda a: jnp.sum(a, 1, keepdims=True), [U(-2, 2)]),
    Spec("prod", lambda a: T.prod(a, axis=1), lambda a: np.prod(a, 1), lambda a: jnp.prod(a, 1), [U(0.5, 2)]),
    Spec("prod_zeros", lambda a: T.prod(a, axis=1), lambda a: np.prod(a, 1), lambda a: jnp.prod(a, 1),
         [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 4.0]])], fd=True),
    Spec("mean", lambda a: T.mean(a, axis=0), lambda a: np.mean(a, 0), lambda a: jnp.mean(a, 0), [U(-2, 2)]),
    Spec("var", lambda a: T.var(a, axis=1), lambda a: np.var(a, 1), lambda a: jnp.var(a, 1), [U(-2, 2)]),
    Spec("std", T.std, np.std, jnp.std, [U(-2, 2)]),
    Spec("max", lambda a: T.max(a, axis=1), lambda a: np.max(a, 1), lambda a: jnp.max(a, 1), [U(-2, 2)]),
    Spec("min", T.min, np.min, jnp.min, [U(-2, 2)]),
    Spec("argmax", lambda a: T.argmax(a, axis=1), lambda a: np.argmax(a, 1), lambda a: jnp.argmax(a, 1),
         [U(-2, 2)], ()),
    Spec("argmin", lambda a: T.argmin(a), lambda a: np.argmin(a), lambda a: jnp.argmin(a), [U(-2, 2)], ()),
    # dot family
    Spec("dot_mm", T.dot, np.dot, jnp.dot, [U(-1, 1, (3, 4)), U(-1, 1, (4, 2))], (0, 1)),
    Spec("dot_vm", T.dot, np.dot, jnp.dot, [U(-1, 1, (4,)), U(-1, 1, (4, 2))], (0, 1)),
    Spec("dot_mv", T.dot, np.dot, jnp.dot, [U(-1, 1, (3, 4)), U(-1, 1, (4,))], (0, 1)),
    Spec("dot_vv", T.dot, np.dot, jnp.dot, [U(-1, 1, (4,)), U(-1, 1, (4,))], (0, 1)),
    Spec("tensordot", lambda a, b: T.tensordot(a, b, [[1, 2], [0, 1]]),
         lambda a, b: np.tensordot(a, b, [[1, 2], [0, 1]]), lambda a, b: jnp.tensordot(a, b, [[1, 2], [0, 1]]),
         [U(-1, 1, (2, 3, 4)), U(-1, 1, (3, 4, 2))], (0, 1)),
    Spec("outer", T.outer, np.outer, jnp.outer, [U(-1, 1, (3,)), U(-1, 1, (4,))], (0, 1)),
    # shape ops
    Spec("reshape", lambda a: a.reshape((2, 6)), lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), [U(-1, 1)]),
    Spec("reshape_neg", lambda a: T.reshape(a, (-1, 2)), lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2),
         [U(-1, 1)]),
    Spec("flatten", lambda a: T.flatten(a), lambda a: a.reshape(-1), lambda a: a.reshape(-1), [U(-1, 1, (2, 3, 2))]),
    Spec("flatten2", lambda a: a.flatten(2), lambda a: a.reshape(2, -1), lambda a: a.reshape(2, -1),
         [U(-1, 1, (2, 3, 2))]),
    Spec("dimshuffle", lambda a: a.dimshuffle(1, "x", 0), lambda a: a.T[:, None, :],
         lambda a: a.T[:, None, :], [U(-1, 1)]),
    Spec("transpose", lambda a: a.T, lambda a: a.T, lambda a: a.T, [U(-1, 1)]),
    Spec("transpose_axes", lambda a: T.transpose(a, (1, 2, 0)), lambda a: np.transpose(a, (1, 2, 0)),
         lambda a: jnp.transpose(a, (1, 2, 0)), [U(-1, 1, (2, 3, 4))]),
    Spec("concatenate", lambda a, b: T.concatenate([a, b], axis=1), lambda a, b: np.concatenate([a, b], 1),
         lambda a, b: jnp.concatenate([a, b], 1), [U(-1, 1, (3, 2)), U(-1, 1, (3, 4))], (0, 1)),
    Spec("join", lambda a, b: T.join(0, a, b), lambda a, b: np.concatenate([a, b], 0),
         lambda a, b: jnp.concatenate([a, b], 0), [U(-1, 1, (2, 4)), U(-1, 1, (3, 4))], (0, 1)),
    Spec("stack", lambda a, b: T.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1),
         lambda a, b: jnp.stack([a, b], 1), [U(-1, 1), U(-1, 1)], (0, 1)),
    Spec("stack_scalars", lambda a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]),
         lambda a, b: jnp.stack([a, b]), [U(-1, 1, ()), U(-1, 1, ())], (0, 1)),
    Spec("zeros_like", lambda a: T.zeros_like(a) + a, lambda a: a, lambda a: a, [U(-1, 1)]),
    Spec("ones_like", lambda a: T.ones_like(a) * a, lambda a: a, lambda a: a, [U(-1, 1)]),
    Spec("zeros", lambda a: T.zeros((3, 4)) + a, lambda a: a, lambda a: a, [U(-1, 1)]),
    Spec("ones", lambda a: T.ones(a.shape) * a, lambda a: a, lambda a: a, [U(-1, 1)]),
    Spec("alloc", lambda a: T.alloc(a, 2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
         lambda a: jnp.broadcast_to(a, (2, 3, 4)), [U(-1, 1, (4,))]),
    Spec("arange", lambda a: T.arange(5) * a, lambda a: np.arange(5) * a, lambda a: jnp.arange(5) * a,
         [U(-1, 1, ())]),
    Spec("shape", lambda a: T.cast(a.shape[0] * a.shape[1], "float64") * a,
         lambda a: a.shape[0] * a.shape[1] * a, lambda a: a.shape[0] * a.shape[1] * a, [U(-1, 1)]),
    # indexing
    Spec("subtensor_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], lambda a: a[1:, ::2], [U(-1, 1)]),
    Spec("subtensor_int", lambda a: a[1, -1], lambda a: a[1, -1], lambda a: a[1, -1], [U(-1, 1)]),
    Spec("subtensor_neg_step", lambda a: a[::-1], lambda a: a[::-1], lambda a: a[::-1], [U(-1, 1)]),
    Spec("subtensor_newaxis", lambda a: a[:, None, 1], lambda a: a[:, None, 1], lambda a: a[:, None, 1],
         [U(-1, 1)]),
    Spec("advanced", lambda a: a[[0, 2, 2]], lambda a: a[[0, 2, 2]], lambda a: a[jnp.array([0, 2, 2])],
         [U(-1, 1)]),
    Spec("advanced_mixed", lambda a: a[:, [3, 0]], lambda a: a[:, [3, 0]], lambda a: a[:, jnp.array([3, 0])],
         [U(-1, 1)]),
    Spec("set_subtensor", lambda a, b: T.set_subtensor(a[1:3], b),
         lambda a, b: _np_set(a, slice(1, 3), b), lambda a, b: a.at[1:3].set(b),
         [U(-1, 1), U(-1, 1, (2, 4))], (0, 1)),
    Spec("inc_subtensor", lambda a, b: T.inc_subtensor(a[:, 1], b),
         lambda a, b: _np_inc(a, (slice(None), 1), b), lambda a, b: a.at[:, 1].add(b),
         [U(-1, 1), U(-1, 1, (3,))], (0, 1)),
    Spec("advanced_inc", lambda a, b: T.inc_subtensor(a[[0, 0, 2]], b),
         lambda a, b: _np_add_at(a, [0, 0, 2], b), lambda a, b: a.at[jnp.array([0, 0, 2])].add(b),
         [U(-1, 1), U(-1, 1, (3, 4))], (0, 1)),
    Spec("advanced_set", lambda a, b: T.set_subtensor(a[[2, 0]], b),
         lambda a, b: _np_set(a, [2, 0], b), lambda a, b: a.at[jnp.array([2, 0])].set(b),
         [U(-1, 1), U(-1, 1, (2, 4))], (0, 1)),
    Spec("set_full_range", lambda a, b: T.set_subtensor(a[:], b)[::-1] * 2,
         lambda a, b: np.broadcast_to(b, a.shape)[::-1] * 2, lambda a, b: jnp.broadcast_to(b, a.shape)[::-1] * 2,
         [U(-1, 1), U(-1, 1, (4,))], (0, 1)),
    # nnet
    Spec("softmax", T.nnet.softmax, lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True),
         lambda a: __import__("jax").nn.softmax(a, axis=-1), [U(-2, 2)]),
    Spec("logsoftmax", T.logsoftmax, lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True)),
         lambda a: __import__("jax").nn.log_softmax(a, axis=-1), [U(-2, 2)]),
    Spec("relu", T.nnet.relu, lambda a: np.maximum(a, 0), lambda a: jnp.maximum(a, 0), [U(0.1, 1) * np.sign(U(-1, 1))]),
]


def _np_set(a, idx, b):
    a = a.copy()
    a[idx] = b
    return a


def _np_inc(a, idx, b):
    a = a.copy()
    a[idx] += b
    return a


def _np_add_at(a, idx, b):
    a = a.copy()
    np.add.at(a, idx, b)
    return a


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_value_and_gradient(spec: Spec) -> None:
    value, grads = thx_value_and_grads(spec.build, spec.inputs, spec.grad)
    expected = spec.ref(*spec.inputs)
    assert_close(value, expected, rtol=spec.rtol, what=f"{spec.name} value")
    if not spec.grad:
        return
    proj = projection(np.shape(value))
    jg = jax_grads(spec.jref, spec.inputs, proj, spec.grad)
    for k, g, j in zip(spec.grad, grads, jg):
        assert_close(g, j, rtol=1e-6, atol=1e-8, what=f"{spec.name} grad[{k}] vs jax.grad")
        if spec.fd:
            fd = finite_diff(spec.ref, spec.inputs, proj, k)
            assert_close(g, fd, rtol=1e-4, atol=1e-5, what=f"{spec.name} grad[{k}] vs finite differences")


def test_every_op_has_a_row() -> None:
    """Each scalar op of the elementwise table is exercised by some row (value or gradient)."""
    from thx.tensor.elemwise import SCALAR_OPS
    built = set()
    for spec in SPECS:
        out = spec.build(*[T.as_tensor_variable(v) for v in spec.inputs])
        from thx.graph.basic import io_toposort
        for node in io_toposort([], [out]):
            if hasattr(node.op, "scalar_op"):
                built.add(node.op.scalar_op.name)
    untested = set(SCALAR_OPS) - built - {"identity"}
    assert not untested, f"ops without a test row: {sorted(untested)}"


def test_pp_forms_of_theano_printers():
    from thx import pp
    x, i = T.dvector('x'), T.ivector('i')
    assert pp(abs(x)) == '|x|'
    assert pp(i & i) == 'and_(i, i)'
    assert pp(-x) == '(-x)'
    assert pp(T.gt(x, 0.5)) == 'gt(x, TensorConstant{0.5})'
    assert pp(T.dot(x, T.dmatrix('W'))) == '(x \\dot W)'
