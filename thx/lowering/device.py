"""Where shared values live: upload to the device selected by ``config.device``, installed as the
hook ``thx.tensor.sharedvar`` calls (the tensor floor imports no JAX).

Uploads run under the scoped x64 switch, so a float64 value stays float64.  When the flags
describe a mesh (``mesh``, ``data_parallel``) or the variable has a ``sharding``, the value
becomes a global array laid out over the mesh (``sharding.place``; replicated by default).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from thx.config import config
from thx.lowering import sharding
from thx.tensor import sharedvar

__all__ = ["device_put", "private_copy", "is_deleted"]


def _device() -> Any:
    """The first device of the platform ``config.device`` names (None: JAX's default device)."""
    dev = config.device
    if dev == "cpu":
        return None
    platform = "tpu" if dev.startswith("tpu") else "cuda" if dev.startswith(("cuda", "gpu")) else dev
    try:
        return jax.devices(platform)[0]
    except RuntimeError:  # the error naming the missing platform comes when a function compiles
        return None


def device_put(value: np.ndarray, var: Any = None) -> Any:
    """``value`` as a ``jax.Array`` on the selected device, or on the mesh for ``var`` (one copy)."""
    spec = getattr(var, "sharding", None)
    if spec is not None or sharding.active():
        return sharding.place(value, spec, f"shared variable {getattr(var, 'name', None) or var}")
    with jax.enable_x64(True):
        return jax.device_put(value, _device())


def private_copy(value: Any) -> Any:
    """A new device buffer holding ``value`` (a function may then donate it)."""
    with jax.enable_x64(True):
        return value.copy() if isinstance(value, jax.Array) else jax.device_put(value, _device())


def is_deleted(value: Any) -> bool:
    """Whether ``value`` is a device array whose buffer was donated to a call."""
    return isinstance(value, jax.Array) and value.is_deleted()


sharedvar.install_device_put(device_put, sharding.fetch)
