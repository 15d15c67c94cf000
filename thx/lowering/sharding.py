"""Meshes and shardings on the JAX side: the mesh the flags describe, placing and gathering values.

thx describes where data lives and lets JAX do the rest: ``mesh()`` builds a
``jax.sharding.Mesh`` from ``config.mesh`` over the devices in order,
``place`` uploads a shared value with a ``NamedSharding`` (a global
``jax.Array``, also across processes), ``constrain`` is the lowering of a
sharding annotation in a graph (``jax.lax.with_sharding_constraint``), and
XLA's SPMD partitioner inserts every collective.  ``fetch`` turns a global
array into the whole NumPy array on every process (``get_value``).

``config.cpu_devices`` is applied here (``jax_num_cpu_devices``): JAX reads it
once, when its backend starts, so it must be set before the first computation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from thx.config import config
from thx.lowering.registry import register
from thx.tensor.sharding import ShardTo

__all__ = ["ShardingError", "active", "mesh", "describe", "check", "named", "place", "fetch",
           "adopt", "constrain", "use_cpu_devices"]

Spec = Sequence[Any]  # per dimension: a mesh axis name, a tuple of names, or None


class ShardingError(ValueError):
    """A sharding that does not fit: an unknown mesh axis, a wrong rank, an indivisible dimension."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.thx_runtime_check = message  # raised while tracing: reaches the user unwrapped


def use_cpu_devices(n: int) -> None:
    """Make JAX's CPU backend start with ``n`` devices (0: leave JAX's setting alone)."""
    if not n:
        return
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:  # the backend already started
        have = len(jax.devices("cpu"))
        if have != n:
            warnings.warn(f"thx: cpu_devices={n} was set after JAX's CPU backend started with "
                          f"{have} device(s); it takes effect in a new process (set it in "
                          f"THX_FLAGS or .thxrc)", stacklevel=3)


config.watch("cpu_devices", use_cpu_devices)


def active() -> bool:
    """Whether the flags ask for a mesh (``mesh`` or ``data_parallel``)."""
    return bool(config.mesh) or bool(config.data_parallel)


def describe() -> str:
    """The mesh in the flags' spelling: ``config.mesh``, or ``data:<all devices>``."""
    return config.mesh or f"data:{len(jax.devices())}"


_MESHES: dict[tuple[str, int], Mesh] = {}


def mesh() -> Mesh:
    """The ``jax.sharding.Mesh`` the flags describe, over the first devices in order.

    Without a ``mesh`` flag it is one axis, ``data``, over all devices (what
    ``data_parallel=True`` alone means).
    """
    desc = describe()
    devices = jax.devices()
    key = (desc, len(devices))
    m = _MESHES.get(key)
    if m is None:
        axes = [(name, int(size)) for name, size in (a.split(":") for a in desc.split(","))]
        size = math.prod(s for _, s in axes)
        if size > len(devices):
            raise ShardingError(
                f"mesh={desc} needs {size} devices but JAX has {len(devices)} "
                f"({devices[0].platform}); on a CPU, set cpu_devices={size} (THX_FLAGS) to "
                f"simulate them, or run more processes (thx run --processes N)")
        grid = np.empty(size, dtype=object)
        grid[:] = devices[:size]
        m = _MESHES[key] = Mesh(grid.reshape([s for _, s in axes]), tuple(n for n, _ in axes))
    return m


def _axes(entry: Any) -> tuple[str, ...]:
    if entry is None:
        return ()
    return tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)


def check(spec: Spec, shape: Sequence[int], what: str) -> None:
    """Raise ``ShardingError`` naming ``what`` unless ``spec`` fits ``shape`` on the mesh."""
    m = mesh()
    if len(spec) != len(shape):
        raise ShardingError(f"sharding {tuple(spec)} of {what} names {len(spec)} dimension(s), "
                            f"but its shape {tuple(shape)} has {len(shape)}")
    for d, (entry, n) in enumerate(zip(spec, shape)):
        size = 1
        for axis in _axes(entry):
            if axis not in m.shape:
                raise ShardingError(f"sharding {tuple(spec)} of {what} names mesh axis {axis!r}, "
                                    f"which the mesh {describe()} does not have")
            size *= m.shape[axis]
        if n % size:
            raise ShardingError(
                f"{what} of shape {tuple(shape)} cannot be sharded {tuple(spec)} over the mesh "
                f"{describe()}: dimension {d} (size {n}) does not divide by {size}, the size of "
                f"mesh axis {entry!r}")


def named(spec: Spec) -> NamedSharding:
    """``NamedSharding(mesh(), PartitionSpec(*spec))``."""
    return NamedSharding(mesh(), PartitionSpec(*(tuple(e) if isinstance(e, list) else e
                                                 for e in spec)))


def place(value: np.ndarray, spec: Spec | None, what: str) -> jax.Array:
    """``value`` as a global ``jax.Array`` laid out by ``spec`` (None: replicated) on the mesh.

    Every process passes the whole value and keeps the pieces its devices hold.
    """
    spec = (None,) * value.ndim if spec is None else tuple(spec)
    check(spec, value.shape, what)
    with jax.enable_x64(True):
        return jax.make_array_from_callback(value.shape, named(spec), lambda idx: value[idx])


def fetch(value: Any) -> Any:
    """A global array some of whose pieces live in other processes as the whole NumPy array;
    any other value unchanged."""
    if not isinstance(value, jax.Array) or value.is_fully_addressable:
        return value
    if value.is_fully_replicated:
        return np.asarray(value.addressable_data(0))
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


def adopt(var: Any) -> None:
    """Move shared variable ``var``'s device value onto the mesh if it lives elsewhere (it was
    uploaded before the flags described a mesh, or for another mesh)."""
    v = var._value
    if not isinstance(v, jax.Array):
        return
    if isinstance(v.sharding, NamedSharding) and v.sharding.mesh == mesh():
        return
    with var._lock:
        var._value = place(np.asarray(fetch(v)), var.sharding, f"shared variable {var.name or var}")


def constrain(x: Any, spec: Spec, what: str) -> Any:
    """``x`` (while tracing) laid out by ``spec``: XLA reshards it and propagates from it."""
    check(spec, np.shape(x), what)
    return jax.lax.with_sharding_constraint(x, named(spec))


@register(ShardTo)
def _shard_to(op: ShardTo, node: Any):
    """``ShardTo``: ``jax.lax.with_sharding_constraint`` to the op's layout."""
    return lambda x: constrain(x, op.spec, op.what)
