"""``theano.scan_checkpoints``: a scan whose gradient stores one state every ``save_every_N`` steps
and recomputes the steps between them.

Built as Theano builds it, from two scans: an outer scan over chunks of ``save_every_N`` steps
whose step runs an inner scan over one chunk and keeps its last state.  The outer scan's
gradient then stores the chunk boundaries only, and its backward step re-runs the inner scan of
one chunk (forward, then backward) from the stored boundary.

Different from Theano's, for XLA's static shapes: every inner scan runs exactly
``save_every_N`` steps.  A length that ``save_every_N`` does not divide pads the sequences by
repeating their last entry (not with zeros: a padded step then computes on values the step has
already seen, so it cannot make an infinity or a NaN that would leak into the gradient as
``0 * inf``), and the last chunk's result is read at its last real step.  (Theano's padding
added ``n % N`` zero rows where ``N - n % N`` were needed.)
"""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Variable
from thx.scan.frontend import scan

__all__ = ["scan_checkpoints"]


def _as_list(v: Any) -> list:
    if v is None:
        return [None]
    return list(v) if isinstance(v, (list, tuple)) else [v]


def scan_checkpoints(fn: Any, sequences: Any = (), outputs_info: Any = None, non_sequences: Any = (),
                     name: str = "checkpointscan_fn", n_steps: Any = None, save_every_N: int = 10,
                     padding: bool = True, no_padding: bool | None = None) -> tuple[Any, Any]:
    """A scan that saves memory in its gradient: only every ``save_every_N``-th state is stored.

    Parameters
    ----------
    fn, sequences, outputs_info, non_sequences, n_steps, name
        As :func:`thx.scan`, with Theano's restrictions: no taps (one recurrent state per
        output, or None for a per-step output), sequences of equal length.
    save_every_N : int
        Steps per chunk: the gradient recomputes up to this many steps from a stored state.
    padding, no_padding
        Accepted for Theano's signatures (``padding`` in the docs, ``no_padding`` in 1.0's
        code).  thx always pads a length that ``save_every_N`` does not divide (see the module
        docstring); it costs one copy of the sequences.

    Returns
    -------
    (outputs, updates)
        As :func:`thx.scan`, but each output has one entry per chunk: its value at steps
        ``N-1, 2N-1, ...`` and at the last step (``outputs[-1]`` is the final state).

    Raises
    ------
    RuntimeError
        If ``outputs_info`` has taps (Theano's message).
    ValueError
        If ``save_every_N`` is not a positive integer, or there is neither a sequence nor
        ``n_steps``.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> partial, _ = thx.scan_checkpoints(lambda x_t, s: s + x_t, sequences=[x],
    ...                                   outputs_info=[T.zeros_like(x[0])], save_every_N=4)
    >>> thx.function([x], partial)(np.arange(10.))
    array([ 6., 28., 45.])
    """
    from thx.tensor import basic as B
    from thx.tensor.var import as_tensor_variable

    if isinstance(save_every_N, bool) or not isinstance(save_every_N, int) or save_every_N <= 0:
        raise ValueError(f"scan_checkpoints: save_every_N must be a positive integer, got {save_every_N!r}")
    N = save_every_N
    seqs = [as_tensor_variable(s) for s in ([] if sequences is None else _as_list(sequences))]
    infos = _as_list(outputs_info)
    nons = [] if non_sequences is None else _as_list(non_sequences)
    for info in infos:
        if isinstance(info, dict) and "taps" in info:
            raise RuntimeError("scan_checkpoints doesn't work with taps.")
    if n_steps is None:
        if not seqs:
            raise ValueError("scan_checkpoints: give sequences or n_steps")
        n_steps = seqs[0].shape[0]
    n_steps = as_tensor_variable(n_steps)
    n_chunks = (n_steps + (N - 1)) // N
    # steps of each chunk: N, ..., N, then what is left for the last one
    chunk_steps = B.alloc(as_tensor_variable(N).astype("int64"), n_chunks)
    from thx.tensor.subtensor import set_subtensor
    chunk_steps = set_subtensor(chunk_steps[-1], (n_steps - (n_chunks - 1) * N).astype("int64"))
    chunked = []
    for s in seqs:
        s = s[:n_steps]
        pad = (N - s.shape[0] % N) % N
        s = B.concatenate([s, B.repeat(s[-1:], pad, axis=0)])
        rest = [s.shape[d] for d in range(1, s.ndim)]
        chunked.append(s.reshape([s.shape[0] // N, N] + rest, ndim=s.ndim + 1))
    n_seq, n_non = len(chunked), len(nons)

    def outer_step(*args: Variable):
        inner_seqs = list(args[:n_seq])
        steps = args[n_seq]
        prev = list(args[n_seq + 1:len(args) - n_non])
        inner_nons = list(args[len(args) - n_non:])
        prev_iter = iter(prev)
        inner_infos = [None if info is None else next(prev_iter) for info in infos]
        res, upd = scan(fn, sequences=inner_seqs, outputs_info=inner_infos,
                        non_sequences=inner_nons, n_steps=N, name=name + "_inner")
        res = res if isinstance(res, list) else [res]
        return [r[steps - 1] for r in res], upd

    return scan(outer_step, sequences=chunked + [chunk_steps], outputs_info=infos,
                non_sequences=nons, n_steps=n_chunks, name=name + "_outer")
