"""The one checker every test uses: compare thx against an independent oracle.

* values against NumPy,
* gradients against ``jax.grad`` of the same math written in ``jax.numpy``,
* gradients against central finite differences of the NumPy reference,
* R/L operators against ``jax.jvp`` / ``jax.vjp``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np

import thx
import thx.tensor as T


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


def numpy_eval(outputs, givens: dict):
    """Evaluate a graph with the ops' NumPy ``perform`` (an oracle independent of JAX)."""
    from thx.graph.basic import Constant, io_toposort
    values = dict(givens)
    for node in io_toposort(list(givens), outputs):
        ins = [values[i] if i in values else np.asarray(i.data) for i in node.inputs]
        storage = [[None] for _ in node.outputs]
        node.op.perform(node, ins, storage)
        for o, s in zip(node.outputs, storage):
            values[o] = s[0]
    return [values[o] if o in values else np.asarray(o.data) for o in outputs]


def scaled_allclose(actual, expected, rtol: float, atol: float) -> bool:
    """Same shape and close, ``atol`` scaled by ``1 + max|expected|`` (NaN equals NaN).

    For results of long random computations, where the absolute rounding error
    grows with the magnitude of the values involved.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = 1.0 + float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol * scale, equal_nan=True))
