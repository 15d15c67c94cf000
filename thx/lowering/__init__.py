"""Lowering: one optimized FunctionGraph -> one ``jax.jit`` function.

Each op family's JAX implementations live in the module named like the op's
module (``thx/tensor/elemwise.py`` <-> ``thx/lowering/elemwise.py``) and
register themselves in ``registry.JAX_IMPLS`` when imported.  ``FAMILIES``
lists the modules imported before any graph is lowered.
"""

import importlib

FAMILIES = ["basic", "elemwise", "math", "subtensor", "gradient", "ifelse", "random", "scan", "printing",
            "conv", "pool"]


def load_families() -> None:
    """Import every lowering module so its implementations are registered."""
    for name in FAMILIES:
        importlib.import_module(f"thx.lowering.{name}")
