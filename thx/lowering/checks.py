"""Run-time checks inside jitted code: a condition found while tracing, raised on the host after the call.

An op's JAX implementation calls ``runtime_check(bad, exc_type, message)``
while the program is being traced.  A concrete ``bad`` (known while
tracing) raises ``exc_type(message)`` at once.  A traced one is collected
by the innermost ``collecting()`` context: the collector folds all its
checks into one *status*, a pair of scalars ``(code, value)``: ``code`` is 0
when every check passed, else the global number of the first failing
check's ``(exc_type, message)``; ``value`` is the integer given with it
(e.g. the offending index).  The status leaves the jitted function as two
extra outputs (``checked``), and the host raises with ``raise_status``.

Inner programs keep their own collector and hand their status outwards
(``emit_status``): a ``lax.scan`` or ``vmap`` step returns its status as a
per-step output, reduced after the loop with ``first_failure``; an ifelse
branch returns it from ``lax.cond``; an ``until`` loop and the segments of
a segmented program raise it on the host between their calls.

A check made with no collector active (a bare ``program.build_closure``
jitted by a tool) is not reported: code that wants its checks opens a
``collecting()`` context around its tracing, as every thx path does.

Messages are static strings; ``{}`` in a message is replaced by the
``value`` returned with the failing check.  A check also records where it was
made (``_where``): the Apply node whose implementation made it, its inputs'
types and shapes, and the scan or ifelse nodes holding it; the host's error
adds Theano's report of that node (``thx/graph/errors.py``) after the message.

Examples
--------
>>> import jax
>>> def f(i):
...     runtime_check(i > 2, IndexError, "index {} is too large", i)
...     return (i * 2,)
>>> g = jax.jit(checked(f))
>>> with jax.enable_x64(True):
...     out = g(5)
>>> len(out)        # the output, then the status (code, value)
3
>>> split_status(out, 1)
Traceback (most recent call last):
...
IndexError: index 5 is too large
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from thx.graph import errors
from thx.lowering.registry import is_concrete

__all__ = ["runtime_check", "active", "collecting", "Collector", "checked", "emit_status", "first_failure",
           "raise_status", "split_status", "RUNTIME_CHECK_ATTR"]

# code -> (exc_type, message, where); code 0 means "no failure".  Append-only, so a code in a
# compiled function keeps its meaning for the life of the process.
_CHECKS: list[tuple[type[BaseException], str, tuple] | None] = [None]
_CODE_OF: dict[tuple, int] = {}
_LOCAL = threading.local()

# Set on exceptions raised by a check (to the message), so callers that wrap run-time errors let
# them through, re-raised with the message alone (JAX appends a note to errors raised in tracing).
RUNTIME_CHECK_ATTR = "thx_runtime_check"


def _code(exc_type: type[BaseException], message: str, where: tuple = ()) -> int:
    key = (exc_type, message, tuple((name, tuple((v.shape, str(v.dtype)) for v in ins))
                                    for name, ins in where))
    code = _CODE_OF.get(key)
    if code is None:
        code = _CODE_OF[key] = len(_CHECKS)
        _CHECKS.append((exc_type, message, where))
    return code


def _format(message: str, value: Any) -> str:
    return message.replace("{}", str(value)) if value is not None else message


_SCOPED_RUN: list[Any] = []  # the code of program.scoped's ``run``: the frame running one node


def _where() -> tuple:
    """``(scope name, input stand-ins)`` of the nodes whose implementations are being traced,
    innermost first: the node making a check, then the scan/ifelse nodes holding its graph.

    Each node runs in ``program.scoped``'s ``run(*args)`` (its scope name names the node in
    ``NODE_OF_SCOPE``); an inner graph is traced inside its holder's call, so the Python
    stack holds them all.  Called while tracing only, never per call.
    """
    if not _SCOPED_RUN:
        from thx.lowering import program  # program sits beside this module and imports more
        _SCOPED_RUN.extend(c for c in program.scoped.__code__.co_consts
                           if getattr(c, "co_name", None) == "run")
    out = []
    run = _SCOPED_RUN[0] if _SCOPED_RUN else None
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is run:
            loc = frame.f_locals
            if isinstance(loc.get("name"), str) and isinstance(loc.get("args"), tuple):
                out.append((loc["name"], tuple(_stand_in(v) for v in loc["args"])))
        frame = frame.f_back
    return tuple(out)


def _stand_in(v: Any) -> Any:
    """What the report shows of an input: a small known value itself, else its shape and dtype."""
    if is_concrete(v):
        v = np.asarray(v)
        if v.size <= 5:
            return v
    return jax.ShapeDtypeStruct(np.shape(v), v.dtype)


def _report(where: tuple) -> str:
    """Theano's report of the node that made a check, then of the nodes holding its graph."""
    program = sys.modules.get("thx.lowering.program")
    nodes = [] if program is None else [program.NODE_OF_SCOPE.get(name) for name, _ in where]
    if not nodes or nodes[0] is None:
        return ""
    text = errors.report(nodes[0], where[0][1])
    for outer in nodes[1:]:
        if outer is not None:
            text += errors.inner_report(outer)
    return text


