"""Theano 1.0 top-level names real programs use (issue 12): scalar, config.warn, modes, clone,
change_flags, dot, function_dump, subgraph_grad, generic shared variables, Param, cut inputs."""

import functools
import os
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.scalar as scal
import thx.tensor as T
from thx.config import ConfigError, config


# ------------------------------------------------------------------ theano.scalar

def test_scalar_types_are_zero_d_tensors():
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "float32", "float64", "complex64", "complex128"):
        t = getattr(scal, name)
        assert t == T.TensorType(name, ()) and isinstance(t, scal.Scalar)
        assert scal.Scalar(name) is t
    assert not isinstance(T.TensorType("float64", (False,)), scal.Scalar)
    assert scal.float64("x").ndim == 0 and scal.float64("x").name == "x"
    assert scal.float_types == (scal.float16, scal.float32, scal.float64)
    assert scal.discrete_types[0] is scal.bool and scal.int32 in scal.integer_types


@pytest.mark.parametrize("dtypes", [("int8", "float32"), ("int32", "float32"), ("uint8", "int8"),
                                    ("int16", "uint16", "float16"), ("float32", "complex64"),
                                    ("bool", "int8"), ("uint64", "int64")])
def test_scalar_upcast_is_numpy_promotion(dtypes):
    # Theano accumulates left to right (z = z + zeros(dtype)), NumPy's pairwise promotion
    ref = functools.reduce(np.promote_types, [np.dtype(d) for d in dtypes]).name
    assert scal.upcast(*dtypes) == ref
    assert scal.Scalar.upcast(*[scal.get_scalar_type(d) for d in dtypes]) == ref


def test_as_scalar_and_constant():
    assert scal.as_scalar(3).eval() == 3
    x = T.dscalar("x")
    assert scal.as_scalar(x) is x
    with pytest.raises(TypeError, match="dimension"):
        scal.as_scalar(T.dvector("v"))
    c = scal.constant(2.5, dtype="float64")
    assert (c.dtype, c.ndim, float(c.value)) == ("float64", 0, 2.5)
    with pytest.raises(TypeError):
        scal.constant([1, 2])


def test_scalar_ops_apply_and_build_elemwise():
    a, b = scal.float64("a"), scal.float64("b")
    f = thx.function([a, b], [scal.add(a, b), scal.exp(a), scal.abs_(b), scal.maximum(a, b)])
    np.testing.assert_allclose(f(0.5, -2.0), [np.add(0.5, -2.0), np.exp(0.5), 2.0, 0.5], rtol=1e-15)
    x = T.dvector("x")
    e = T.Elemwise(scal.mul)(x, x)
    assert e.owner.op == T.mul.op and thx.pp(e) == "(x * x)"
    np.testing.assert_array_equal(e.eval({x: np.array([1.0, 3.0])}), [1.0, 9.0])
    assert pickle.loads(pickle.dumps(scal.add)) == scal.add


# ------------------------------------------------------------------ config.warn

THEANO_1_WARN_FLAGS = ["ignore_bug_before", "argmax_pushdown_bug", "gpusum_01_011_0111_bug",
                       "sum_sum_bug", "sum_div_dimshuffle_bug", "subtensor_merge_bug",
                       "gpu_set_subtensor1", "vm_gc_bug", "signal_conv2d_interface", "reduce_join",
                       "inc_set_subtensor1", "round", "inc_subtensor1_opt"]


def test_every_theano_warn_flag_exists_and_is_settable():
    for name in THEANO_1_WARN_FLAGS:
        assert getattr(config.warn, name) == getattr(config, "warn__" + name)
    assert sorted(dir(config.warn)) == sorted(THEANO_1_WARN_FLAGS)
    with config.change_flags(warn__sum_div_dimshuffle_bug=True):
        assert config.warn.sum_div_dimshuffle_bug is True
    config.warn.round = False
    try:
        assert config.warn__round is False and config.source("warn.round") == "code"
    finally:
        config.warn.round = True
    with pytest.raises(ConfigError):
        config.warn.round = "maybe"
    with pytest.raises(AttributeError):
        config.warn.no_such_bug


