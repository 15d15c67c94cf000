"""The ``profile_memory`` report: XLA's memory plan of a function and its nodes' output sizes, in Theano's layout.

With the flag ``profile_memory=True`` a profiled function measures, once
per input signature (on its first call with it):

* XLA's buffer assignment of the compiled program
  (``Compiled.memory_analysis()``): the peak it plans, and the bytes of the
  arguments, outputs, temporaries and aliased buffers;
* each Apply node's output shapes and bytes, from the graph run abstractly
  (``jax.eval_shape`` of the slot program: no computation), and from those
  Theano's two estimates: the peak if every node output were kept to the end
  (``allow_gc=False``) and if each were freed after its last use, in
  topological order (Theano's ``linker=c|py``).

XLA fuses nodes and reuses buffers, so its peak is usually below both
estimates.  A function run as several jitted segments (an ``until`` scan)
has no single program: its XLA figures are left out.
"""

from __future__ import annotations

from typing import IO, Any

import numpy as np

__all__ = ["measure_memory", "write_memory_profile"]


def measure_memory(f: Any, vals: list) -> dict:
    """XLA's memory plan and the node output sizes of ``f`` called on ``vals`` (checked values)."""
    import jax
    from thx.lowering.linker import x64
    from thx.lowering.program import closure, plan
    statics = f._static_set
    out: dict[str, Any] = {"nodes": [], "xla": None}
    p = plan(f.maker.fgraph)
    slots = [o for _, _, outs, _ in p.program for o in outs]
    run = closure(p.initial, p.in_slots, [(fn, ins, outs) for fn, ins, outs, _ in p.program], slots)
    dyn = [k for k in range(len(vals)) if k not in statics]

    def abstract(*d):
        args = list(vals)
        for k, v in zip(dyn, d):
            args[k] = v
        return run(*args)
    try:
        with x64(True):
            shapes = jax.eval_shape(abstract, *[vals[k] for k in dyn])
    except Exception:  # a shape only known at run time (an until scan's rows): no sizes
        shapes = None
    if shapes is not None:
        it = iter(shapes)
        for _, _, outs, node in p.program:
            got = [next(it) for _ in outs]
            out["nodes"].append((node, [tuple(s.shape) for s in got],
                                 [int(np.prod(s.shape)) * np.dtype(s.dtype).itemsize for s in got]))
    fn = getattr(f.jax_fn, "fn", f.jax_fn)
    try:
        with x64(True):
            m = fn.lower(*[int(v) if k in statics else v for k, v in enumerate(vals)]).compile().memory_analysis()
    except NotImplementedError:  # several jitted segments
        m = None
    if m is not None:
        out["xla"] = {k: int(getattr(m, k, 0) or 0) for k in (
            "peak_memory_in_bytes", "argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes",
            "alias_size_in_bytes", "generated_code_size_in_bytes")}
    out["no_gc"], out["gc"] = _estimates(f.maker.fgraph, out["nodes"])
    return out


def _estimates(fgraph: Any, nodes: list) -> tuple[int, int]:
    """Theano's peaks: all node outputs kept; and each freed after its last use (topological order)."""
    size = {v: b for node, _, sizes in nodes for v, b in zip(node.outputs, sizes)}
    last_user: dict[Any, Any] = {}
    for node, _, _ in nodes:
        for v in node.inputs:
            last_user[v] = node
    outputs = set(fgraph.outputs)
    running = peak = 0
    for node, _, sizes in nodes:
        running += sum(sizes)
        peak = max(peak, running)
        for v in set(node.inputs):
            if v in size and v not in outputs and last_user.get(v) is node:
                running -= size[v]
    return sum(size.values()), peak


def write_memory_profile(memories: list[tuple[str, dict]], file: IO[str], n_apply: int,
                         min_size: int = 1024) -> None:
    """Print the memory profile of the ``(function name, measure_memory result)`` pairs."""
    p = lambda *a: print(*a, file=file)  # noqa: E731
    kb = lambda b: int(round(b / 1024.0))  # noqa: E731
    many = len(memories) > 1
    p("Memory Profile" + (" (the max between all functions in that profile)" if many else ""))
    p("(Sparse variables are ignored)")
    p("---")
    xla = [m["xla"] for _, m in memories if m["xla"] is not None]
    if xla:
        top = max(xla, key=lambda x: x["peak_memory_in_bytes"])
        p("    Max peak memory planned by XLA (arguments + outputs + temporaries - aliased)")
        p(f"        CPU: {kb(top['peak_memory_in_bytes'])}KB (arguments {kb(top['argument_size_in_bytes'])}KB, "
          f"outputs {kb(top['output_size_in_bytes'])}KB, temporaries {kb(top['temp_size_in_bytes'])}KB, "
          f"aliased {kb(top['alias_size_in_bytes'])}KB, generated code {kb(top['generated_code_size_in_bytes'])}KB)")
    else:
        p("    Max peak memory planned by XLA: unknown (no single XLA program)")
    p(f"    Max if no gc (allow_gc=False): {kb(max(m['no_gc'] for _, m in memories))}KB")
    p(f"    Max if node outputs are freed after their last use (linker=c|py): "
      f"{kb(max(m['gc'] for _, m in memories))}KB")
    p("")
    if many:
        p("    This list is based on all functions in the profile")
    p("    <Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view> <Apply node>")
    p("")
    rows = sorted(((sum(sizes), shapes, node) for _, m in memories for node, shapes, sizes in m["nodes"]),
                  key=lambda r: -r[0])
    shown = [r for r in rows[:n_apply] if r[0] >= min_size]
    for total, shapes, node in shown:
        p(f"     {total:9d}B  {shapes} {' '.join('c' for _ in shapes)} {node}")
    rest = sum(r[0] for r in rows[len(shown):])
    dense = sum(r[0] for r in rows)
    p(f"   ... (remaining {len(rows) - len(shown)} Apply account for {rest:4d}B/{dense}B "
      f"({100.0 * rest / dense if dense else 0.0:.2f}%) of the Apply with dense outputs sizes)")
    p("")
    if not shown:
        p(f"    All Apply nodes have output sizes that take less than {min_size}B.")
    p("    <created/inplace/view>: thx ops create their outputs (no in-place ops or views; XLA may")
    p("    still reuse buffers, which its peak above includes).")
    p("")
