"""How a call reads and writes shared variables: locks taken in one order, donation, retries.

A call of a function with updates holds the locks of all the shared
variables it reads or writes (and its own lock when ``In`` containers are
updated), taken in creation order so two functions never deadlock, for the
whole read-call-store: no update is lost between threads and no call sees
another's half-stored updates.  The bucketed call (``buckets.BucketCalls``) goes through the
same ``call_updating`` with its padded function.  ``get_value``/``set_value`` take the same
per-variable lock.  A function without updates takes no lock.

The buffers of updated shared variables are donated to the jitted call (the
new value is written in place).  A buffer some other object also holds (a
clone, an internal value handed out, a concurrent reader) is copied first, so
only memory no one else sees is reused; a reader whose value was donated
under it by a concurrent update simply reads again (``retry_read``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from thx.tensor import sharedvar

__all__ = ["init", "call_updating", "retry_read"]


def donated(n_explicit: int, shared_vars: list, updates: list) -> tuple[int, ...]:
    """Input positions of the updated shared variables: their old buffers may hold the new
    values (donation)."""
    return tuple(n_explicit + shared_vars.index(v) for v, _ in updates)


def init(f: Any) -> None:
    """Upload Function ``f``'s shared values; give it its lock, the ordered locks its updating
    calls take and what it donates."""
    for s in f._shared:
        s._to_device()
    f._lock = threading.Lock()
    f._order = next(sharedvar._ORDER)
    lockers = list(f._shared) if f._has_updates else []
    if f.maker.in_update_pos:
        lockers.append(f)
    # a variable and its clones share one container, hence one (non-reentrant) lock: take it once
    locks = [o._lock for o in sorted(lockers, key=lambda o: o._order)]
    f._locks = list({id(lock): lock for lock in locks}.values())
    n = f._n_in
    f._donated = [k - n for k in getattr(f.maker, "donate", ())]


def call_updating(f: Any, vals: list, fn: Any = None, statics: Any = None,
                  n_fg_out: int | None = None) -> tuple:
    """Read the shared values, call, store the updates: atomic for the variables ``f`` touches.

    ``vals``: the explicit arguments (static ones converted).  ``fn``, ``statics``, ``n_fg_out``:
    the jitted function called (``f.jax_fn``), the converter of its shared static arguments
    (``f._st``) and its number of graph outputs; the bucketed call passes its padded function's
    (whose extra true-length outputs come after the updates).
    """
    if fn is None:
        fn, statics, n_fg_out = f.jax_fn, f._st, f._n_fg_out
    locks = f._locks
    for lock in locks:
        lock.acquire()
    try:
        if f._shared:
            svals = [s._value for s in f._shared]
            for k in f._donated:
                # Someone else holds this buffer: donate a private copy instead.  (3 = the
                # variable's reference, svals' and getrefcount's argument.)
                if sys.getrefcount(svals[k]) > 3:
                    svals[k] = _private_copy(svals[k])
            vals += svals
            if statics.shared_positions:  # shared integers that are static arguments
                vals = statics.shared(vals)
        with _x64(True):
            outs = fn(*vals)
        n_out = f._n_out
        n_upd = len(f._update_targets)
        for var, v in zip(f._update_targets, outs[n_out:n_out + n_upd]):
            var._set_internal(v)
        n_in_upd = len(f.maker.in_update_pos)
        for k, v in zip(f.maker.in_update_pos, outs[n_out + n_upd:n_out + n_upd + n_in_upd]):
            f._containers[k] = v
        # A failed run-time check raises now, after the store: its update outputs hold the old
        # values (checks.checked's keep_on_failure), which puts the donated buffers' contents back.
        if len(outs) > n_fg_out:
            outs = _split_status(outs, n_fg_out)
    finally:
        for lock in reversed(locks):
            lock.release()
    return outs


def retry_read(f: Any, vals: list, error: Exception, wrap: Callable, fn: Any = None,
               n_lead: int | None = None, statics: Any = None) -> tuple:
    """A call failed with ``error``.  When it has no updates and a concurrent update had donated
    a value it read, read the shared values again and retry; otherwise raise ``wrap(f, error,
    arguments)`` (the thx error naming the function).

    ``vals``: the arguments of the failed call, the shared values last.  ``fn``, ``n_lead``,
    ``statics``: the jitted function, the number of arguments before the shared values and the
    converter of shared static arguments (default ``f.jax_fn``, ``f._n_in``, ``f._st``; the
    bucketed call passes its padded function's, whose true lengths precede the shared values).
    """
    n = f._n_in if n_lead is None else n_lead
    fn = f.jax_fn if fn is None else fn
    statics = f._st if statics is None else statics
    while not f._has_updates and f._shared and any(_is_deleted(v) for v in vals[n:]):
        vals[n:] = [s._value for s in f._shared]
        vals = statics.shared(vals) if statics.shared_positions else vals
        try:
            with _x64(True):
                return fn(*vals)
        except Exception as e:
            error = e
    msg = getattr(error, "thx_runtime_check", None)
    if msg is not None:  # a run-time check failed (while tracing: JAX noted it, drop that)
        raise type(error)(msg) from None
    raise wrap(f, error, vals[:f._n_in]) from error


def _split_status(outs: tuple, n: int) -> tuple:
    from thx.lowering.checks import split_status
    return split_status(outs, n)


# JAX helpers, imported on first use (compile loads lowering lazily: `import thx` imports no JAX)
def _x64(on: bool):
    global _x64
    from thx.lowering.linker import x64
    _x64 = x64
    return x64(on)


def _private_copy(v: Any) -> Any:
    global _private_copy
    from thx.lowering.device import private_copy
    _private_copy = private_copy
    return private_copy(v)


def _is_deleted(v: Any) -> bool:
    global _is_deleted
    from thx.lowering.device import is_deleted
    _is_deleted = is_deleted
    return is_deleted(v)
