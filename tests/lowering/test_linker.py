"""The linker: a FunctionGraph becomes one ``jax.jit`` function with the right static arguments."""

import jax
import jax.numpy as jnp
import numpy as np

import thx
import thx.tensor as T
from thx.graph.fg import FunctionGraph
from thx.lowering.linker import jit, static_argnums


def _fg(inputs, outputs):
    return FunctionGraph(list(inputs), list(outputs))


def test_an_integer_scalar_that_sets_a_shape_is_a_static_argument():
    n, k = T.iscalars("n", "k")
    x = T.dvector("x")
    fg = _fg([x, n, k], [T.zeros((n * 2,)) + x[0] + T.cast(k, "float64")])
    # n sets a shape (through n * 2); k only flows into values, x is an array
    assert static_argnums(fg) == (1,)
    fn, statics = jit(fg)
    assert statics == (1,)
    with jax.enable_x64(True):
        (out,) = fn(np.array([1.5]), 2, np.int32(3))
    np.testing.assert_array_equal(np.asarray(out), np.full(4, 4.5))


def test_a_shape_read_from_an_array_input_needs_no_static_argument():
    x = T.dvector("x")
    fg = _fg([x], [T.zeros((x.shape[0],)) + 1.0])
    assert static_argnums(fg) == ()
    fn, _ = jit(fg)
    with jax.enable_x64(True):
        (out,) = fn(np.arange(3.0))
    np.testing.assert_array_equal(np.asarray(out), np.ones(3))


def test_a_compiled_function_gives_new_static_values_new_shapes():
    n = T.iscalar("n")
    f = thx.function([n], T.arange(n) * 2)
    np.testing.assert_array_equal(f(3), np.arange(3) * 2)
    np.testing.assert_array_equal(f(5), np.arange(5) * 2)


def test_the_whole_graph_is_one_xla_program_in_float64():
    x = T.dvector("x")
    f = thx.function([x], T.exp(x).sum() * 2)
    text = f.lower_text(np.zeros(3))
    assert "f64" in text and "exponential" in text
    np.testing.assert_allclose(f(np.array([0.0, 1.0, 2.0])), 2 * np.exp([0.0, 1.0, 2.0]).sum())


def test_float64_is_enabled_only_around_thx_calls():
    # thx scopes JAX's x64 mode to its own calls: the user's setting is unchanged afterwards
    before = jax.config.jax_enable_x64
    x = T.dscalar("x")
    assert thx.function([x], x * 2)(1.25) == 2.5
    assert jax.config.jax_enable_x64 == before
    assert jnp.zeros(1).dtype == (jnp.float64 if before else jnp.float32)


def test_jitted_function_composes_with_jax_grad_against_plain_jax():
    x = T.dvector("x")
    f = thx.function([x], T.sum(T.tanh(x) ** 2))
    xv = np.array([0.1, -0.7, 1.3])
    with jax.enable_x64(True):
        got = jax.grad(lambda v: f.jax_fn(v)[0])(jnp.asarray(xv))
        want = jax.grad(lambda v: jnp.sum(jnp.tanh(v) ** 2))(jnp.asarray(xv))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)