def test_warn_flags_from_theano_flags(tmp_path):
    import subprocess
    import sys
    code = "import thx; print(thx.config.warn.sum_div_dimshuffle_bug, thx.config.warn.round)"
    env = dict(os.environ, THEANO_FLAGS="warn__sum_div_dimshuffle_bug=True,warn.round=False")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.split() == ["True", "False"], out.stderr


# ------------------------------------------------------------------ modes

def test_predefined_modes_are_mode_objects():
    assert isinstance(thx.FAST_RUN, thx.Mode) and isinstance(thx.FAST_COMPILE, thx.Mode)
    assert thx.compile.FAST_RUN is thx.FAST_RUN
    assert thx.FAST_RUN.optimizer == "fast_run" and thx.FAST_COMPILE.optimizer == "fast_compile"
    assert thx.compile.get_default_mode() == thx.compile.mode.get_default_mode()
    assert thx.compile.get_default_mode().optimizer == config.optimizer
    with config.change_flags(mode="FAST_COMPILE"):
        assert thx.compile.get_default_mode().optimizer == "fast_compile"
    m = thx.FAST_RUN.excluding("canonicalize").including("stabilize").requiring("fast_run")
    assert isinstance(m, thx.Mode) and m != thx.FAST_RUN


def test_mode_objects_change_what_function_does():
    x = T.dscalar("x")
    expr = (x * 1) ** 1
    rewritten = thx.function([x], expr, mode=thx.FAST_RUN)
    assert rewritten.maker.fgraph.outputs[0] is rewritten.maker.fgraph.inputs[0]
    untouched = thx.function([x], expr, mode=thx.FAST_RUN.excluding("canonicalize", "specialize"))
    assert untouched.maker.fgraph.outputs[0].owner is not None
    assert untouched(3.0) == rewritten(3.0) == 3.0


# ------------------------------------------------------------------ clone, change_flags, dot

def test_clone_replaces_and_copies():
    x, y = T.dscalars("x", "y")
    z = T.exp(x) + x
    c = thx.clone(z, replace={x: y})
    assert thx.function([y], c)(0.5) == pytest.approx(np.exp(0.5) + 0.5)
    same = thx.clone(z)
    assert same is not z and same.owner is not z.owner and thx.pp(same) == thx.pp(z)
    from thx.graph.basic import ancestors
    assert x in set(ancestors([same]))  # inputs shared by default
    fresh = thx.clone([z], share_inputs=False)[0]
    assert x not in set(ancestors([fresh]))
    with pytest.raises(TypeError):
        thx.clone(z, replace={x: T.fscalar("f")})
    m = T.dmatrix("m")
    r = thx.clone(m.sum(), replace=[(m, T.TensorType("float64", (True, False))("row"))], strict=False)
    assert r.ndim == 0


def test_change_flags_context_and_decorator():
    before = config.floatX
    with thx.change_flags(floatX="float32"):
        assert config.floatX == "float32" and T.scalar().dtype == "float32"
    assert config.floatX == before

    @thx.change_flags({"warn.round": False}, print_constants="short")
    def inside():
        return config.warn.round, config.print_constants

    assert inside() == (False, "short")
    assert inside() == (False, "short")  # reusable
    assert config.warn.round is True and config.print_constants == "theano"


def test_dot_is_tensor_dot():
    a, b = T.dmatrices("a", "b")
    av, bv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(thx.dot(a, b).eval({a: av, b: bv}), av @ bv)


# ------------------------------------------------------------------ function_dump, subgraph_grad

def test_function_dump_round_trip(tmp_path):
    x = T.dvector("x")
    w = thx.shared(np.array([1.0, 2.0, 3.0]), name="w")
    path = str(tmp_path / "f.pkl")
    thx.function_dump(path, [x], (x * w).sum(), updates=[(w, w * 2)], name="dumped")
    with open(path, "rb") as fh:
        spec = pickle.load(fh)
    assert spec["name"] == "dumped" and set(spec) >= {"inputs", "outputs", "updates", "givens", "mode"}
    f = thx.function(**spec)
    assert f(np.ones(3)) == 6.0 and f(np.ones(3)) == 12.0  # the dumped shared value, then updated
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])  # the original is untouched
    with pytest.raises(TypeError):
        thx.function_dump(123, [x], x)


