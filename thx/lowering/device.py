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


def device_put(value: np.ndarray, var: Any = None, private: bool = True) -> Any:
    """``value`` as a ``jax.Array`` on the selected device, or on the mesh for ``var``.

    ``private=False``: the caller keeps ``value`` and may write it after this returns.  On the
    CPU ``jax.device_put`` copies an array in the background (the copy is read after the call
    returns) or, for a 64-byte aligned one, keeps its memory; so this waits for the copy, and
    copies an array whose memory the device value would share.  One copy in all: ``shared(X)``
    of 150 MB took a NumPy copy and then the upload's (about 30 + 60 ms).
    """
    spec = getattr(var, "sharding", None)
    if spec is not None or sharding.active():
        if not private:
            value = value.copy()
        return sharding.place(value, spec, f"shared variable {getattr(var, 'name', None) or var}")
    with jax.enable_x64(True):
        out = jax.device_put(value, _device())
        if not private:
            if _shares_memory(out, value):
                out = jax.device_put(value.copy(), _device())
            else:
                out.block_until_ready()
        return out


def _shares_memory(out: jax.Array, value: np.ndarray) -> bool:
    """Whether device array ``out`` is held in ``value``'s memory (a zero-copy upload)."""
    try:
        p = out.unsafe_buffer_pointer()
    except Exception:  # not one buffer: cannot tell
        return True
    lo = value.__array_interface__["data"][0]
    return lo <= p < lo + max(value.nbytes, 1)


def private_copy(value: Any) -> Any:
    """A new device buffer holding ``value`` (a function may then donate it)."""
    with jax.enable_x64(True):
        return value.copy() if isinstance(value, jax.Array) else jax.device_put(value, _device())


def is_deleted(value: Any) -> bool:
    """Whether ``value`` is a device array whose buffer was donated to a call."""
    return isinstance(value, jax.Array) and value.is_deleted()


sharedvar.install_device_put(device_put, sharding.fetch)
