"""The ``profile_optimizer`` report: time and applications per rewrite, in Theano's layout.

With the flag ``profile_optimizer=True`` the rewrite engine
(``thx/rewriting/engine.py``) times every rewrite it tries on every node,
merge and constant folding included, and leaves per phase ``(phase,
seconds, nodes before, nodes after, Rewriter)`` on the optimized graph
(``fgraph.rewrite_profile``).  A profile keeps those of the functions it
profiles; its summary prints them after the Apply section as Theano printed
its ``SeqOptimizer``/``EquilibriumOptimizer`` profile: one block per phase
(Theano's ``EquilibriumOptimizer``; thx's phases are one worklist each),
then ``time - times applied - name`` per rewrite that changed the graph,
then the time of those that never applied.
"""

from __future__ import annotations

from typing import IO, Any

__all__ = ["write_rewrite_profile", "rewrite_counts", "rewrite_times"]


def rewrite_counts(profile: list) -> dict[str, int]:
    """Rewrite name -> times it changed the graph, over the phases of one ``rewrite_profile``."""
    out: dict[str, int] = {}
    for _, _, _, _, rw in profile:
        for name, n in rw.applied.items():
            out[name] = out.get(name, 0) + n
    return out


def rewrite_times(profile: list) -> dict[str, float]:
    """Rewrite name -> seconds spent trying it (and replacing, when it applied)."""
    out: dict[str, float] = {}
    for _, _, _, _, rw in profile:
        for name, t in (rw.times or {}).items():
            out[name] = out.get(name, 0.0) + t
    return out


def write_rewrite_profile(profiles: list[tuple[str, list]], file: IO[str]) -> None:
    """Print the ``(function name, rewrite_profile)`` pairs of a ProfileStats."""
    p = lambda *a: print(*a, file=file)  # noqa: E731
    p("Optimizer Profile")
    p("-----------------")
    for message, profile in profiles:
        total = sum(t for _, t, _, _, _ in profile)
        start = profile[0][2] if profile else 0
        end = profile[-1][3] if profile else 0
        p(f" SeqOptimizer  time {total:.3f}s for {start}/{end} nodes before/after optimization  [{message}]")
        p("   time      - (name, class, index)")
        for k, (phase, t, _, _, _) in enumerate(profile):
            p(f"   {t:.6f}s - ('{phase}', 'EquilibriumOptimizer', {k})")
        for phase, t, n0, n1, rw in profile:
            _phase(p, phase, t, n0, n1, rw)


def _phase(p: Any, phase: str, t: float, n0: int, n1: int, rw: Any) -> None:
    times = rw.times or {}
    p(f"     EquilibriumOptimizer      {phase}")
    p(f"       time {t:.3f}s for {rw.visits} node visits")
    p(f"       nb nodes (start, end) {n0} {n1}")
    names = ["merge"] * rw.merge + ["constant_folding"] * rw.fold + [r.name for r in rw.rewrites]
    used = sorted(((times.get(n, 0.0), rw.applied[n], n) for n in set(rw.applied)), reverse=True)
    unused = sorted(((times.get(n, 0.0), n) for n in set(names) - set(rw.applied)), reverse=True)
    if used:
        p("       times - times applied - name:")
        for secs, count, name in used:
            p(f"       {secs:.3f}s - {count} - {name}")
    p(f"       {sum(s for s, _ in unused):.3f}s - in {len(unused)} rewrites that were not used "
      f"(display only those with a runtime > 0)")
    for secs, name in unused:
        if secs > 0:
            p(f"         {secs:.3f}s - {name}")
    p("")
