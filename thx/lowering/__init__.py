"""Lowering: one optimized FunctionGraph -> one ``jax.jit`` function.

Each op family's JAX implementations live in the module named like the op's
module (``thx/tensor/elemwise.py`` <-> ``thx/lowering/elemwise.py``) and
register themselves in ``registry.JAX_IMPLS`` when imported; ``linker.py``
imports them all.  ``program.py`` is the slot interpreter every lowered graph
(a whole function, a scan step, an ifelse branch) runs through.
"""
