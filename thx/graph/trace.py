"""Where the user created each node: a short stack summary recorded as the node is built.

Every new Apply node's outputs get ``tag.trace``, the innermost frames of the
user's code that built it (thx's own frames skipped), at most
``config.traceback__limit`` of them (Theano's ``traceback.limit``: 8 by default,
-1 for the whole stack, 0 to record nothing).  Recording walks the frames with
``sys._getframe`` and keeps ``code, instruction offset`` per frame in one flat
tuple; file names, line numbers and source lines are worked out only when an
error message prints the trace (``thx/graph/errors.py``).  Only thx's frames
above the user's code are walked for each node: the user's frames below come
from caches that hold while those frames run (``user_stack``), so building a
graph pays little for it (under 1 µs a node, mostly that walk:
``bench/bench_trace.py``).  Cloned variables keep the trace of the
ones they copy (the tag is copied), and ``FunctionGraph.replace`` hands a
replaced variable's trace to the variable a rewrite puts in its place
(``inherit``).
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Sequence
from typing import Any

from thx.config import config

_THX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_IS_THX: dict[str, bool] = {}  # file name -> is it thx's own code (a str caches its hash)


class Trace(tuple):
    """The frames where a node was created, innermost first, stored flat as
    ``code, lasti, code, lasti, ...`` (one tuple object per node: pairs would be one
    more object per frame for the garbage collector to count and walk).

    Line numbers are worked out only when asked for (``frames``, ``format``):
    reading ``frame.f_lineno`` while recording would double the cost.  A pickled
    trace comes back as a ``_Loaded`` one (code objects do not pickle).
    """

    def frames(self) -> list[tuple[str, int, str]]:
        """``(filename, lineno, function name)`` per frame, outermost first (as ``traceback``)."""
        if self and type(self[0]) is tuple:  # pickled by an earlier thx: triples
            return _Loaded.frames(self)
        codes, lastis = self[-2::-2], self[::-2]  # outermost first
        return [(c.co_filename, _line(c, i), c.co_name) for c, i in zip(codes, lastis)]

    def __reduce__(self):
        return _Loaded, (tuple(reversed(self.frames())),)

    def format(self) -> str:
        """The frames as ``traceback`` prints them, with their source lines."""
        out = []
        for filename, lineno, name in self.frames():
            out.append(f'  File "{filename}", line {lineno}, in {name}\n')
            line = linecache.getline(filename, lineno).strip()
            if line:
                out.append(f"    {line}\n")
        return "".join(out)

    def __str__(self) -> str:
        return self.format()


class _Loaded(Trace):
    """A trace read back from a pickle: ``(filename, lineno, name)`` triples, innermost first."""

    def frames(self) -> list[tuple[str, int, str]]:
        return [tuple(f) for f in reversed(self)]

    def __reduce__(self):
        return _Loaded, (tuple(self),)


def _line(code: Any, lasti: int) -> int:
    """The source line of the instruction at byte offset ``lasti`` (what ``f_lineno`` reads)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line if line is not None else code.co_firstlineno
    return code.co_firstlineno


_EMPTY = Trace()
_new = tuple.__new__  # Trace(list) goes through type.__call__: slower
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR

# Two caches make a node built in a loop cheap.  While a frame runs, the frames below it do not
# change (unless it is a generator's, resumed from anywhere), so ``_below`` keeps the frames under
# the caller of the user's innermost frame (a function called again from the same place reuses
# them), and ``_last`` keeps, for that innermost frame, the trace made at each of its
# instructions (a loop building nodes from the same lines reuses whole traces: one object shared
# by the nodes).  Each holds its frames, so a function that returned keeps its locals until some
# other code builds a node (the caches are then replaced, or emptied).
# Both are tuples replaced whole, so a thread reading one sees one consistent entry.
_NO_BELOW = (None, -1, 0, ())
_NO_LAST = (None, None, 0, {})
_below: tuple = _NO_BELOW  # (caller frame, its f_lasti, limit, flat tail)
_last: tuple = _NO_LAST  # (innermost user frame, its caller, limit, {f_lasti: Trace})


