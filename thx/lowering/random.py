"""JAX lowering of thx/tensor/shared_randomstreams.py: ``RandomFunction`` -> ``jax.random``.

The generator state is threefry2x32 key data (two uint32).  Each draw
splits the key: one half becomes the new state (the node's first output),
the other one draws the sample, so a compiled function is a pure function
of the state and the numbers are reproducible from a seed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import as_int, is_concrete, register
from thx.tensor.shared_randomstreams import RandomFunction


def _uniform(key, shape, dtype, low, high):
    return jax.random.uniform(key, shape, dtype, minval=low, maxval=high)


def _normal(key, shape, dtype, avg, std):
    return avg + std * jax.random.normal(key, shape, dtype)


def _truncated_normal(key, shape, dtype, avg, std):
    return avg + std * jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)


def _binomial(key, shape, dtype, n, p):
    if is_concrete(n) and np.all(np.asarray(n) == 1):
        return jax.random.bernoulli(key, p, shape)
    return jnp.round(jax.random.binomial(key, n, p, shape))


def _random_integers(key, shape, dtype, low, high):
    return jax.random.randint(key, shape, low, jnp.asarray(high) + 1, dtype="int64")


def _choice(replace):
    def draw(key, shape, dtype, a, p):
        a = as_int(a, "choice: the population size a") if np.ndim(a) == 0 else a
        return jax.random.choice(key, a, shape, replace, None if np.shape(p)[0] == 0 else p)
    return draw


def _poisson(key, shape, dtype, lam):
    return jax.random.poisson(key, lam, shape, dtype="int64")


def _multinomial(key, shape, dtype, n, pvals):
    n = as_int(n, "multinomial: the number of draws n")
    k = np.shape(pvals)[-1]
    picks = jax.random.categorical(key, jnp.log(pvals), axis=-1, shape=(n,) + shape)
    return jax.nn.one_hot(picks, k, dtype="int64").sum(axis=0)


def _permutation(key, shape, dtype):
    # shape = size + (n,): one independent permutation of range(n) per entry of size
    *batch, n = shape
    keys = jax.random.split(key, int(np.prod(batch, dtype="int64")))
    perms = jax.vmap(lambda k: jax.random.permutation(k, n))(keys)
    return perms.reshape(shape)


_SAMPLERS = {
    "uniform": _uniform,
    "normal": _normal,
    "truncated_normal": _truncated_normal,
    "binomial": _binomial,
    "random_integers": _random_integers,
    "choice": _choice(True),
    "choice_without_replacement": _choice(False),
    "poisson": _poisson,
    "multinomial": _multinomial,
    "permutation": _permutation,
}


@register(RandomFunction, static_inputs=(1,))
def _random_function(op, node):
    draw = _SAMPLERS[op.dist]
    dtype = np.dtype(op.dtype)

    def impl(rng, size, *params):
        if not is_concrete(size):
            raise TypeError(f"{op}: the size of a random draw must be known when the function is "
                            f"compiled")
        shape = tuple(int(s) for s in np.asarray(size).reshape(-1))
        key = jax.random.wrap_key_data(jnp.asarray(rng, dtype="uint32"), impl="threefry2x32")
        new_key, sub = jax.random.split(key)
        sample = draw(sub, shape, dtype, *params)
        return jax.random.key_data(new_key), jnp.asarray(sample, dtype=dtype)

    return impl
