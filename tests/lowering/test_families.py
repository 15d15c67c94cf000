"""Each lowering family's basic behaviour against NumPy: one row per op, two runs per row.

Every row is compiled with thx (the JAX lowering) and also run by the ops' NumPy ``perform``
(``thx.graph.evaluate``); both must match the row's plain NumPy formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.ifelse import ifelse

from tests.oracle import (assert_close, check_against_numpy, check_grad_against_jax, numpy_eval,
                         symbolic_like)

RNG = np.random.RandomState(42)
VEC = RNG.uniform(-2, 2, 5)
VEC2 = RNG.uniform(0.5, 2, 5)
MAT = RNG.uniform(-1, 1, (3, 4))
MAT2 = RNG.uniform(-1, 1, (4, 2))
IDX = np.array([2, 0, 2], dtype="int64")


def _softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _set(a, idx, v, inc):
    out = a.copy()
    if inc:
        np.add.at(out, idx, v)
    else:
        out[idx] = v
    return out


@dataclass
class Row:
    family: str                     # the thx/lowering/<family>.py that lowers the op
    name: str
    build: Callable                 # thx variables -> output
    numpy: Callable                 # NumPy arrays -> expected output
    values: tuple

    @property
    def id(self) -> str:
        return f"{self.family}-{self.name}"


ROWS = [
    # elemwise: the scalar table, broadcasting, DimShuffle, casts
    Row("elemwise", "exp_log1p", lambda a: T.exp(a) + T.log1p(a ** 2),
        lambda a: np.exp(a) + np.log1p(a ** 2), (VEC,)),
    Row("elemwise", "broadcast", lambda m, v: m * v[:4] - 1, lambda m, v: m * v[:4] - 1, (MAT, VEC)),
    Row("elemwise", "dimshuffle", lambda m: m.dimshuffle(1, "x", 0), lambda m: m.T[:, None, :], (MAT,)),
    Row("elemwise", "switch", lambda a, b: T.switch(T.gt(a, 0), a, b),
        lambda a, b: np.where(a > 0, a, b), (VEC, VEC2)),
    Row("elemwise", "cast", lambda a: T.cast(a * 3, "int32"), lambda a: (a * 3).astype("int32"), (VEC,)),
    Row("elemwise", "int_division", lambda a: T.cast(a * 3, "int64") // 2,
        lambda a: (a * 3).astype("int64") // 2, (VEC,)),
    # math: reductions, dot, argmax
    Row("math", "sum_axis", lambda m: T.sum(m, axis=0), lambda m: m.sum(axis=0), (MAT,)),
    Row("math", "max_keepdims", lambda m: T.max(m, axis=1, keepdims=True),
        lambda m: m.max(axis=1, keepdims=True), (MAT,)),
    Row("math", "prod", lambda a: T.prod(a), lambda a: np.prod(a), (VEC2,)),
    Row("math", "mean", lambda m: T.mean(m, axis=1), lambda m: m.mean(axis=1), (MAT,)),
    Row("math", "argmax", lambda m: T.argmax(m, axis=1), lambda m: m.argmax(axis=1), (MAT,)),
    Row("math", "dot_mm", lambda a, b: T.dot(a, b), lambda a, b: a @ b, (MAT, MAT2)),
    Row("math", "dot_mv", lambda a, v: T.dot(a, v[:4]), lambda a, v: a @ v[:4], (MAT, VEC)),
    Row("math", "softmax", lambda m: T.nnet.softmax(m), _softmax, (MAT,)),
    # basic: shapes, joins, allocation
    Row("basic", "reshape", lambda m: m.reshape((2, 6)), lambda m: m.reshape(2, 6), (MAT,)),
    Row("basic", "flatten", lambda m: T.flatten(m), lambda m: m.reshape(-1), (MAT,)),
    Row("basic", "concatenate", lambda m: T.concatenate([m, m * 2], axis=1),
        lambda m: np.concatenate([m, m * 2], axis=1), (MAT,)),
    Row("basic", "stack", lambda a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]), (VEC, VEC2)),
    Row("basic", "alloc", lambda a: T.alloc(a[0], 2, 3), lambda a: np.full((2, 3), a[0]), (VEC,)),
    Row("basic", "shape", lambda m: m.shape, lambda m: np.array(m.shape), (MAT,)),
    Row("basic", "arange_of_shape", lambda m: T.arange(m.shape[1]) * 1.5,
        lambda m: np.arange(m.shape[1]) * 1.5, (MAT,)),
    # subtensor: basic and advanced indexing, set/inc
    Row("subtensor", "slice", lambda m: m[1:, ::2], lambda m: m[1:, ::2], (MAT,)),
    Row("subtensor", "negative_index", lambda a: a[-2], lambda a: a[-2], (VEC,)),
    Row("subtensor", "advanced", lambda m, i: m[i], lambda m, i: m[i], (MAT, IDX)),
    Row("subtensor", "set_subtensor", lambda a: T.set_subtensor(a[1:3], 0.5),
        lambda a: _set(a, slice(1, 3), 0.5, False), (VEC,)),
    Row("subtensor", "inc_advanced_repeated", lambda m, i: T.inc_subtensor(m[i], 1.0),
        lambda m, i: _set(m, i, 1.0, True), (MAT, IDX)),
    # ifelse: lazy choice between branches
    Row("ifelse", "ifelse", lambda a, b: ifelse(T.gt(a.sum(), 0), a * 2, b),
        lambda a, b: a * 2 if a.sum() > 0 else b, (VEC, VEC2)),
    Row("ifelse", "ifelse_other", lambda a, b: ifelse(T.gt(a.sum(), 100), a * 2, b), lambda a, b: b, (VEC, VEC2)),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_lowering_matches_numpy(row):
    check_against_numpy(row.build, row.numpy, row.values, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_perform_matches_numpy(row):
    xs = symbolic_like(row.values)
    (got,) = numpy_eval([row.build(*xs)], dict(zip(xs, row.values)))
    assert_close(got, row.numpy(*row.values), rtol=1e-12, atol=1e-12, what=row.id)


def test_random_streams_lower_to_the_requested_distribution():
    srng = T.shared_randomstreams.RandomStreams(seed=3)
    u = srng.uniform((4000,), low=-1.0, high=3.0)
    f = thx.function([], u)
    a, b = f(), f()
    assert a.shape == (4000,) and a.dtype == np.float64
    assert a.min() >= -1.0 and a.max() < 3.0 and not np.array_equal(a, b)  # the state advances
    assert abs(a.mean() - 1.0) < 0.1 and abs(a.var() - 16 / 12) < 0.1


def test_scan_lowers_to_the_same_loop_as_numpy():
    x = T.dvector("x")
    acc, _ = thx.scan(lambda v, s: s * 0.5 + v, sequences=x, outputs_info=T.constant(np.float64(0.0)))
    f = thx.function([x], acc)
    want, s = [], 0.0
    for v in VEC:
        s = s * 0.5 + v
        want.append(s)
    assert_close(f(VEC), np.array(want), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, np_fn", [
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))), ("softplus", lambda a: np.logaddexp(0, a)),
    ("exp", np.exp), ("tanh", np.tanh), ("log1p", np.log1p)])
def test_float_ops_on_int8_compute_in_float32_like_theano(name, np_fn):
    # Theano types a float op on int8 as float32; NumPy alone would compute it in float16
    fn = getattr(T.nnet, name, None) or getattr(T, name)
    b = T.bvector("b")
    out = fn(b)
    assert out.dtype == "float32"
    bv = np.array([2, 3, 7], dtype="int8")
    want = np_fn(bv.astype("float64"))
    (performed,) = numpy_eval([out], {b: bv})
    assert performed.dtype == np.float32
    assert_close(performed, want.astype("float32"), rtol=1e-6, atol=0, what=f"{name} perform")
    assert_close(thx.function([b], out)(bv), want.astype("float32"), rtol=1e-6, atol=0,
                 what=f"{name} lowering")


def test_gradients_through_each_family_match_jax_grad_of_plain_jax_numpy():
    # elemwise, math (dot, softmax, sum), subtensor and basic (concatenate) in one cost
    def thx_fn(a, m):
        h = T.nnet.softmax(T.tanh(T.dot(m, a[:4])).dimshuffle("x", 0))[0]
        return T.concatenate([h * a[1:4], T.exp(m[1, ::2])])

    def jax_fn(a, m):
        z = jnp.tanh(m @ a[:4])
        h = jnp.exp(z - z.max()) / jnp.sum(jnp.exp(z - z.max()))
        return jnp.concatenate([h * a[1:4], jnp.exp(m[1, ::2])])

    check_grad_against_jax(thx_fn, jax_fn, (VEC, MAT), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("key", [
    (slice(1, 3),), (slice(None, None, 2),), (2,), (-1, slice(1, None)), (slice(0, 4), 1),
    (slice(1, 5, 3), slice(None, None, 2)), (slice(3, 3),), (slice(-3, None), -2), (slice(1, 4), slice(0, 5)),
])
@pytest.mark.parametrize("setting", [False, True])
def test_static_box_updates_match_numpy(key, setting):
    # set/inc_subtensor with indices known while tracing lower without a scatter (pad + add, a
    # dynamic_update_slice or a select); the values must be NumPy's, broadcasting y included
    rng = np.random.RandomState(len(key))
    x = T.dmatrix("x")
    xv = rng.randn(5, 6)
    want = xv.copy()
    region = want[key]
    yv = rng.randn(*region.shape[1:]) if region.ndim else rng.randn()  # broadcast along the first axis
    y = T.TensorType("float64", (False,) * np.ndim(yv))("y")
    if setting:
        want[key] = yv
        out = T.set_subtensor(x[key], y)
    else:
        want[key] += yv
        out = T.inc_subtensor(x[key], y)
    np.testing.assert_allclose(thx.function([x, y], out)(xv, yv), want)
