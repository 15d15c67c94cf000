"""Where the user created each node: a short stack summary recorded as the node is built.

Every new Apply node's outputs get ``tag.trace``, the innermost frames of the
user's code that built it (thx's own frames skipped), at most
``config.traceback__limit`` of them (Theano's ``traceback.limit``: 8 by default,
-1 for the whole stack, 0 to record nothing).  Recording walks the frames with
``sys._getframe`` and keeps ``(code, instruction offset)`` pairs; line numbers
and source lines are worked out only when an error message prints the trace
(``thx/graph/errors.py``), so building a graph pays little for it (about 1 µs
a node: ``bench/bench_trace.py``).  Cloned variables keep the trace of the
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
    """The frames where a node was created, innermost first, as ``(code, lasti)`` pairs
    (or ``(filename, lineno, name)`` triples, once pickled).

    Line numbers are worked out only when asked for (``frames``, ``format``):
    reading ``frame.f_lineno`` while recording would double the cost.
    """

    def frames(self) -> list[tuple[str, int, str]]:
        """``(filename, lineno, function name)`` per frame, outermost first (as ``traceback``)."""
        return [f if len(f) == 3 else (f[0].co_filename, _line(*f), f[0].co_name) for f in reversed(self)]

    def __reduce__(self):
        # code objects do not pickle: a pickled trace holds (filename, lineno, name) triples
        return Trace, (tuple(reversed(self.frames())),)

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


def _line(code: Any, lasti: int) -> int:
    """The source line of the instruction at byte offset ``lasti`` (what ``f_lineno`` reads)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line if line is not None else code.co_firstlineno
    return code.co_firstlineno


_EMPTY = Trace()


def user_stack(limit: int, skip: int = 1) -> Trace:
    """The innermost ``limit`` frames of the caller's stack outside thx (-1: all of them).

    ``skip`` frames above this call are ignored first (1: the caller itself).  The loop
    runs for every new node: it is written for speed (a subscript, not ``dict.get``).
    """
    frame = sys._getframe(skip + 1)
    is_thx = _IS_THX
    frames: list[tuple[Any, int]] = []
    while frame is not None:
        code = frame.f_code
        try:
            own = is_thx[code.co_filename]
        except KeyError:
            own = is_thx[code.co_filename] = code.co_filename.startswith(_THX_DIR)
        if not own:
            frames.append((code, frame.f_lasti))
            if len(frames) == limit:
                break
        frame = frame.f_back
    return Trace(frames)


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