def _raise(exc_type: type[BaseException], message: str) -> None:
    exc = exc_type(message)
    setattr(exc, RUNTIME_CHECK_ATTR, message)
    raise exc


class Collector:
    """The checks made while tracing one program: folded into one ``(code, value)`` status."""

    def __init__(self) -> None:
        self.code: Any = None
        self.value: Any = None

    def add(self, code: Any, value: Any) -> None:
        """Fold in a status (the earlier failure wins)."""
        code = jnp.asarray(code, dtype=jnp.int32)
        value = jnp.asarray(value).astype(jnp.int64)
        if self.code is None:
            self.code, self.value = code, value
            return
        ok = self.code == 0
        self.code = jnp.where(ok, code, self.code)
        self.value = jnp.where(ok, value, self.value)

    def status(self) -> tuple[Any, Any] | None:
        """``(code, value)``, or None if no traced check was made."""
        return None if self.code is None else (self.code, self.value)


def _stack() -> list[Collector]:
    s = getattr(_LOCAL, "stack", None)
    if s is None:
        s = _LOCAL.stack = []
    return s


@contextmanager
def collecting() -> Iterator[Collector]:
    """Collect the checks made while tracing inside the block (innermost context wins)."""
    c = Collector()
    s = _stack()
    s.append(c)
    try:
        yield c
    finally:
        s.pop()


def active() -> bool:
    """Is a collector open (would a traced check be reported)?"""
    return bool(_stack())


def runtime_check(bad: Any, exc_type: type[BaseException], message: str, value: Any = None) -> None:
    """Raise ``exc_type(message)`` if ``bad`` is true, now or after the jitted call.

    Parameters
    ----------
    bad : bool scalar (NumPy or traced)
        True when the check fails.  A traced array is reduced with ``any``.
    exc_type : exception class
    message : str
        A static message; ``{}`` in it is replaced by ``value``.
    value : int scalar, optional
        Reported in the message (e.g. the offending index).
    """
    if is_concrete(bad):
        if np.any(np.asarray(bad)):
            v = value if value is None or is_concrete(value) else "?"
            _raise(exc_type, _format(message, None if v is None else np.asarray(v).item()))
        return
    s = _stack()
    if not s:
        return
    bad = jnp.any(jnp.asarray(bad))
    code = _code(exc_type, message, _where())
    s[-1].add(jnp.where(bad, np.int32(code), np.int32(0)),
              jnp.where(bad, jnp.asarray(0 if value is None else value).astype(jnp.int64),
                        np.int64(0)))


def emit_status(status: tuple[Any, Any] | None) -> None:
    """Hand an inner program's status to the current collector (or raise it, if concrete)."""
    if status is None:
        return
    code, value = status
    if is_concrete(code):
        raise_status(code, value)
        return
    s = _stack()
    if s:
        s[-1].add(code, value)


def first_failure(codes: Any, values: Any) -> tuple[Any, Any]:
    """The status of the first failing element of arrays of statuses (per-step outputs)."""
    codes = jnp.ravel(codes)
    values = jnp.ravel(values)
    k = jnp.argmax(codes != 0)
    return codes[k], values[k]


def raise_status(code: Any, value: Any) -> None:
    """On the host: raise the failed check named by ``code`` (nothing if 0)."""
    c = np.asarray(code).item()  # (faster than int() on a JAX array)
    if c:
        exc_type, message, where = _CHECKS[c]
        _raise(exc_type, _format(message, int(value)) + _report(where))


def checked(run: Callable[..., tuple],
            keep_on_failure: Sequence[tuple[int, int]] = ()) -> Callable[..., tuple]:
    """``run`` collecting its checks: returns its outputs, plus ``(code, value)`` if it made any.

    ``keep_on_failure`` pairs ``(output, argument)`` positions: when a check
    fails, that output is the argument unchanged.  Use it for updates whose
    argument buffer is donated (the old value must survive a failed call).
    """
    def wrapped(*args):
        with collecting() as c:
            outs = run(*args)
        st = c.status()
        if st is None:
            return outs
        outs = list(outs)
        for o, a in keep_on_failure:
            outs[o] = jnp.where(st[0] == 0, outs[o], args[a])
        return tuple(outs) + st
    return wrapped


def split_status(outs: tuple, n_out: int) -> tuple:
    """The outputs of a ``checked`` function with ``n_out`` outputs; raises a failed check."""
    if len(outs) > n_out:
        raise_status(outs[n_out], outs[n_out + 1])
        return outs[:n_out]
    return outs
