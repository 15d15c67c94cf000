"""Time per HLO instruction from a JAX profiler trace: each instant of an execution given to the ops running.

XLA's CPU runtime (jaxlib 0.10.x) records, for every executed HLO instruction
(a *thunk*), a complete event named after the instruction (``args.hlo_op``)
and, when the thunk's work has finished, an event ``"end: <name>"``.  A thunk
that hands its work to XLA's thread pool (a large matrix product) returns
at once: its event is short, and only the ``end:`` event says when its
result was ready.  The span of a thunk is therefore from its start to its
``end:`` event.

``thunk_times`` sweeps the execution from its first thunk's start to its
last thunk's end and gives each instant to the thunks running then, in equal
shares; a thunk that contains others (a while loop around its body) gets
only the instants when none of them runs; an instant when no thunk runs
(the runtime waiting for a thread) goes to the next thunk to start.  So the
times of one execution add up to its measured span, and nothing outside it
is counted.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
from bisect import bisect_left
from collections import defaultdict
from typing import Any

__all__ = ["read_events", "thunk_times", "device_put_time", "COPY_EVENTS"]

COPY_EVENTS = ("DevicePut",)  # the arguments' copies to the device, as the runtime names them


def read_events(trace_dir: str) -> list[dict]:
    """The complete ('X') events of a trace: thunks, their ``end:`` events and argument copies."""
    out = []
    for path in glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True):
        with gzip.open(path) as fh:
            data = json.load(fh)
        for e in data.get("traceEvents", []) if isinstance(data, dict) else data:
            if e.get("ph") != "X":
                continue
            args = e.get("args") or {}
            name = e.get("name", "")
            if "hlo_op" in args or name.startswith("end: ") or name in COPY_EVENTS:
                e["args"] = args
                out.append(e)
    return out


def device_put_time(events: list[dict], before: float | None = None) -> float:
    """Seconds covered by the argument copies (overlaps once), up to time ``before`` (µs)."""
    spans = [(float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0))) for e in events
             if e["name"] in COPY_EVENTS]
    if before is not None:
        spans = [(a, min(b, before)) for a, b in spans if a < before]
    total, covered = 0.0, None
    for a, b in sorted(spans):
        start = a if covered is None else max(a, covered)
        total += max(b - start, 0.0)
        covered = b if covered is None else max(covered, b)
    return total * 1e-6


def _spans(events: list[dict]) -> list[list]:
    """Each thunk as ``[start, end, name, run, is_parent, thread, end of its own event]`` (µs); its
    end is that of its ``end:`` event."""
    ends: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e["name"].startswith("end: "):
            ends[e["name"][5:]].append(float(e["ts"]) + float(e.get("dur", 0)))
    for v in ends.values():
        v.sort()
    used: dict[str, int] = defaultdict(int)
    thunks = sorted((e for e in events if "hlo_op" in e["args"]), key=lambda e: float(e["ts"]))
    out = []
    for e in thunks:
        name, ts = e["args"]["hlo_op"], float(e["ts"])
        end = ts + float(e.get("dur", 0))
        mine = ends.get(name, [])
        k = max(used[name], bisect_left(mine, ts))
        if k < len(mine):  # the first end event of this instruction after its start
            end = max(end, mine[k])
            used[name] = k + 1
        run = (e["args"].get("hlo_module"), e["args"].get("run_id"))
        out.append([ts, end, name, run, False, (e.get("pid"), e.get("tid")), ts + float(e.get("dur", 0))])
    # a thunk whose own event holds another thunk's event on the same thread is its parent
    by_thread: dict[Any, list[list]] = defaultdict(list)
    for s in out:
        by_thread[s[5]].append(s)
    for spans in by_thread.values():
        stack: list[list] = []
        for s in spans:
            while stack and stack[-1][6] <= s[0]:
                stack.pop()
            if stack:
                stack[-1][4] = True
            stack.append(s)
    return out


def thunk_times(events: list[dict]) -> tuple[dict[tuple, dict[str, float]], float, float, float | None]:
    """The executions in a trace, in the order they started.

    Returns ``({(module, run id): {instruction: seconds}}, busy seconds,
    waiting seconds, first start in µs)``.
    """
    runs: dict[Any, list[list]] = {}
    for s in _spans(events):  # sorted by start: runs in the order they started
        runs.setdefault(s[3], []).append(s)
    out: dict[tuple, dict[str, float]] = {}
    busy = wait = 0.0
    for run, spans in runs.items():
        times: dict[str, float] = defaultdict(float)
        b, w = _sweep(spans, times)
        busy, wait = busy + b, wait + w
        out[run] = {k: v * 1e-6 for k, v in times.items()}
    first = min((s[0][0] for s in runs.values()), default=None)
    return out, busy * 1e-6, wait * 1e-6, first


def _sweep(spans: list[list], times: dict[str, float]) -> tuple[float, float]:
    """Give each instant of one execution to the thunks running then (see the module docstring)."""
    marks = sorted([(s[0], 1, k) for k, s in enumerate(spans)] + [(s[1], 0, k) for k, s in enumerate(spans)])
    active: set[int] = set()
    busy = wait = 0.0
    pending_gap = 0.0  # waiting time not yet given to the next thunk to start
    last = marks[0][0]
    for t, kind, k in marks:
        dt = t - last
        if dt > 0:
            if active:
                leaves = [j for j in active if not spans[j][4]]
                owners = leaves or [max(active, key=lambda j: spans[j][0])]
                for j in owners:
                    times[spans[j][2]] += dt / len(owners)
                busy += dt
            else:
                pending_gap += dt
        last = t
        if kind == 1:
            if pending_gap:
                times[spans[k][2]] += pending_gap
                wait += pending_gap
                pending_gap = 0.0
            active.add(k)
        else:
            active.discard(k)
    return busy, wait
