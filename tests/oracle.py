"""The one checker every test uses: compare thx against an independent oracle.

* values against NumPy: a plain NumPy formula, or the graph run by
  ``thx.graph.evaluate`` (each op's NumPy ``perform``, no JAX involved),
* gradients against ``jax.grad`` of the same math written in plain ``jax.numpy``,
* gradients against central finite differences of the NumPy reference,
* R/L operators against ``jax.jvp`` / ``jax.vjp``,
* rewrites: the rewritten graph against NumPy (``check_rewrite``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

import thx
import thx.tensor as T
from thx.graph.evaluate import evaluate
from thx.graph.fg import FunctionGraph
from thx.rewriting import optimize


def symbolic_like(values: Sequence[np.ndarray], names: str = "abcdefgh") -> list:
    """Fresh thx variables with the dtype and rank of each value."""
    return [T.TensorType(str(np.asarray(v).dtype), (False,) * np.ndim(v))(names[i])
            for i, v in enumerate(values)]


def projection(shape, seed: int = 0) -> np.ndarray:
    """A fixed random projection turning an output into a scalar cost."""
    return np.random.RandomState(seed).uniform(0.5, 1.5, size=shape)


def jax_grads(jax_fn: Callable, values: Sequence[np.ndarray], proj: np.ndarray,
              argnums: Sequence[int]) -> list[np.ndarray]:
    """``jax.grad`` of ``sum(proj * jax_fn(*values))`` w.r.t. ``argnums``."""
    import jax.numpy as jnp
    with jax.enable_x64(True):
        def cost(*args):
            return jnp.sum(jnp.asarray(proj) * jax_fn(*args))
        gs = jax.grad(cost, argnums=tuple(argnums))(*[jnp.asarray(v) for v in values])
        return [np.asarray(g) for g in gs]


def finite_diff(np_fn: Callable, values: Sequence[np.ndarray], proj: np.ndarray, k: int,
                eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``sum(proj * np_fn(*values))`` w.r.t. argument ``k``."""
    vals = [np.array(v, dtype="float64") if i == k else v for i, v in enumerate(values)]
    x = vals[k]
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        fp = np.sum(proj * np_fn(*vals))
        flat[j] = orig - eps
        fm = np.sum(proj * np_fn(*vals))
        flat[j] = orig
        gflat[j] = (fp - fm) / (2 * eps)
    return g


def thx_value_and_grads(build: Callable, values: Sequence[np.ndarray], argnums: Sequence[int],
                        mode=None):
    """Compile ``build(*vars)`` and its projected gradient in one function; return (value, grads)."""
    xs = symbolic_like(values)
    out = build(*xs)
    value_fn = thx.function(xs, out, mode=mode, on_unused_input="ignore")
    value = value_fn(*values)
    if not argnums:
        return value, []
    proj = projection(np.shape(value))
    cost = T.sum(T.constant(proj) * out)
    grads = T.grad(cost, [xs[k] for k in argnums])
    g_fn = thx.function(xs, grads, mode=mode, on_unused_input="ignore")
    return value, g_fn(*values)


def assert_close(actual, expected, rtol: float = 1e-6, atol: float = 1e-8, what: str = "") -> None:
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def numpy_eval(outputs: Sequence, givens: dict) -> list:
    """Evaluate a graph with the ops' NumPy ``perform`` (``thx.graph.evaluate``), JAX-free.

    Given values are cast to their variable's dtype; floating-point warnings are silenced
    (random graphs divide by zero on purpose).
    """
    givens = {k: np.asarray(v, dtype=k.dtype) for k, v in givens.items()}
    with np.errstate(all="ignore"):
        return evaluate(list(outputs), givens)


def optimized(inputs: Sequence, outputs: Sequence, mode: Any = "FAST_RUN",
              on_error: str = "raise") -> FunctionGraph:
    """A FunctionGraph of ``outputs`` rewritten by ``mode`` (errors in rewrites raise).

    ``fg.applied`` holds how many times each rewrite applied.
    """
    fg = FunctionGraph(list(inputs), list(outputs))
    fg.applied = optimize(fg, mode, on_error=on_error)
    return fg


def check_rewrite(inputs: Sequence, outputs: Sequence, values: Sequence, mode: Any = "FAST_RUN",
                  reference: Callable | None = None, rtol: float = 1e-7,
                  atol: float = 1e-12) -> FunctionGraph:
    """Rewrite ``outputs`` with ``mode`` and check the rewritten graph against NumPy; return it.

    ``reference(*values)`` is a plain NumPy formula giving the expected output(s); when it is
    omitted the reference is the unrewritten graph run by its ops' NumPy ``perform``.  The
    rewritten graph must give the same dtype and shape, and close values.
    """
    fg = optimized(inputs, outputs, mode)
    got = numpy_eval(fg.outputs, dict(zip(fg.inputs, values)))
    if reference is not None:
        with np.errstate(all="ignore"):
            want = reference(*values)
        want = list(want) if isinstance(want, (list, tuple)) else [want]
    else:
        want = numpy_eval(outputs, dict(zip(inputs, values)))
    assert len(want) == len(got)
    for w, g, o in zip(want, got, outputs):
        w = np.asarray(w, dtype=o.dtype) if reference is not None else np.asarray(w)
        g = np.asarray(g)
        assert g.dtype == w.dtype, (o, g.dtype, w.dtype)
        assert g.shape == w.shape, (o, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    return fg


def check_against_numpy(build: Callable, np_fn: Callable, values: Sequence[np.ndarray],
                        mode: Any = None, rtol: float = 1e-7, atol: float = 1e-12) -> None:
    """Compile ``build(*vars)`` with thx and compare its value with ``np_fn(*values)``."""
    xs = symbolic_like(values)
    f = thx.function(xs, build(*xs), mode=mode, on_unused_input="ignore")
    got = f(*values)
    with np.errstate(all="ignore"):
        want = np_fn(*values)
    if isinstance(got, list):
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, rtol=rtol, atol=atol, what=f"output {k}")
    else:
        assert_close(got, want, rtol=rtol, atol=atol, what="output")


def check_grad_against_jax(build: Callable, jax_fn: Callable, values: Sequence[np.ndarray],
                           argnums: Sequence[int] | None = None, mode: Any = None,
                           rtol: float = 1e-7, atol: float = 1e-10) -> None:
    """thx's value and gradient of ``build`` against ``jax_fn`` and ``jax.grad`` of it.

    ``jax_fn`` is the same math written in plain ``jax.numpy`` (never thx's own lowering);
    both outputs are projected to a scalar cost by the same fixed random ``projection``.
    """
    argnums = list(range(len(values))) if argnums is None else list(argnums)
    value, grads = thx_value_and_grads(build, values, argnums, mode=mode)
    with jax.enable_x64(True):
        want = np.asarray(jax_fn(*[jax.numpy.asarray(v) for v in values]))
    assert_close(value, want, rtol=rtol, atol=atol, what="value")
    proj = projection(np.shape(value))
    for k, g, w in zip(argnums, grads, jax_grads(jax_fn, values, proj, argnums)):
        assert_close(g, w, rtol=rtol, atol=atol, what=f"gradient w.r.t. argument {k}")


def scaled_allclose(actual, expected, rtol: float, atol: float) -> bool:
    """Same shape and close, ``atol`` scaled by ``1 + max|expected|`` (NaN equals NaN).

    For results of long random computations, where the absolute rounding error
    grows with the magnitude of the values involved.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = 1.0 + float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol * scale, equal_nan=True))
