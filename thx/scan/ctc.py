"""Theano's ``theano.tensor.nnet.ctc``: the Connectionist Temporal Classification loss.

``ctc(activations, labels, input_lengths)``: ``activations`` ``(time, batch, alphabet)`` are
unnormalized (a softmax over the alphabet is applied, as warp-ctc does), ``labels``
``(batch, max_label_length)`` hold each example's label sequence padded with negative values,
``input_lengths`` ``(batch,)`` how many time steps each example has; the blank symbol is 0.
The result is ``-log p(labels | activations)`` per example.

Theano called the warp-ctc library; thx writes the forward algorithm as a graph: a ``scan``
over time of the log-probabilities of the extended label sequence (blank, l1, blank, l2, ...,
blank), with the steps beyond an example's length leaving its state unchanged.  Unreachable
states hold a large negative number instead of ``-inf``, so the log-sum-exp and its gradient
stay finite; the gradient with respect to the activations is thx's gradient of that graph.
It lives with the loops (``thx/scan/ctc.py``, a floor above the tensor ops, since it is a
scan); ``thx/__init__.py`` hangs it on ``T.nnet`` as ``ctc`` and the ``theano`` alias maps
``theano.tensor.nnet.ctc`` here.  The module is callable (``T.nnet.ctc(...)``) as well as
importable (``from theano.tensor.nnet.ctc import ctc``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from thx.graph.basic import Variable
from thx.tensor import elemwise as E
from thx.scan.frontend import scan
from thx.tensor.basic import arange, concatenate, full, stack
from thx.tensor.math import logsoftmax, sum as _sum
from thx.tensor.shape import shape
from thx.tensor.subtensor import getitem
from thx.tensor.type import discrete_dtypes, float_dtypes
from thx.tensor.var import as_tensor_variable

__all__ = ["ctc", "ctc_available", "NEG"]

NEG = -1e30  # log-probability of an unreachable state (finite: no inf - inf in the gradient)


def ctc_available() -> bool:
    """True: thx's CTC needs no external library (Theano's needed warp-ctc)."""
    return True


def _logsumexp(*terms: Variable) -> Variable:
    m = terms[0]
    for t in terms[1:]:
        m = E.maximum(m, t)
    total = E.exp(terms[0] - m)
    for t in terms[1:]:
        total = total + E.exp(t - m)
    return m + E.log(total)


def ctc(activations: Any, labels: Any, input_lengths: Any) -> Variable:
    """The CTC loss of each example of a minibatch (Theano's ``ctc``).

    Parameters
    ----------
    activations : 3-d float tensor ``(time, batch, alphabet)``
        Unnormalized scores; symbol 0 is the blank.
    labels : 2-d integer tensor ``(batch, max_label_length)``
        Label sequences (symbols ``1..alphabet-1``), padded with negative values.
    input_lengths : 1-d integer tensor ``(batch,)``
        The number of time steps of each example.

    Returns
    -------
    1-d tensor ``(batch,)``
        ``-log p(labels | activations)``.

    Raises
    ------
    TypeError
        For inputs of the wrong rank or kind.

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.scan.ctc import ctc
    >>> acts = np.zeros((2, 1, 2))     # two steps, uniform over {blank, a}
    >>> float(ctc(acts, np.array([[1]]), np.array([2])).eval()[0])  # paths "aa", "a_", "_a"
    0.2876820724517809
    """
    acts = as_tensor_variable(activations)
    labels = as_tensor_variable(labels)
    lengths = as_tensor_variable(input_lengths)
    if acts.ndim != 3 or acts.dtype not in float_dtypes:
        raise TypeError(f"ctc: activations must be a 3-d float tensor (time, batch, alphabet), got {acts.type}")
    if labels.ndim != 2 or labels.dtype not in discrete_dtypes:
        raise TypeError(f"ctc: labels must be a 2-d integer tensor (batch, label length), got {labels.type}")
    if lengths.ndim != 1 or lengths.dtype not in discrete_dtypes:
        raise TypeError(f"ctc: input_lengths must be a 1-d integer tensor, got {lengths.type}")
    dt = acts.dtype
    neg = E.cast(NEG, dt)
    logp = logsoftmax(acts)  # over the alphabet (the last axis)
    n_batch, max_len = shape(labels)[0], shape(labels)[1]
    label_len = _sum(E.ge(labels, 0), axis=1, dtype="int64")
    safe = E.switch(E.ge(labels, 0), labels, 0)
    # extended labels: blank, l1, blank, l2, ..., blank  (batch, 2 * max_len + 1)
    blanks = full((n_batch, max_len), 0, dtype=safe.dtype)
    ext = stack([blanks, safe], axis=2).reshape((n_batch, 2 * max_len))
    ext = concatenate([ext, full((n_batch, 1), 0, dtype=ext.dtype)], axis=1)
    n_states = 2 * max_len + 1
    states = arange(n_states).dimshuffle("x", 0)
    valid = E.lt(states, (2 * label_len + 1).dimshuffle(0, "x"))  # states of each example
    # a skip s-2 -> s is allowed into a label different from the label two states back
    prev2 = concatenate([full((n_batch, 2), -1, dtype=ext.dtype), ext[:, :-2]], axis=1)
    can_skip = E.and_(E.neq(ext, 0), E.neq(ext, prev2))
    batch_idx = arange(n_batch).dimshuffle(0, "x")
    # emissions[t, b, s] = logp[t, b, ext[b, s]]
    emit = getitem(logp, (slice(None), batch_idx, ext))
    first = E.switch(E.and_(valid, E.lt(states, 2)), emit[0], neg)

    def step(e_t, t, alpha, skip, ok, lens):
        shifted1 = concatenate([full((n_batch, 1), NEG, dtype=dt), alpha[:, :-1]], axis=1)
        shifted2 = concatenate([full((n_batch, 2), NEG, dtype=dt), alpha[:, :-2]], axis=1)
        shifted2 = E.switch(skip, shifted2, neg)
        new = E.switch(ok, _logsumexp(alpha, shifted1, shifted2) + e_t, neg)
        active = E.lt(t, lens).dimshuffle(0, "x")  # steps beyond an example's length keep its state
        return E.switch(active, new, alpha)

    alphas, _ = scan(step, sequences=[emit[1:], arange(1, shape(acts)[0])], outputs_info=first,
                     non_sequences=[can_skip, valid, lengths])
    final = concatenate([first.dimshuffle("x", 0, 1), alphas], axis=0)[-1]
    last = 2 * label_len  # the final blank; the last label is one before it
    rows = arange(n_batch)
    end_blank = getitem(final, (rows, last))
    end_label = E.switch(E.gt(label_len, 0), getitem(final, (rows, E.maximum(last - 1, 0))), neg)
    cost = -_logsumexp(end_blank, end_label)
    # no alignment fits (a label longer than the input allows): an infinite cost, as warp-ctc's
    return E.switch(E.gt(cost, -NEG / 10), E.cast(float("inf"), dt), cost)


class _CtcModule(types.ModuleType):
    """This module, callable as ``T.nnet.ctc(activations, labels, input_lengths)``."""

    def __call__(self, activations: Any, labels: Any, input_lengths: Any) -> Variable:
        return ctc(activations, labels, input_lengths)


sys.modules[__name__].__class__ = _CtcModule
