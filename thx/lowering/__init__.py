"""Lowering: one optimized FunctionGraph -> one ``jax.jit`` function.

Each op family's JAX implementations live in the module named like the op's
module (``thx/tensor/elemwise.py`` <-> ``thx/lowering/elemwise.py``) and
register themselves in ``registry.JAX_IMPLS`` when imported.  ``FAMILIES``
names them; the registry imports them all on its first lookup
(``registry.ensure_loaded``), so importing a lowering module has no other
side effect.  ``program.py`` is the slot interpreter every lowered graph (a
whole function, a scan step, an ifelse branch) runs through.
"""

import importlib

FAMILIES = ["basic", "shape", "elemwise", "math", "subtensor", "gradient", "ifelse", "random", "scan",
            "printing", "conv", "pool"]


def load_families() -> None:
    """Import every lowering module so its implementations are registered."""
    for name in FAMILIES:
        importlib.import_module(f"thx.lowering.{name}")
