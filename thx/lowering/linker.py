"""FunctionGraph -> one ``jax.jit`` function (the closure comes from ``program.py``).

``jit`` wraps the slot program of ``program.build_closure`` in ``jax.jit``
(or, for graphs with host barriers, ``segments.segmented_jit``); the op families
register themselves on the registry's first lookup.

float64 needs JAX's x64 mode.  thx enables it only around its own tracing
and calls (``jax.enable_x64(True)``, a scoped context), so a user's own
JAX code keeps whatever x64 setting they chose.  The call fast path switches
it with ``x64_swap``/``x64_restore`` (the same thread-local switch, cheaper).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import os

import jax

from thx.config import config
from thx.graph import errors
from thx.graph.fg import FunctionGraph
from thx.lowering.program import Plan, build_closure, plan, static_argnums  # noqa: F401 (re-exports)
from thx.lowering import device  # noqa: F401 (installs the shared variables' upload to the device)
from thx.lowering.memory import track
from thx.lowering.segments import compile_graph, donatable  # noqa: F401 (donatable: re-export)

x64 = jax.enable_x64


def _x64_switch(state: Any = jax.enable_x64) -> tuple[Callable[[bool], Any], Callable[[Any], None], bool]:
    """``(swap, restore, private)``: ``prev = swap(True)`` ... ``restore(prev)`` scopes x64 like
    ``with jax.enable_x64(True)``.

    The context manager builds an object per use (0.5 µs of a 8 µs scalar call); the
    thread-local state behind it (``jax._src.config.State``, private API) switches in
    0.1 µs with ``swap_local``/``set_local``, which is all ``__enter__``/``__exit__`` do
    when the flag has no thread-local hook.  Anything else (a JAX that changed) takes the
    public context manager; tests/compile/test_fastcall.py notices the change.
    """
    swap, restore = getattr(state, "swap_local", None), getattr(state, "set_local", None)
    if (callable(swap) and callable(restore) and hasattr(state, "_update_thread_local_hook")
            and state._update_thread_local_hook is None):
        return swap, restore, True

    def swap_public(on: bool) -> Any:
        cm = jax.enable_x64(on)
        cm.__enter__()
        return cm

    def restore_public(cm: Any) -> None:
        cm.__exit__(None, None, None)

    return swap_public, restore_public, False


x64_swap, x64_restore, X64_PRIVATE = _x64_switch()


def use_compilation_cache(path: str) -> None:
    """Point JAX's persistent compilation cache at ``path`` ('' leaves JAX's setting alone).

    Every compiled function is cached (no minimum compile time or size), so a
    second process running the same functions loads them instead of compiling.
    """
    if not path:
        return
    path = os.path.abspath(os.path.expanduser(path))
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    try:  # JAX reads the directory once, at its first compilation: make it read it again
        from jax._src import compilation_cache
        compilation_cache.reset_cache()
    except (ImportError, AttributeError):  # pragma: no cover - older/newer JAX
        pass


config.watch("compiledir", use_compilation_cache)


def jit(fgraph: FunctionGraph, backend: str | None = None,
        keep_on_failure: Sequence[tuple[int, int]] = (), donate: Sequence[int] = (),
        static: Sequence[int] = ()) -> tuple[Callable[..., tuple], tuple[int, ...]]:
    """Lower ``fgraph`` to a jitted function; returns ``(jitted, static_argnums)``.

    ``static``: input positions to specialise on besides those that decide a
    shape (``function(..., static_argnames=...)``).

    The function returns the graph's outputs, followed by a run-time check
    status ``(code, value)`` when its program makes checks (``checks.split_status``
    raises a failed one).  ``keep_on_failure`` pairs ``(output, input)``
    positions: a failed check returns that input unchanged as the output (an
    update whose input buffer is donated).  ``donate`` lists the input
    positions whose buffers the call may reuse for its outputs (updated shared
    variables); see ``segments.donatable``.  A graph with host barriers (until
    scans, ifelses whose branch shapes differ) runs as jitted segments around
    them (``segments.compile_graph``).
    """
    try:
        fn, statics = compile_graph(fgraph, backend, keep_on_failure, static, donate)
    except Exception as e:  # a node without a lowering, or whose lowering raised: name it
        raise errors.while_lowering(e) from None
    return track(fn), statics


def lower_text(jitted: Callable, args: Sequence[Any]) -> str:
    """The StableHLO text XLA receives for ``args``."""
    with x64(True):
        return jitted.lower(*args).as_text()
