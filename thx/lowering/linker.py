"""FunctionGraph -> one ``jax.jit`` function (the closure comes from ``program.py``).

``jit`` wraps the slot program of ``program.build_closure`` in ``jax.jit``
(or, for graphs with host barriers, ``scan.segmented_jit``); the op families
register themselves on the registry's first lookup.

float64 needs JAX's x64 mode.  thx enables it only around its own tracing
and calls (``jax.enable_x64(True)``, a scoped context), so a user's own
JAX code keeps whatever x64 setting they chose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import os

import jax

from thx.config import config
from thx.graph.fg import FunctionGraph
from thx.lowering.checks import checked
from thx.lowering.compiles import counted
from thx.lowering.program import Plan, build_closure, plan, static_argnums  # noqa: F401 (re-exports)
from thx.lowering.scan import segmented_jit
from thx.lowering import device  # noqa: F401 (installs the shared variables' upload to the device)
from thx.lowering.memory import track

x64 = jax.enable_x64


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

    The jitted function returns the graph's outputs, followed by a run-time
    check status ``(code, value)`` when its program makes checks
    (``checks.split_status`` raises a failed one).  ``keep_on_failure``
    pairs ``(output, input)`` positions: a failed check returns that input
    unchanged as the output (an update whose input buffer is donated).
    ``donate`` lists the input positions whose buffers the call may reuse
    for its outputs (updated shared variables); see ``donatable``.
    """
    if any(getattr(n.op, "host_barrier", False) for n in fgraph.apply_nodes):
        # until-scans: jitted segments around them
        return track(segmented_jit(fgraph, backend)), static_argnums(fgraph)
    run = checked(build_closure(fgraph), keep_on_failure)  # + (code, value) if it makes checks
    statics = tuple(sorted(set(static_argnums(fgraph)) | set(static)))
    run, counter = counted(run, [v.name or f"input {k}" for k, v in enumerate(fgraph.inputs)], statics)
    kwargs: dict[str, Any] = {}
    if backend is not None:
        kwargs["backend"] = backend
    donate = donatable(fgraph, donate, statics)
    if donate:
        kwargs["donate_argnums"] = donate
    jitted = track(jax.jit(run, static_argnums=statics, **kwargs))
    jitted.trace_counter = counter  # read by Function.n_compiles and thx.compile.stats()
    return jitted, statics


def donatable(fgraph: FunctionGraph, donate: Sequence[int], statics: Sequence[int]) -> tuple[int, ...]:
    """The positions of ``donate`` that may really be donated.

    Not a static argument, not an input returned unchanged as an output (its
    buffer would be both freed and returned), and only on a platform whose
    runtime implements donation.  (A program with run-time checks returns
    the old values as its updates when a check fails, so a failed call still
    changes nothing: ``checks.checked``'s ``keep_on_failure``.)
    """
    if not donate or not _donation_supported():
        return ()
    outs = set(fgraph.outputs)
    return tuple(k for k in donate if k not in statics and fgraph.inputs[k] not in outs)


def _donation_supported() -> bool:
    try:
        return jax.default_backend() in ("cpu", "gpu", "cuda", "rocm", "tpu")
    except RuntimeError:  # pragma: no cover
        return False


def lower_text(jitted: Callable, args: Sequence[Any]) -> str:
    """The StableHLO text XLA receives for ``args``."""
    with x64(True):
        return jitted.lower(*args).as_text()
