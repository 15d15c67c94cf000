"""Forward residuals of a scan gradient: what the backward step reads instead of recomputing.

The backward step of ``scan_grad`` is the vector-Jacobian product of the
forward step, built on the forward step's inputs (sequence slices, state
taps, non-sequences).  Left alone, it recomputes every forward intermediate
its derivative needs (the gates of an LSTM, the ``dot(U, h)`` inside them) at
every backward step.  JAX's ``vjp`` keeps them as residuals instead; so does
this module:

1. the backward body is hash-consed (``merge_equal_nodes``), so a derivative's copy of a
   forward node (sigmoid's ``sigmoid(x) * (1 - sigmoid(x))``) *is* the
   forward node;
2. a node equal to one of the forward step's own results (a state's new
   value, a nit output) is read from that result's outer trace;
3. the *frontier*, the nodes that depend on a per-step input but on no
   gradient and feed a node that does, is split, in topological order, into
   values cheap to recompute (views, casts and arithmetic over values already
   at hand: ``1 - u`` from a stored ``u``, ``r * h`` from a stored ``r`` and a
   state tap) and values worth storing (anything with a product, a reduction
   or a transcendental function in it); a value computed from a loop inside
   the step (an inner scan) is recomputed: stored, it would hold the inner
   loop's steps for every outer step (``scan_checkpoints``' chunks);
4. the values worth storing become extra nit outputs of an *augmented*
   forward Scan (the forward step plus those outputs, on the same outer
   inputs), and the backward step reads their rows as sequences.

The optimizer merges the augmented scan with the original one
(``local_scan_merge``: same ``n_steps``, same inputs) and folds the two
copies of each recurrent state into one (``local_scan_dedupe_states``), so
the forward loop runs once and stores its residuals; the merged step's
duplicate work is one computation after hash-consing.  A loop with a stop
condition (which scans cannot merge) or without a differentiable state (a
map, whose backward loop is a batched ``jax.vmap`` anyway) stores nothing and
recomputes, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from thx.graph.basic import Constant, Variable, clone_replace, io_toposort
from thx.graph.fg import FunctionGraph

STORE = True  # False: recompute every forward intermediate (the behaviour before residuals; for tests)

# arithmetic recomputed in the backward step rather than stored (cheaper than a read)
CHEAP_SCALARS = frozenset({"add", "sub", "mul", "neg", "sqr", "abs", "sgn", "second", "identity", "Cast",
                           "maximum", "minimum", "clip", "switch", "lt", "gt", "le", "ge", "eq", "neq",
                           "and_", "or_", "xor", "invert"})
# views and shape plumbing: never stored
VIEW_OPS = frozenset({"DimShuffle", "Rebroadcast", "Subtensor", "Reshape", "SpecifyShape", "MakeVector",
                      "Alloc"})
SHAPE_OPS = frozenset({"Shape", "Shape_i"})  # read a value's shape only (static under XLA)
LOOP_OPS = frozenset({"Scan"})  # a value computed from one is recomputed, never stored


def merge_equal_nodes(outputs: Sequence[Variable]) -> list[Variable]:
    """``outputs`` rebuilt so that equal nodes (same op, same inputs) are one node (hash-consing;
    the graph is copied where it changes, never edited in place)."""
    memo: dict[Variable, Variable] = {}
    table: dict = {}
    for node in io_toposort([], list(outputs)):
        ins = [memo.get(v, v) for v in node.inputs]
        try:
            key = None if getattr(node.op, "nondeterministic", False) else (node.op, tuple(ins))
            hit = table.get(key) if key is not None else None
        except TypeError:  # an unhashable op: keep the node
            key, hit = None, None
        if hit is not None and all(a.type == b.type for a, b in zip(hit.outputs, node.outputs)):
            memo.update(zip(node.outputs, hit.outputs))
            continue
        if any(a is not b for a, b in zip(ins, node.inputs)):
            new = node.clone_with_new_inputs(ins, strict=False)
            for o, n in zip(node.outputs, new.outputs):
                n.name = o.name
            memo.update(zip(node.outputs, new.outputs))
            node = new
        if key is not None:
            table[key] = node
    return [memo.get(o, o) for o in outputs]


def _value_inputs(node) -> list[Variable]:
    """The inputs whose values (not just shapes) a node reads: ``fill(a, b)`` reads ``b``."""
    if type(node.op).__name__ in SHAPE_OPS:
        return []
    if type(node.op).__name__ == "Elemwise" and node.op.scalar_op.name == "second":
        return node.inputs[1:]
    return node.inputs


def _cheap_op(node) -> bool:
    name = type(node.op).__name__
    if name in VIEW_OPS or name in SHAPE_OPS:
        return True
    return name == "Elemwise" and node.op.scalar_op.name in CHEAP_SCALARS


def _is_loop(node) -> bool:
    """A Scan or a subclass (by name, as the op sets above: ``thx.scan.op`` imports this module's
    caller, ``derivatives``)."""
    return any(c.__name__ in LOOP_OPS for c in type(node.op).__mro__)


def split_frontier(grads: Sequence[Variable], step_inputs: Sequence[Variable],
                   state_inputs: Sequence[Variable], grad_inputs: Sequence[Variable],
                   free: set) -> list[Variable]:
    """The forward values of the backward body ``grads`` worth storing, in topological order.

    ``step_inputs`` are the per-step inputs (a value depending on none is loop
    invariant), ``state_inputs`` those of them that are state taps, ``grad_inputs``
    the gradient placeholders, ``free`` the values the backward step reads anyway
    (slices, taps, forward traces).  A value that depends on no state (``exp(x_t)``)
    is not stored: the scan push-outs compute it for all steps at once before the loop.
    """
    step, gradp, states = set(step_inputs), set(grad_inputs), set(state_inputs)
    on_step: dict[Variable, bool] = {}
    on_grad: dict[Variable, bool] = {}
    on_state: dict[Variable, bool] = {}
    order = io_toposort([], list(grads))
    for v in list(step) + list(gradp) + list(free):
        on_step[v], on_grad[v] = v in step or v in free, v in gradp
        on_state[v] = v in states or v in free
    for node in order:
        s = any(on_step.get(i, False) for i in node.inputs)
        g = any(on_grad.get(i, False) for i in node.inputs)
        r = any(on_state.get(i, False) for i in node.inputs)
        for o in node.outputs:
            on_step.setdefault(o, s)
            on_grad.setdefault(o, g)
            on_state.setdefault(o, r)
    frontier: dict[Variable, None] = {}
    for node in order:
        if any(on_grad[o] for o in node.outputs):
            for i in node.inputs:
                if on_step.get(i, False) and not on_grad.get(i, False):
                    frontier[i] = None
    at_hand = set(free) | step
    cheap: dict[Variable, bool] = {}

    def is_cheap(v: Variable) -> bool:  # recomputable from values at hand by cheap ops only
        todo = [v]
        while todo:
            u = todo[-1]
            if u in cheap:
                todo.pop()
                continue
            if u in at_hand or isinstance(u, Constant) or not on_step.get(u, False):
                cheap[u] = True
                todo.pop()
                continue
            if u.owner is None or not _cheap_op(u.owner):
                cheap[u] = False
                todo.pop()
                continue
            ins = _value_inputs(u.owner)
            pending = [i for i in ins if i not in cheap]
            if pending:
                todo.extend(pending)
                continue
            cheap[u] = all(cheap[i] for i in ins)
            todo.pop()
        return cheap[v]

    # a value computed from a nested loop's results (an inner scan's trace, scan_checkpoints'
    # segments) holds a loop's worth of steps per step: recomputed, as Theano does, not stored
    from_loop: dict[Variable, bool] = {}
    for node in order:
        f = _is_loop(node) or any(from_loop.get(i, False) for i in node.inputs)
        for o in node.outputs:
            from_loop.setdefault(o, f)
    stored = []
    position = {o: n for n, node in enumerate(order) for o in node.outputs}
    for v in sorted(frontier, key=lambda u: position.get(u, -1)):
        if v.owner is None or not on_state[v] or from_loop.get(v, False) or is_cheap(v):
            continue
        stored.append(v)
        at_hand.add(v)
        cheap.clear()  # a stored value makes more values cheap
    return stored


def read_residuals(op, fwd: Sequence[Variable], grads: list, trace_rows: Callable[[int, object], Variable],
                   step_inputs: Sequence[Variable], state_inputs: Sequence[Variable],
                   grad_inputs: Sequence[Variable], augmented: Callable[[list[Variable]], list[Variable]] | None
                   ) -> tuple[list[Variable], list[Callable[[], Variable]], list]:
    """Rewrite the backward body ``grads`` to read forward values instead of recomputing them.

    Parameters
    ----------
    op : Scan
        The forward scan.
    fwd : list of Variable
        The forward step's outputs, built on the backward step's forward placeholders.
    grads : list
        The backward body's outputs (Variables; other entries are passed through).
    trace_rows : callable
        ``(k, row type) -> `` the outer rows (in the backward loop's step order) of forward
        output ``k``, as a sequence of that row type.
    step_inputs, state_inputs, grad_inputs : list of Variable
        The per-step forward placeholders (slices, taps), the taps alone, and the gradient
        placeholders.
    augmented : callable or None
        ``values -> `` their outer rows (sequences of their types), computed by an augmented
        forward scan; None: store nothing.

    Returns
    -------
    (placeholders, outer rows as callables, grads)
        New backward sequences (placeholder, rows) and the rewritten body.
    """
    wanted = [g for g in grads if isinstance(g, Variable)]
    n_out = op.n_rec + op.n_nit
    canon = merge_equal_nodes(wanted + list(fwd[:n_out]))
    wanted, cfwd = canon[:len(wanted)], canon[len(wanted):]
    used = {v for node in io_toposort([], wanted) for v in node.outputs}
    trace_of: dict[Variable, int] = {}
    for k, v in enumerate(cfwd):
        if v in used and v.owner is not None and _is_float(v.type) and v not in trace_of:
            trace_of[v] = k
    wanted = _shape_only_fills(wanted, set(trace_of))
    stored = []
    if augmented is not None and STORE:
        stored = split_frontier(wanted, step_inputs, state_inputs, grad_inputs, set(trace_of))
    if not trace_of and not stored:
        return [], [], grads
    repl: dict[Variable, Variable] = {}
    phs, outer = [], []
    for v, k in trace_of.items():
        repl[v] = v.type(f"{v.name or 'out'}[t]")
        phs.append(repl[v])
        outer.append(lambda k=k, t=v.type: trace_rows(k, t))
    if stored:
        rows = augmented(stored)
        for q, v in enumerate(stored):
            repl[v] = v.type(f"res{q}[t]")
            phs.append(repl[v])
            outer.append(lambda r=rows[q]: r)
    new = iter(clone_replace(wanted, repl))
    return phs, outer, [next(new) if isinstance(g, Variable) else g for g in grads]


def _shape_only_fills(wanted: list[Variable], at_hand: set) -> list[Variable]:
    """``fill(a, b)`` (``zeros_like(a)`` in a derivative) reads only ``a``'s shape: rebuilt on
    ``shape(a)``, which the shape rewrites compute without ``a``, so the backward step does
    not recompute ``a`` (a pre-activation, with its products) for its shape."""
    import thx.tensor as T
    repl: dict[Variable, Variable] = {}
    for node in io_toposort([], wanted):
        if type(node.op).__name__ != "Elemwise" or node.op.scalar_op.name != "second":
            continue
        a, b = node.inputs
        if a.owner is None or a in at_hand:
            continue
        zeros = T.alloc(T.constant(0, dtype=a.dtype), *[a.shape[i] for i in range(a.ndim)])
        if zeros.broadcastable != a.broadcastable:
            zeros = T.patternbroadcast(zeros, a.broadcastable)
        new = T.second(zeros, b)
        if new.type == node.outputs[0].type:
            repl[node.outputs[0]] = new
    return clone_replace(wanted, repl) if repl else wanted


def augmented_scan(op, inputs: Sequence[Variable], x_ph, tap_ph, w_ph, fwd: Sequence[Variable],
                   values: list[Variable]) -> list[Variable]:
    """Outer rows of ``values`` (built on the forward placeholders): the forward scan with them
    as extra nit outputs, on the forward node's own outer inputs (the optimizer merges the two)."""
    inner = list(x_ph) + [v for taps in tap_ph for v in taps] + list(w_ph)
    outs = list(fwd[:op.n_rec]) + values
    new = op.clone_with(fgraph=FunctionGraph(inner, outs, clone=True), n_nit=len(values),
                        store_steps=())
    res = new(*inputs)
    res = res if isinstance(res, list) else [res]
    return res[op.n_rec:]


def _is_float(t) -> bool:
    from thx.tensor.type import continuous_dtypes
    return getattr(t, "dtype", None) in continuous_dtypes