def test_subgraph_grad_chains_to_the_full_gradient():
    # oracle: jax.grad of the same two-layer computation
    x = T.dvector("x")
    w1, w2 = T.dmatrices("w1", "w2")
    h = T.tanh(T.dot(x, w1))
    cost = (T.dot(h, w2) ** 2).sum()
    (g2,), (gh,) = thx.subgraph_grad(wrt=[w2], end=[h], cost=cost)
    (g1,), (gx,) = thx.subgraph_grad(wrt=[w1], end=[x], start={h: gh})
    (g1b,), _, start_g, cost_g = thx.subgraph_grad(wrt=[w1], end=[x], start={h: gh}, cost=0 * w1.sum(),
                                                   details=True)
    assert len(start_g) == 2 and len(cost_g) == 2
    rng = np.random.RandomState(0)
    xv, w1v, w2v = rng.randn(3), rng.randn(3, 4), rng.randn(4, 2)
    out = thx.function([x, w1, w2], [g1, g2, gx, g1b])(xv, w1v, w2v)

    def ref(xa, a, b):
        return (jnp.dot(jnp.tanh(jnp.dot(xa, a)), b) ** 2).sum()

    with jax.enable_x64(True):
        jx, j1, j2 = jax.grad(ref, argnums=(0, 1, 2))(xv, w1v, w2v)
    for got, want in zip(out, [j1, j2, jx, j1]):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    assert thx.gradient.subgraph_grad is thx.subgraph_grad
    with pytest.raises(ValueError):
        thx.subgraph_grad([w1], [x])


# ------------------------------------------------------------------ generic shared, Param, cut inputs

def test_shared_of_any_python_object():
    obj = {"lr": 0.1, "layers": [3, 4]}
    s = thx.shared(obj, name="hyper")
    assert str(s.type) == "generic" and s.name == "hyper"
    got = s.get_value()
    assert got == obj and got is not obj
    got["lr"] = 5
    assert s.get_value()["lr"] == 0.1  # get_value copies
    assert s.get_value(borrow=True) is s.get_value(borrow=True)
    s.set_value("now a string")
    assert s.get_value() == "now a string"
    assert pickle.loads(pickle.dumps(s)).get_value() == "now a string"
    assert type(thx.shared(None)).__name__ == "GenericSharedVariable"
    assert thx.shared(np.zeros(2)).type == T.TensorType("float64", (False,))  # arrays unchanged


def test_param_with_default():
    x, y = T.dscalars("x", "y")
    p = thx.Param(y, default=10.0, name="yy", mutable=False, strict=False, allow_downcast=None,
                  implicit=False)
    assert p.default == 10.0 and p.name == "yy" and isinstance(p, thx.In)
    f = thx.function([x, p], x * y)
    assert f(2.0) == 20.0 and f(2.0, 3.0) == 6.0 and f(2.0, yy=4.0) == 8.0
    assert thx.compile.Param is thx.Param


def test_function_cuts_the_graph_at_intermediate_inputs():
    x = T.dvector("x")
    h = T.exp(x)
    h.name = "h"
    out = (h * 2).sum() + T.log(h).sum()
    f = thx.function([h], out)  # x is not needed: the graph is cut at h
    hv = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(f(hv), (hv * 2).sum() + np.log(hv).sum())
    assert f.maker.fgraph.inputs[0].owner is None and f.maker.fgraph.inputs[0].name == "h"
    g = thx.function([x, h], out + x.sum())  # both: x only feeds the explicit x.sum()
    np.testing.assert_allclose(g(np.ones(3), hv), (hv * 2).sum() + np.log(hv).sum() + 3)
    k = thx.function([thx.In(h, value=np.ones(2))], out)
    np.testing.assert_allclose(k(), 4.0)