def _own(filename: str) -> bool:
    own = _IS_THX[filename] = filename.startswith(_THX_DIR)
    return own


def _walk(frame: Any, n: int) -> list:
    """``code, lasti`` of the next ``n`` user frames from ``frame`` down (-1: all)."""
    is_thx = _IS_THX
    out: list = []
    while frame is not None:
        code = frame.f_code
        try:
            own = is_thx[code.co_filename]
        except KeyError:
            own = _own(code.co_filename)
        if not own:
            out += code, frame.f_lasti
            n -= 1
            if not n:
                break
        frame = frame.f_back
    return out


def user_stack(limit: int, skip: int = 1) -> Trace:
    """The innermost ``limit`` frames of the caller's stack outside thx (-1: all of them).

    ``skip`` frames above this call are ignored first (1: the caller itself).  It runs for
    every new node: thx's frames on top are skipped in a tight loop (a dict subscript on the
    file name, whose hash the string caches: a code object's hash is computed from its
    contents each time), then the user's innermost frame is read; the rest comes from
    ``_last`` or ``_below`` when the frames they hold have not moved since.
    """
    global _below, _last
    frame = sys._getframe(skip + 1)
    is_thx = _IS_THX
    while frame is not None:
        name = frame.f_code.co_filename
        try:
            if not is_thx[name]:
                break
        except KeyError:
            if not _own(name):
                break
        frame = frame.f_back
    if frame is None:
        return _EMPTY
    last = _last
    if frame is last[0] and limit == last[2] and frame.f_back is last[1]:
        trace = last[3].get(frame.f_lasti)
        if trace is not None:
            return trace
    head = (frame.f_code, frame.f_lasti)
    caller = frame.f_back
    below = _below
    moves = frame.f_code.co_flags & _RESUMABLE  # a generator's frame is resumed from anywhere
    if limit == 1 or caller is None:
        trace = _new(Trace, head)
        _below = _NO_BELOW
    elif caller is below[0] and caller.f_lasti == below[1] and limit == below[2]:
        trace = _new(Trace, head + below[3])
    else:
        trace = _new(Trace, head + tuple(_walk(caller, limit - 1)))
        moves = moves or caller.f_code.co_flags & _RESUMABLE  # then the frames below it move
        _below = _NO_BELOW if moves else (caller, caller.f_lasti, limit, trace[2:])
    if moves:
        _last = _NO_LAST  # (holding no frame: a returned one's locals are freed)
    elif frame is last[0] and limit == last[2] and caller is last[1]:
        last[3][head[1]] = trace
    else:
        _last = (frame, caller, limit, {head[1]: trace})
    return trace


def record(outputs: Sequence[Any]) -> None:
    """Give the outputs of a new node the trace of the user's code building it.

    Outputs that already have one (copies made by ``Variable.clone``) keep it.
    Assigned through the tag's ``__dict__``: the tag's ``__setattr__`` is slower.
    """
    if not outputs or "trace" in outputs[0].tag.__dict__:
        return
    limit = _limit[0]
    # an empty trace when the limit is 0: copies made while compiling do not record one either
    trace = user_stack(limit, 2) if limit else _EMPTY  # 2: past record and Apply.__init__
    for o in outputs:
        o.tag.__dict__["trace"] = trace


_limit = [8]
config.watch("traceback__limit", lambda v: _limit.__setitem__(0, v))  # read per node: keep it at hand


def get(var: Any) -> Trace:
    """The creation trace of ``var`` (an empty one if none was recorded)."""
    return getattr(var.tag, "trace", None) or Trace()


def inherit(old: Any, new: Any) -> None:
    """Theano's ``copy_stack_trace``: ``new`` (made by a rewrite) takes the trace of ``old``."""
    trace = getattr(old.tag, "trace", None)
    if trace:
        new.tag.trace = trace
