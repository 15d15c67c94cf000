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

import numpy as np


def _import_jax_keeping_numpy_rng():
    """Import JAX without advancing NumPy's global random generator.

    JAX draws from ``numpy.random`` while it is imported, and thx imports it lazily at the
    first compilation, so a script that seeds NumPy, compiles, then shuffles its data would see
    a different order than under Theano (which never touches the global generator).
    """
    state = np.random.get_state()
    try:
        import jax  # noqa: F401  (cached in sys.modules for every later import)
    finally:
        np.random.set_state(state)


_import_jax_keeping_numpy_rng()

FAMILIES = ["basic", "shape", "elemwise", "math", "subtensor", "gradient", "ifelse", "random", "scan",
            "printing", "conv", "pool", "sharding", "nanguard", "extra_ops", "data_sized",
            "sort", "diagonal", "nlinalg", "slinalg", "op_from_graph", "neighbours", "fft", "perform"]


def load_families() -> None:
    """Import every lowering module so its implementations are registered."""
    for name in FAMILIES:
        importlib.import_module(f"thx.lowering.{name}")
