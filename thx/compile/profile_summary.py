"""The text of a profile summary, in Theano's layout (global, Class, Ops and Apply sections)."""

from __future__ import annotations

from typing import IO, Any


def write_summary(prof: Any, file: IO[str], n_ops: int, n_apply: int, min_memory: int = 1024) -> None:
    """Write ``prof``'s summary (a ``ProfileStats``) to ``file``."""
    p = lambda *a: print(*a, file=file)  # noqa: E731
    calls, call_time = prof.fct_callcount, prof.fct_call_time
    nodes = prof.node_time()
    thunks = sum(nodes.values())
    p("Function profiling")
    p("==================")
    p(f"  Message: {prof.message}")
    p(f"  Time in {calls} calls to Function.__call__: {call_time:e}s")
    untraced = calls - 1 - prof.traced_calls  # neither the first call nor one run under the tracer
    if calls > 1:
        rest = call_time - prof.first_call_time - prof.traced_call_time
        p(f"  Time per call: {call_time / calls:e}s (first call {prof.first_call_time:e}s; "
          + (f"{untraced} calls not traced {rest / untraced:e}s each; " if untraced > 0 else "")
          + f"{prof.traced_calls} traced calls {prof.traced_call_time / max(prof.traced_calls, 1):e}s each)")
    if call_time > 0 and prof.fn_call_time > 0:
        p(f"  Time in Function.fn.__call__: {prof.fn_call_time:e}s ({_pct(prof.fn_call_time, call_time):.3f}%)"
          f"  [the jitted function: argument transfers, dispatch, XLA]")
    if call_time > 0 and thunks > 0:
        xla = sum(t for n, t in nodes.items() if not getattr(n, "outside", False))
        p(f"  Time in thunks: {xla:e}s ({_pct(xla, call_time):.3f}%)"
          f"  [XLA's ops, split over nodes from {prof.traced_calls} traced calls]")
        outside = {k: 0.0 for k in ("InputChecks", "DevicePut", "DeepCopyOp", "FirstCall")}
        for n, t in nodes.items():
            if getattr(n, "outside", False):  # the pseudo-nodes (profiling.OUTSIDE)
                outside[str(n.op)] += t
        p(f"  Time outside Apply nodes, measured: {sum(outside.values()):e}s "
          f"({_pct(sum(outside.values()), call_time):.3f}%): argument checks {outside['InputChecks']:e}s, "
          f"copies to the device {outside['DevicePut']:e}s, output copies (DeepCopyOp) "
          f"{outside['DeepCopyOp']:e}s, the first call {outside['FirstCall']:e}s")
        p(f"  Time not measured separately (dispatch, waiting for results): "
          f"{max(call_time - thunks, 0.0):e}s ({_pct(max(call_time - thunks, 0.0), call_time):.3f}%)")
        traced = prof.traced_call_time
        parts = (prof.traced_thunk_time, prof.traced_wait_time)
        p(f"    on the traced calls ({traced:e}s): ops running {_pct(parts[0], traced):.1f}%, ops waiting "
          f"for a thread {_pct(parts[1], traced):.1f}%, all measured parts {100 * prof.accounted_fraction():.1f}%")
    p(f"  Total compile time: {prof.compile_time:e}s")
    p(f"    Number of Apply nodes: {prof.nb_nodes}")
    p(f"    Graph rewriting (Theano Optimizer) time: {prof.optimizer_time:e}s")
    p(f"    Lowering (tracing to StableHLO) time: {prof.linker_time:e}s")
    p(f"    XLA compile time: {prof.xla_compile_time:e}s")
    p("")
    if not nodes:
        p("  No node time accumulated (no call ran under the tracer yet)")
        p("")
    else:
        _sections(p, prof, nodes, thunks, calls, n_ops, n_apply)
    if prof.memory:
        from thx.compile.profile_memory import write_memory_profile
        write_memory_profile(list(prof.memory.values()), file, n_apply, min_memory)
    if prof.optimizer_profiles:
        from thx.compile.profile_rewrites import write_rewrite_profile
        write_rewrite_profile(prof.optimizer_profiles, file)


def _sections(p, prof: Any, nodes: dict, thunks: float, calls: int, n_ops: int, n_apply: int) -> None:
    """The Class, Ops and Apply sections."""
    _table(p, "Class", "<Class name>", _group(nodes, lambda n: type(n.op).__name__), thunks, n_ops)
    _table(p, "Ops", "<Op name>", _group(nodes, lambda n: str(n.op)), thunks, n_ops)
    # <type>: XLA for the graph's nodes, Py for the work of a call outside the graph (host side)
    p("Apply")
    p("------")
    p("<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>")
    order = {n: k for k, n in enumerate(n for n in nodes if n is not None)}
    rows = sorted(nodes.items(), key=lambda kv: -kv[1])
    acc = 0.0
    for node, t in rows[:n_apply]:
        acc += t
        ident = order.get(node, "-")
        p(f"  {_pct(t, thunks):5.1f}%  {_pct(acc, thunks):5.1f}%  {t:10.3f}s  {t / max(calls, 1):.2e}s"
          f"  {calls:6d}  {ident:>4}  {node if node is not None else '(unattributed)'}")
    _rest(p, "Apply instances", rows[n_apply:], thunks)


def _group(nodes: dict, key) -> dict:
    out: dict[str, list] = {}
    for n, t in nodes.items():
        k = key(n) if n is not None else "(unattributed)"
        got = out.setdefault(k, [0.0, 0, "Py" if getattr(n, "outside", False) else "XLA"])
        got[0] += t
        got[1] += 1
    return out


def _table(p, title: str, label: str, groups: dict, total: float, limit: int) -> None:
    p(title)
    p("---")
    p(f"<% time> <sum %> <apply time> <#apply> <type> {label}")
    rows = sorted(groups.items(), key=lambda kv: -kv[1][0])
    acc = 0.0
    for name, (t, napply, kind) in rows[:limit]:
        acc += t
        p(f"  {_pct(t, total):5.1f}%  {_pct(acc, total):5.1f}%  {t:10.3f}s  {napply:7d}   {kind:>3}  {name}")
    _rest(p, f"{title}", [(k, v[0]) for k, v in rows[limit:]], total)


def _rest(p, what: str, rows: list, total: float) -> None:
    t = sum(v for _, v in rows)
    p(f"   ... (remaining {len(rows)} {what} account for {_pct(t, total):.2f}%({t:.2f}s) of the runtime)")
    p("")


def _pct(t: float, total: float) -> float:
    return 100.0 * t / total if total else 0.0
