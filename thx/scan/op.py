"""The Scan op: a loop whose body is an inner FunctionGraph.

Layout of a Scan node (all positions are fixed by the op's fields)::

    outer inputs   n_steps, sequences..., initial buffers..., non_sequences...
    inner inputs   one slice per sequence, one variable per (recurrent state, tap),
                   one variable per non-sequence
    inner outputs  new value of each recurrent state, each "nit" output
                   (not fed back), then the stop condition when ``as_while``
    outer outputs  each recurrent state's full trace (its initial rows, then one
                   row per step), then each nit output (one row per step)

A recurrent state ``k`` with taps ``rec_taps[k]`` (negative ints, e.g.
``(-2, -1)``) keeps ``L = -min(taps)`` past values; its initial buffer has
``L`` rows, oldest first, and step ``t`` reads ``trace[L + t + tap]``.
Shared variables updated inside the loop are recurrent states with taps
``(-1,)`` too (only their last row is used).

``store_steps`` (set by the save-memory rewrite, ``thx/rewriting/scan_savemem.py``)
keeps only the last ``s`` rows of an outer output (``0``: all of them): output
``k`` is then ``full[-s:]`` of its full trace (``full[:s]`` in reverse, where
the most recent rows come first), fewer rows when the trace is shorter.  A
recurrent state stored this way lowers to ``lax.scan``'s carry alone, with no
stacked per-step output.

``reverse=True`` runs the steps from the last sequence row to the first and
stores every result at the row of the sequence element it processed; the
initial rows then come *after* the steps (row ``N`` is the most recent).
That is exactly ``flip(Scan(flip(seqs), flip(init)))``; gradients use it so
a backward pass needs no reversed copies.

The frontend (``thx.scan.scan``) builds this op; its gradient and R_op are
built in ``thx.scan.derivatives`` from the inner graph's own gradient, so
the size of an n-th derivative grows with the inner graph, not with nested
copies of the outer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable, ancestors, io_toposort
from thx.graph.evaluate import evaluate
from thx.graph.fg import FunctionGraph
from thx.graph.op import Op, call_infer_shape
from thx.scan.derivatives import scan_grad, scan_rop


PERFORM_LIMIT = 200_000  # steps x inner nodes that Scan.perform agrees to run in Python


class Scan(Op):
    """A loop over an inner graph (see the module docstring for the layout).

    Parameters
    ----------
    fgraph : FunctionGraph
        The inner graph (inputs and outputs in the order described above).
    n_seqs : int
        Number of sequences.
    rec_taps : tuple of tuple of int
        The taps of each recurrent state (negative integers).
    n_nit : int
        Number of outputs that are not fed back.
    as_while : bool
        The last inner output is a scalar stop condition (``until``).
    reverse : bool
        Run from the last step to the first (used by gradients).
    truncate_gradient : int
        Backpropagate through at most this many steps (-1: all).
    store_steps : tuple of int, optional
        Per outer output (recurrent states, then nit outputs), how many of its
        last rows are kept (0: all; empty: all for every output).
    name : str
    mode : optional
        Compilation mode for the inner graph.
    """

    __props__ = ("fgraph", "n_seqs", "rec_taps", "n_nit", "as_while", "reverse",
                 "truncate_gradient", "name", "store_steps")

    def __init__(self, fgraph: FunctionGraph, n_seqs: int, rec_taps: Sequence[Sequence[int]],
                 n_nit: int, as_while: bool = False, reverse: bool = False,
                 truncate_gradient: int = -1, name: str | None = None, mode: Any = None,
                 store_steps: Sequence[int] = ()) -> None:
        self.fgraph = fgraph
        self.n_seqs = int(n_seqs)
        self.rec_taps = tuple(tuple(int(t) for t in taps) for taps in rec_taps)
        self.n_nit = int(n_nit)
        self.as_while = bool(as_while)
        self.reverse = bool(reverse)
        self.truncate_gradient = int(truncate_gradient)
        self.name = name or "scan_fn"
        self.mode = mode
        for k, taps in enumerate(self.rec_taps):
            if not taps or any(t >= 0 for t in taps):
                raise ValueError(f"Scan: recurrent state {k} needs negative taps, got {list(taps)}")
        if self.as_while and self.reverse:
            raise ValueError("Scan: a loop with a stop condition cannot run in reverse")
        n_in = len(fgraph.inputs)
        self.n_rec = len(self.rec_taps)
        self.n_tap_inputs = sum(len(t) for t in self.rec_taps)
        self.n_nonseqs = n_in - self.n_seqs - self.n_tap_inputs
        if self.n_nonseqs < 0:
            raise ValueError(f"Scan: the inner graph has {n_in} inputs, fewer than its "
                             f"{self.n_seqs} sequences and {self.n_tap_inputs} state taps")
        n_out = self.n_rec + self.n_nit + (1 if self.as_while else 0)
        if len(fgraph.outputs) != n_out:
            raise ValueError(f"Scan: the inner graph has {len(fgraph.outputs)} outputs, expected "
                             f"{n_out} ({self.n_rec} recurrent, {self.n_nit} others"
                             f"{', 1 condition' if self.as_while else ''})")
        self.lags = tuple(-min(t) for t in self.rec_taps)
        self.store_steps = _check_store_steps(self, store_steps)
        for k in range(self.n_rec):
            out_t = fgraph.outputs[k].type
            for v in self.inner_taps(k):
                if v.type != out_t:
                    raise TypeError(f"Scan '{self.name}': recurrent state {k} is read as {v.type} "
                                    f"but the step returns {out_t}; they must be the same type")
        if self.as_while:
            c = fgraph.outputs[-1]
            if getattr(c.type, "ndim", None) != 0:
                raise TypeError(f"Scan '{self.name}': the stop condition must be a scalar, got {c.type}")

    def __str__(self) -> str:
        kept = ""
        if self.store_steps:
            kept = ",store=[" + ",".join(str(s) if s else "all" for s in self.store_steps) + "]"
        return f"{'do_while' if self.as_while else 'for'}{{cpu,{self.name}{kept}}}"

    __repr__ = __str__

    # ------------------------------------------------------------ layout helpers
    def inner_seqs(self) -> list[Variable]:
        return self.fgraph.inputs[: self.n_seqs]

    def tap_offset(self, k: int) -> int:
        return self.n_seqs + sum(len(t) for t in self.rec_taps[:k])

    def inner_taps(self, k: int) -> list[Variable]:
        o = self.tap_offset(k)
        return self.fgraph.inputs[o: o + len(self.rec_taps[k])]

    def inner_nonseqs(self) -> list[Variable]:
        return self.fgraph.inputs[self.n_seqs + self.n_tap_inputs:]

    def split_outer_inputs(self, inputs: Sequence[Variable]) -> tuple[Variable, list, list, list]:
        """``(n_steps, sequences, initial buffers, non_sequences)``."""
        ns, nr = self.n_seqs, self.n_rec
        return (inputs[0], list(inputs[1: 1 + ns]), list(inputs[1 + ns: 1 + ns + nr]),
                list(inputs[1 + ns + nr:]))

    @property
    def host_barrier(self) -> bool:
        """A stop condition makes the output length a run-time value: the linker runs this
        node between jitted segments (see ``thx.lowering.segments``)."""
        return self.as_while

    def stored(self, k: int) -> int:
        """How many last rows outer output ``k`` keeps (0: its full trace)."""
        return self.store_steps[k] if self.store_steps else 0

    def clone_with(self, **changes: Any) -> "Scan":
        """This op with some constructor arguments changed (the rewrites' way to rebuild it).

        Examples
        --------
        >>> import thx, thx.tensor as T
        >>> h, _ = thx.scan(lambda a: a * 2, outputs_info=[T.dscalar()], n_steps=3)
        >>> h.owner.inputs[0].owner.op.clone_with(store_steps=[1])
        for{cpu,scan_fn,store=[1]}
        """
        args = dict(fgraph=self.fgraph, n_seqs=self.n_seqs, rec_taps=self.rec_taps, n_nit=self.n_nit,
                    as_while=self.as_while, reverse=self.reverse,
                    truncate_gradient=self.truncate_gradient, name=self.name, mode=self.mode,
                    store_steps=self.store_steps)
        args.update(changes)
        return Scan(**args)

    def is_map(self) -> bool:
        """No recurrent state and no stop condition: the steps are independent."""
        return self.n_rec == 0 and not self.as_while

    # ------------------------------------------------------------ building
    def make_node(self, n_steps, *inputs):
        from thx.tensor.type import TensorType, discrete_dtypes
        from thx.tensor.var import as_tensor_variable
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype not in discrete_dtypes:
            raise TypeError(f"Scan '{self.name}': n_steps must be an integer scalar, got {n_steps.type}")
        expected = self.n_seqs + self.n_rec + self.n_nonseqs
        if len(inputs) != expected:
            raise ValueError(f"Scan '{self.name}' takes {expected} inputs after n_steps "
                             f"({self.n_seqs} sequences, {self.n_rec} initial states, "
                             f"{self.n_nonseqs} non-sequences), got {len(inputs)}")
        for v in inputs:
            if getattr(getattr(v, "type", None), "host_only", False):
                raise NotImplementedError(
                    f"Scan '{self.name}': {v} ({v.type}) cannot enter a scan step: a loop's step "
                    f"is compiled into one XLA program, and sparse matrices live on the host "
                    f"(docs/sparse.md). Convert it with dense_from_sparse first, or loop in Python.")
        inputs = [as_tensor_variable(v) for v in inputs]
        _, seqs, inits, nonseqs = self.split_outer_inputs([n_steps] + inputs)
        for j, (s, inner) in enumerate(zip(seqs, self.inner_seqs())):
            if s.dtype != inner.type.dtype or s.ndim != inner.type.ndim + 1:
                raise TypeError(f"Scan '{self.name}': sequence {j} ({s}) has type {s.type}; its "
                                f"slices are {inner.type}, so it needs dtype {inner.type.dtype} "
                                f"and {inner.type.ndim + 1} dimensions")
        for k, init in enumerate(inits):
            st = self.fgraph.outputs[k].type
            if init.dtype != st.dtype or init.ndim != st.ndim + 1:
                raise TypeError(f"Scan '{self.name}': the initial buffer of recurrent state {k} "
                                f"({init}) has type {init.type}; the state is {st}, so it needs "
                                f"dtype {st.dtype} and {st.ndim + 1} dimensions")
        fixed = []
        for j, (v, inner) in enumerate(zip(nonseqs, self.inner_nonseqs())):
            if v.type != inner.type:
                conv = inner.type.convert_variable(v)
                if conv is None:
                    raise TypeError(f"Scan '{self.name}': non-sequence {j} ({v}) has type {v.type}, "
                                    f"the inner graph expects {inner.type}")
                v = conv
            fixed.append(v)
        outs = [TensorType(self.fgraph.outputs[k].type.dtype,
                           (False,) + self.fgraph.outputs[k].type.broadcastable)()
                for k in range(self.n_rec + self.n_nit)]
        return Apply(self, [n_steps] + seqs + inits + fixed, outs)

    # ------------------------------------------------------------ structure
    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """Which outer outputs depend on which outer inputs (through the recurrence)."""
        fg = self.fgraph
        n_out = self.n_rec + self.n_nit
        index = {v: i for i, v in enumerate(fg.inputs)}
        direct: list[set[int]] = []
        for o in fg.outputs[:n_out]:
            direct.append({index[v] for v in ancestors([o]) if v in index})
        tap_pos = [set(range(self.tap_offset(k), self.tap_offset(k) + len(self.rec_taps[k])))
                   for k in range(self.n_rec)]
        # close over the recurrence: reading state k means depending on what k depends on
        deps = [set(d) for d in direct]
        changed = True
        while changed:
            changed = False
            for o in range(n_out):
                for k in range(self.n_rec):
                    if deps[o] & tap_pos[k] and not deps[k] <= deps[o]:
                        deps[o] |= deps[k]
                        changed = True
        pattern = [[False] * n_out]  # n_steps sets lengths only
        for j in range(self.n_seqs):
            pattern.append([j in deps[o] for o in range(n_out)])
        for k in range(self.n_rec):
            pattern.append([o == k or bool(deps[o] & tap_pos[k]) for o in range(n_out)])
        first_ns = self.n_seqs + self.n_tap_inputs
        for j in range(self.n_nonseqs):
            pattern.append([first_ns + j in deps[o] for o in range(n_out)])
        return pattern

    def L_op(self, inputs, outputs, output_grads):
        self._no_stored_steps("gradient")
        return scan_grad(self, inputs, outputs, output_grads)

    def R_op(self, inputs, eval_points):
        self._no_stored_steps("R_op")
        return scan_rop(self, inputs, eval_points)

    def _no_stored_steps(self, what: str) -> None:
        if any(self.store_steps):
            raise NotImplementedError(
                f"{self}: no {what} for a scan that keeps only its last steps (an optimized graph's "
                f"scan); take derivatives of the graph before compiling it")

    # ------------------------------------------------------------ printing
    def pprint(self, node: Apply, ins: list[str]) -> str:
        """``pp`` form: the loop's name applied to its outer inputs (``for{cpu,scan_fn}(n, xs, ...)``)."""
        return f"{self}({', '.join(ins)})"

    @property
    def inner_graph(self) -> FunctionGraph:
        """The step's graph: debugprint prints it under "Inner graphs of the scan ops:"."""
        return self.fgraph

    def inner_to_outer(self, node: Apply) -> dict[Variable, Variable]:
        """Each inner input -> the outer input it reads: a sequence's slice -> the sequence,
        every tap of a recurrent state -> its initial buffer, a non-sequence -> itself outside."""
        _, seqs, inits, nonseqs = self.split_outer_inputs(node.inputs)
        links: dict[Variable, Variable] = dict(zip(self.inner_seqs(), seqs))
        for k in range(self.n_rec):
            for inner in self.inner_taps(k):
                links[inner] = inits[k]
        links.update(zip(self.inner_nonseqs(), nonseqs))
        return links

    # ------------------------------------------------------------ shapes
    def infer_shape(self, fgraph, node: Apply, input_shapes: list) -> list:
        """Output shapes without running the loop.

        A recurrent state's trace has its initial rows plus ``n_steps`` rows of the
        initial buffer's row shape; a nit output has ``n_steps`` rows of the shape
        the inner graph's own ``infer_shape`` rules give its step output, written
        on the outer inputs' shapes.  With a stop condition the number of rows is
        known only at run time (NotImplementedError).
        """
        from thx.tensor.elemwise import cast  # make_node's reason: the tensor layer builds the dims
        if self.as_while:
            raise NotImplementedError(f"{self}: the number of steps is known only at run time")
        n_steps = node.inputs[0]
        if n_steps.dtype != "int64":
            n_steps = cast(n_steps, "int64")
        ns, nr = self.n_seqs, self.n_rec
        seq_shapes = input_shapes[1: 1 + ns]
        init_shapes = input_shapes[1 + ns: 1 + ns + nr]
        out = [(init_shapes[k][0] + n_steps, *init_shapes[k][1:]) for k in range(nr)]
        if self.n_nit:
            inner_in = [tuple(s[1:]) for s in seq_shapes]
            for k, taps in enumerate(self.rec_taps):
                inner_in += [tuple(init_shapes[k][1:])] * len(taps)
            inner_in += [tuple(s) for s in input_shapes[1 + ns + nr:]]
            nit_shapes = self._inner_output_shapes(inner_in)[nr: nr + self.n_nit]
            out += [(n_steps, *shp) for shp in nit_shapes]
        from thx.tensor.elemwise import minimum
        from thx.tensor.var import constant
        return [(minimum(shp[0], constant(self.stored(k), dtype="int64")), *shp[1:])
                if self.stored(k) else shp for k, shp in enumerate(out)]

    def _inner_output_shapes(self, inner_input_shapes: list[tuple]) -> list[tuple]:
        """The inner outputs' shapes from its inputs' (outer) shapes, by each inner op's
        ``infer_shape``; raises if a shape would need a value computed inside the loop."""
        from thx.graph.basic import Constant
        from thx.tensor.var import constant
        fg = self.fgraph
        shapes: dict[Variable, Sequence] = dict(zip(fg.inputs, inner_input_shapes))

        def shape_of(v: Variable) -> Sequence:
            if v not in shapes:
                if not isinstance(v, Constant):
                    raise NotImplementedError(f"{self}: no shape for inner variable {v}")
                shapes[v] = tuple(constant(int(d), dtype="int64") for d in np.shape(v.data))
            return shapes[v]

        for n in io_toposort(fg.inputs, fg.outputs):
            try:
                outs = call_infer_shape(n.op, fg, n, [shape_of(i) for i in n.inputs])
            except Exception:  # noqa: BLE001 - no rule, or one that cannot say: no shape
                continue  # for its outputs (only reading one of them fails)
            for o, shp in zip(n.outputs, outs):
                shapes[o] = tuple(d if isinstance(d, Variable) else constant(int(d), dtype="int64")
                                  for d in shp)
        result = [shape_of(o) for o in fg.outputs]
        inner_vars = set(fg.inputs) | {o for n in fg.apply_nodes for o in n.outputs}
        dims = [d for shp in result for d in shp]
        if any(v in inner_vars and not isinstance(v, Constant) for v in ancestors(dims)):
            raise NotImplementedError(f"{self}: an output shape depends on values inside the loop")
        return result

    # ------------------------------------------------------------ NumPy reference
    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        """Run the loop in NumPy, evaluating the inner graph with each op's ``perform``."""
        n_steps, seqs, inits, nonseqs = self.split_outer_inputs(list(inputs))
        N = int(n_steps)
        if N * max(1, len(self.fgraph.apply_nodes)) > PERFORM_LIMIT:
            # constant folding calls perform: a long loop is left to XLA rather than run in Python
            raise NotImplementedError(f"{self}: {N} steps are too many for the NumPy reference")
        if N < 0:
            raise IndexError(f"Scan '{self.name}' was asked to run for a negative number of steps ({N})")
        for j, s in enumerate(seqs):
            if np.shape(s)[0] < N:
                raise ValueError(f"Scan '{self.name}': sequence {j} has {np.shape(s)[0]} elements, "
                                 f"fewer than the {N} steps requested")
        order = range(N - 1, -1, -1) if self.reverse else range(N)
        bufs = [list(np.asarray(b)[::-1] if self.reverse else np.asarray(b)) for b in inits]
        rec_rows: list[dict[int, Any]] = [dict() for _ in range(self.n_rec)]
        nit_rows: list[dict[int, Any]] = [dict() for _ in range(self.n_nit)]
        done = 0
        for t in order:
            args = [np.asarray(s)[t] for s in seqs]
            for k, taps in enumerate(self.rec_taps):
                L = self.lags[k]
                args += [bufs[k][len(bufs[k]) - L + (L + tap)] for tap in taps]
            inner = dict(zip(self.fgraph.inputs, args + list(nonseqs)))
            outs = evaluate(self.fgraph.outputs, inner)
            for k in range(self.n_rec):
                val = np.asarray(outs[k], dtype=self.fgraph.outputs[k].type.dtype)
                bufs[k].append(val)
                rec_rows[k][t] = val
            for j in range(self.n_nit):
                nit_rows[j][t] = np.asarray(outs[self.n_rec + j],
                                            dtype=self.fgraph.outputs[self.n_rec + j].type.dtype)
            done += 1
            if self.as_while and bool(outs[-1]):
                break
        steps = sorted(rec_rows[0]) if self.n_rec else sorted(nit_rows[0]) if self.n_nit else []
        for k in range(self.n_rec):
            init = np.asarray(inits[k])
            rows = [rec_rows[k][t] for t in steps]
            body = np.stack(rows) if rows else np.zeros((0,) + init.shape[1:], init.dtype)
            full = np.concatenate([body, init]) if self.reverse else np.concatenate([init, body])
            output_storage[k][0] = self._keep(k, full.astype(init.dtype))
        for j in range(self.n_nit):
            rows = [nit_rows[j][t] for t in steps]
            otype = self.fgraph.outputs[self.n_rec + j].type
            full = np.stack(rows) if rows else _empty_nit(self, j, seqs, nonseqs, otype)
            output_storage[self.n_rec + j][0] = self._keep(self.n_rec + j, full)

    def _keep(self, k: int, full: np.ndarray) -> np.ndarray:
        """The rows of output ``k``'s full trace that ``store_steps`` keeps (the most recent)."""
        s = self.stored(k)
        if not s:
            return full
        return np.ascontiguousarray(full[:s] if self.reverse else full[max(len(full) - s, 0):])


def _check_store_steps(op: Scan, store_steps: Sequence[int]) -> tuple[int, ...]:
    """``store_steps`` as a tuple (empty when every output keeps its full trace)."""
    steps = tuple(int(s) for s in store_steps)
    if not any(steps):
        return ()
    n_out = op.n_rec + op.n_nit
    if len(steps) != n_out or any(s < 0 for s in steps):
        raise ValueError(f"Scan '{op.name}': store_steps needs one count >= 0 per output ({n_out}), "
                         f"got {list(steps)}")
    if op.as_while:
        raise ValueError(f"Scan '{op.name}': a loop with a stop condition keeps all its steps "
                         f"(store_steps {list(steps)})")
    return steps


def _empty_nit(op: Scan, j: int, seqs, nonseqs, otype) -> np.ndarray:
    """A zero-step nit output: run the body on zeros once to learn the row shape."""
    shape: tuple = ()
    try:
        args = [np.zeros(np.shape(s)[1:], dtype=np.asarray(s).dtype) for s in seqs]
        for k, taps in enumerate(op.rec_taps):
            t = op.fgraph.outputs[k].type
            args += [np.zeros((), t.dtype)] * len(taps)
        inner = dict(zip(op.fgraph.inputs, args + list(nonseqs)))
        shape = np.shape(evaluate(op.fgraph.outputs, inner)[op.n_rec + j])
    except Exception:  # noqa: BLE001 - only the shape is wanted; fall back to unit dims
        shape = (0,) * otype.ndim
    return np.zeros((0,) + tuple(shape), dtype=otype.dtype)
