"""Every op class thx defines has a JAX lowering; every elementwise table row names a JAX function."""

import importlib
import pkgutil

import jax
import numpy as np
import pytest

import thx
from thx.graph.op import Op
from thx.lowering import load_families
from thx.lowering.elemwise import jax_function
from thx.lowering.registry import JAX_IMPLS
from thx.tensor.elemwise import SCALAR_OPS, bitwise_out, cast_scalar_op, switch_out

# Shared shells: never instantiated themselves, each subclass has its own lowering.
SHELLS = {"thx.tensor.math.CAReduce", "thx.tensor.math._AccumulatingReduce",
          "thx.tensor.softmax._LastAxisOp", "thx.tensor.subtensor._ReadIndex",
          "thx.tensor.subtensor._WriteIndex", "thx.tensor.nnet.abstract_conv.BaseAbstractConv",
          "thx.tensor.signal.pool.PoolBase", "thx.tensor.signal.pool.PoolGrad"}


def _import_all_thx() -> None:
    for mod in pkgutil.walk_packages(thx.__path__, "thx."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    load_families()


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def _thx_op_classes() -> dict[str, type]:
    _import_all_thx()
    return {f"{c.__module__}.{c.__qualname__}": c for c in _subclasses(Op)
            if c.__module__.startswith("thx.")}


def test_every_concrete_op_has_a_lowering():
    classes = _thx_op_classes()
    assert len(classes) > 30  # the walk found the ops (guards against a broken import walk)
    missing = [name for name, c in sorted(classes.items())
               if name not in SHELLS and not any(k in JAX_IMPLS for k in c.__mro__)]
    assert not missing, f"ops without a JAX lowering (register one in thx/lowering/): {missing}"


def test_shells_are_still_shells():
    # a stale entry in SHELLS would hide an op: each must exist and have thx subclasses
    classes = _thx_op_classes()
    for name in SHELLS:
        assert name in classes, f"{name} is no longer an op class: drop it from SHELLS"
        assert any(n != name and issubclass(c, classes[name]) for n, c in classes.items()), name


def _sample_inputs(so) -> list[np.ndarray]:
    n = 3 if so.nin == -1 else so.nin
    if so.out_dtype is bitwise_out:
        return [np.array([0, 3, 5, 6], dtype="int64") + k for k in range(n)]
    if so.out_dtype is switch_out:
        return [np.array([True, False, True, False]), np.array([0.2, 0.4, 0.6, 0.8]),
                np.array([-1.0, -2.0, -3.0, -4.0])]
    base = np.array([0.2, 0.45, 0.7, 0.95])
    if so.name == "arccosh":
        base = base + 1.5
    return [base + 0.1 * k for k in range(n)]


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_scalar_row_jax_function_matches_its_numpy_function(name):
    so = SCALAR_OPS[name]
    fn = jax_function(so)
    assert callable(fn)
    ins = _sample_inputs(so)
    with jax.enable_x64(True):
        got = np.asarray(fn(*[jax.numpy.asarray(i) for i in ins]))
    want = np.asarray(so.numpy(*ins))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.astype(want.dtype), want, rtol=1e-12, atol=1e-12)


def test_cast_row_jax_function():
    so = cast_scalar_op("int32")
    with jax.enable_x64(True):
        got = np.asarray(jax_function(so)(jax.numpy.asarray([1.7, -2.2])))
    assert got.dtype == np.int32 and got.tolist() == [1, -2]
