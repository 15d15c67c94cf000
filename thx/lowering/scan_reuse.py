"""A scan's stacked outputs written over its sequences: one ``[steps, ...]`` buffer instead of two.

``lax.scan`` reads row ``t`` of each sequence and writes row ``t`` of each
stacked output into a fresh, zero-filled array.  When an output row has the
shape and dtype of a sequence row, the loop can instead carry that sequence
and overwrite its row ``t`` with the output's row ``t``: the step has read the
row before it writes it (the output depends on what the step read), and the
other rows are either already read or still untouched.  XLA updates the
carried array in place when nothing reads the sequence after the loop (a
gradient's backward loop reading per-step values that only it needs: the
stacked ``delta`` of a push-out, ``thx/rewriting/scan_pushout.py``, then
costs no memory of its own); otherwise it copies the sequence once, as it
would have zero-filled the fresh array.  An output row with no sequence of
its shape can be written over a group of vector sequences whose rows side by
side are as long (the LSTM's ``4H`` ``delta`` over its four ``H`` gate rows):
each buffer takes its slice of the row, and the buffers are put side by side
after the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["pair_rows", "row_shapes", "scan_over_sequences"]


def pair_rows(seqs: list[Any], row_shapes: list[Any],
              candidates: list[bool] | None = None) -> dict[int, tuple[int, ...]]:
    """Stacked output ``y`` -> the sequences whose buffers it takes.

    Parameters
    ----------
    seqs
        The sequences, each ``[steps, ...]``.
    row_shapes
        One ``jax.ShapeDtypeStruct`` per stacked output: the shape and dtype of its row.
    candidates
        Which sequences may be taken (default all).  A function's input is not: XLA would copy
        it before the loop (the caller keeps it), saving nothing and adding the copy.

    Returns
    -------
    dict
        Output index -> the indices of the sequences it takes.  An output first takes one
        sequence with rows of its shape and dtype (the last matching one first: a gradient's
        later sequences are its per-step intermediates); an output left without one takes a
        group of vector sequences of its dtype whose rows, side by side, are as long as its
        row (the LSTM's backward step writes a ``4H`` row ``delta`` and reads four ``H`` rows of
        gate values: the ``delta`` of step ``t`` is written over their row ``t``).  Each
        sequence is taken at most once.  Only rows of at most one axis are paired: the row read
        must be stored apart and ordered before the write (``_stored``), a small kernel per step
        for a vector row, but for a matrix row (a batched state) it cost 20-30% of the
        gradient's time (the batched tanh RNN: 0.70x JAX -> 0.90x) for memory its peak did not
        need.
    """
    free = [j for j in range(len(seqs))[::-1] if candidates is None or candidates[j]]
    pairs: dict[int, tuple[int, ...]] = {}

    def row_of(j):
        return tuple(np.shape(seqs[j])[1:]), np.dtype(seqs[j].dtype)

    for y, sh in enumerate(row_shapes):  # one sequence of the output's row
        if len(sh.shape) > 1:  # a matrix row (a batched state): reading it apart costs more than it saves
            continue
        for j in free:
            if row_of(j) == (tuple(sh.shape), np.dtype(sh.dtype)):
                pairs[y] = (j,)
                free.remove(j)
                break
    for y, sh in enumerate(row_shapes):  # a group of vector sequences as long as the row, side by side
        if y in pairs or len(sh.shape) != 1:
            continue
        group, left = [], sh.shape[0]
        for j in free:
            rows, dt = row_of(j)
            if len(rows) == 1 and dt == np.dtype(sh.dtype) and 0 < rows[0] <= left:
                group.append(j)
                left -= rows[0]
                if not left:
                    break
        if not left and len(group) > 1:
            pairs[y] = tuple(group)
            for j in group:
                free.remove(j)
    return pairs


def scan_over_sequences(step: Callable, carry0: Any, seqs: list[Any], pairs: dict[int, tuple[int, ...]],
                        shapes: list[Any], counter: Callable[[Any], Any], N: int,
                        reverse: bool) -> tuple[Any, list]:
    """``lax.scan(step, carry0, seqs)`` whose stacked outputs (rows ``shapes``) are carried
    buffers written row by row: output ``y`` in ``pairs`` is written into the buffers of the
    sequences ``pairs[y]`` (read, then overwritten; a group's buffers each take their slice of
    the row and are put side by side after the loop), any other into a fresh one made after the
    sequences.

    ``step(carry, xs) -> (carry, ys)`` is the ordinary step; ``counter(carry)`` is the number of
    steps done, from which the row read and written is found.  Returns ``(carry, ys)`` as
    ``lax.scan`` would.  A fresh buffer is filled from the sequences' first elements times
    zero: every row is written before it is read, and the data dependence keeps XLA from
    making the buffer at the program's start, where it would be live beside everything the
    program computes before the loop (a gradient's backward loop: its ``delta`` buffer beside
    the forward loop's arrays).
    """
    n_ys = len(shapes)
    taken = sorted(j for g in pairs.values() for j in g)
    rest = [j for j in range(len(seqs)) if j not in taken]
    late = _zero_after(seqs)
    # the carried buffers: output y's are slots[y] (its group's sequences, or one fresh buffer)
    bufs0, slots, cuts = [], [], []
    for y in range(n_ys):
        if y in pairs:
            group = pairs[y]
            slots.append(list(range(len(bufs0), len(bufs0) + len(group))))
            bufs0 += [seqs[j] for j in group]
            widths = [int(np.shape(seqs[j])[1]) for j in group] if len(group) > 1 else []
            cuts.append([int(c) for c in np.cumsum([0] + widths)] if widths else [])
        else:
            slots.append([len(bufs0)])
            bufs0.append(jnp.broadcast_to(late.astype(shapes[y].dtype), (N,) + tuple(shapes[y].shape)))
            cuts.append([])
    buf_of = {j: slots[y][g] for y, group in pairs.items() for g, j in enumerate(group)}

    def body(c, xs):
        inner, bufs = c
        i = counter(inner)
        row = N - 1 - i if reverse else i
        it = iter(xs if xs is not None else ())
        full = [next(it) if j in rest else
                _stored(lax.dynamic_index_in_dim(bufs[buf_of[j]], row, 0, keepdims=False))
                for j in range(len(seqs))]
        inner, ys = step(inner, tuple(full))
        # every write after every read of the buffers (an output needs not read its own buffer's
        # row; without the order XLA copies the buffer every step to keep the row for its reader)
        written, _ = lax.optimization_barrier((list(ys[:n_ys]), [full[j] for j in taken]))
        bufs = list(bufs)
        for y, v in enumerate(written):
            parts = [v] if not cuts[y] else [v[a:b] for a, b in zip(cuts[y][:-1], cuts[y][1:])]
            for b, part in zip(slots[y], parts):
                bufs[b] = lax.dynamic_update_index_in_dim(bufs[b], part, row, 0)
        return (inner, bufs), tuple(ys[n_ys:])

    xs = tuple(seqs[j] for j in rest)
    (carry, bufs), extra = lax.scan(body, (carry0, bufs0), xs if xs else None, length=N, reverse=reverse)
    outs = [bufs[sl[0]] if len(sl) == 1 else jnp.concatenate([bufs[b] for b in sl], axis=1)
            for sl in slots]
    return carry, outs + list(extra)


def _stored(x):
    """``x`` as an array of its own: the row read from a buffer the step then overwrites.

    XLA fuses a slice into the kernels that read it; a kernel run after the buffer's write
    would read the new row, so XLA copies the whole buffer every step instead (the batched
    GRU's gradient: 2x slower).  A sum with ``-0.0`` (exact: signed zeros and NaNs kept) is
    a reduction, which XLA does not fuse into its readers."""
    if x.ndim == 0 or not jnp.issubdtype(x.dtype, jnp.inexact):
        return x
    pad = jnp.full_like(x, -0.0)
    return lax.reduce(jnp.stack([x, pad], -1), jnp.asarray(-0.0, x.dtype), lax.add, (x.ndim,))


def _zero_after(seqs: list[Any]):
    """A float zero XLA computes from the sequences (``x * 0.0`` is not folded: ``x`` may be NaN),
    so what is made from it is made after them."""
    z = jnp.zeros((), "float32")
    for s in seqs:
        if np.size(s):
            x = jnp.ravel(s)[0]
            z = z + (jnp.real(x) if jnp.iscomplexobj(x) else x).astype("float32") * 0.0
    return z


def row_shapes(step: Callable, carry0: Any, seqs: list[Any], n_ys: int) -> list[Any]:
    """The shapes and dtypes of the rows of ``step``'s first ``n_ys`` stacked outputs."""
    xs0 = tuple(jax.ShapeDtypeStruct(np.shape(s)[1:], s.dtype) for s in seqs)
    return list(jax.eval_shape(step, carry0, xs0)[1][:n_ys])
