"""The lowering registry: op type -> JAX implementation.

An implementation is registered right after the op family it lowers (one
file per op module, mirroring ``thx/tensor/``).  It is a *factory*: called
once per Apply node with ``(op, node)``, it returns the function that maps
input values to the output value (or a tuple, for several outputs).  Doing
the per-op work (picking the jnp function, building index templates) in the
factory keeps the traced closure lean.

Values reaching an implementation are either JAX tracers or concrete NumPy
arrays: shapes are concrete while tracing, so shape arithmetic stays in
NumPy (``concrete(...)``), which lets ``reshape``/``arange``/``alloc`` see
real integers.  Inputs listed in ``static_inputs`` must be concrete; graph
inputs that reach them become static arguments of ``jax.jit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from thx.graph.basic import Apply
from thx.graph.op import Op, has_perform

Impl = Callable[..., Any]
ImplFactory = Callable[[Op, Apply], Impl]

JAX_IMPLS: dict[type[Op], ImplFactory] = {}
STATIC_INPUTS: dict[type[Op], Callable[[Apply], tuple[int, ...]]] = {}
# op type -> predicate(node): the nodes of a lowered op that still run their perform on the host
# (a sparse product whose operands are both sparse: its output's size depends on the values)
HOST_NODES: dict[type[Op], Callable[[Apply], bool]] = {}
# Families imported on the first lookup of an op from a package (a heavy import: thx.sparse
# loads SciPy's sparse module), not with the others: op package prefix -> family name.
LAZY_FAMILIES: dict[str, str] = {"thx.sparse": "sparse"}
_lazy_loaded: set[str] = set()
# Passes run by program.plan on each graph before lowering it; each returns a graph (a copy if it
# changes anything), e.g. moving work only one ifelse branch needs into it (lowering/ifelse.py).
LOWERING_PASSES: list[Callable[[Any], Any]] = []


def register(*op_types: type[Op], static_inputs: Callable[[Apply], tuple[int, ...]] | tuple[int, ...] | None = None,
             host_if: Callable[[Apply], bool] | None = None):
    """Decorator: register an implementation factory for ``op_types``.

    Parameters
    ----------
    static_inputs : tuple of int or callable(node) -> tuple of int, optional
        Input positions whose values must be known while tracing (shapes, sizes).
    host_if : callable(node) -> bool, optional
        The nodes this factory does not lower: they run their ``perform`` on the host.
    """

    def deco(factory: ImplFactory) -> ImplFactory:
        for t in op_types:
            JAX_IMPLS[t] = factory
            if host_if is not None:
                HOST_NODES[t] = host_if
            if static_inputs is not None:
                STATIC_INPUTS[t] = (static_inputs if callable(static_inputs)
                                    else (lambda node, s=tuple(static_inputs): s))
        return factory

    return deco


_loaded = False


def ensure_loaded() -> None:
    """Import the op families (``thx.lowering.FAMILIES``) once, before the first lookup.

    The registry knows the families by name only (a plugin list): they import
    the registry to register, not the other way round.
    """
    global _loaded
    if not _loaded:
        from thx.lowering import load_families
        load_families()
        _loaded = True


def _lookup(table: dict, op: Op):
    module = type(op).__module__
    for prefix, family in LAZY_FAMILIES.items():
        if family not in _lazy_loaded and module.startswith(prefix):
            _lazy_loaded.add(family)
            import importlib
            importlib.import_module(f"thx.lowering.{family}")
    for cls in type(op).__mro__:
        if cls in table:
            return table[cls]
    return None


def jax_impl(op: Op, node: Apply) -> Impl:
    """The JAX function computing ``node``: its op class's factory or, for a class without one,
    the ``Op`` fallback of ``thx/lowering/perform.py`` (its ``perform`` on the host; an op with
    no ``perform`` either raises NotImplementedError naming the op)."""
    ensure_loaded()
    if node is not None and host_node(node):
        return JAX_IMPLS[Op](op, node)
    return _lookup(JAX_IMPLS, op)(op, node)


def host_node(node: Apply) -> bool:
    """True if ``node``'s op is lowered but this node runs its ``perform`` on the host
    (``register(..., host_if=)``)."""
    ensure_loaded()
    pred = _lookup(HOST_NODES, node.op)
    return bool(pred is not None and pred(node))


def lowered_by_perform(op: Op) -> bool:
    """True if ``op`` has no JAX lowering of its own and runs its NumPy ``perform`` instead (a
    user's Python op: ``thx/lowering/perform.py``, registered for the base class ``Op``)."""
    ensure_loaded()
    return _lookup(JAX_IMPLS, op) is JAX_IMPLS[Op] and has_perform(op)


def runs_on_host(op: Op) -> bool:
    """True if a node of ``op`` at the top level of a function runs between jitted segments:
    a host barrier (``op.host_barrier``: a run-time output length) or a Python op."""
    return bool(getattr(op, "host_barrier", False)) or lowered_by_perform(op)


def static_inputs(node: Apply) -> tuple[int, ...]:
    ensure_loaded()
    f = _lookup(STATIC_INPUTS, node.op)
    return f(node) if f is not None else ()


def is_concrete(*values: Any) -> bool:
    """True if every value is a NumPy array/scalar or a Python number (known while tracing)."""
    for v in values:
        if not isinstance(v, (np.ndarray, np.generic, int, float, bool, complex)):
            return False
    return True


# Concrete values (NumPy while tracing) at most this large are computed on the host; a larger
# result is computed by staged JAX operations instead, so that it is not embedded in the program
# as a constant (an ``eye(500)`` or a ``tril`` mask made a 2 MB literal that XLA took a second to
# compile).  Shapes and sizes, what must stay concrete, are far smaller.
HOST_VALUE_LIMIT = 4096


def small_enough_for_host(shape: Any) -> bool:
    """Whether a concrete result of ``shape`` is computed in NumPy while tracing (see
    ``HOST_VALUE_LIMIT``)."""
    return int(np.prod(shape, dtype=np.int64)) <= HOST_VALUE_LIMIT


def as_int(v: Any, what: str = "value") -> int:
    """A concrete integer from a traced-time value, with a clear error if it is symbolic."""
    if not is_concrete(v):
        raise ConcretizationError(
            f"{what} must be known when the function is compiled (it sets a shape or a loop "
            f"length), but it depends on a non-static input")
    return int(np.asarray(v))


class ConcretizationError(TypeError):
    """A shape or size depends on a value only known at run time."""
