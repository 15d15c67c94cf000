"""MaskedScan: a Scan run over padded sequences for a traced number of active steps.

Shape buckets (``thx/compile/buckets.py``) pad a varying sequence axis on the
host up to a bucket and pass its true length as a traced value.  A Scan over
such a sequence becomes a ``MaskedScan``: it runs the padded number of steps
(``n_steps``, known while tracing) and only the first ``active`` of them
change anything.  A masked step leaves every recurrent state as it was (so
the state at the true end is carried to the padded end, in either direction)
and writes zeros as its other outputs; rows past ``active`` are padding,
which the bucket analysis proves nothing reads.

Layout: inputs ``(active, n_steps, *scan inputs)``, outputs those of the
wrapped Scan.  The op exists only in compiled graphs (after gradients are
built), so it has no gradient.
"""

from __future__ import annotations

from thx.graph.basic import Apply
from thx.graph.op import Op
from thx.scan.op import Scan


class MaskedScan(Op):
    """``scan`` (a Scan op) run ``n_steps`` steps of which the first ``active`` are real.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> from thx.scan.masked import MaskedScan
    >>> h, _ = thx.scan(lambda x, a: a + x, sequences=[T.dvector()], outputs_info=[T.dscalar()])
    >>> MaskedScan(h.owner.inputs[0].owner.op)
    masked_for{cpu,scan_fn}
    """

    __props__ = ("scan",)

    def __init__(self, scan: Scan) -> None:
        if scan.as_while:
            raise ValueError("MaskedScan: a scan with a stop condition cannot be masked")
        self.scan = scan

    def __str__(self) -> str:
        return f"masked_{self.scan}"

    __repr__ = __str__

    def make_node(self, active, n_steps, *inputs):
        from thx.tensor.type import discrete_dtypes
        from thx.tensor.var import as_tensor_variable
        active = as_tensor_variable(active)
        if active.ndim != 0 or active.dtype not in discrete_dtypes:
            raise TypeError(f"MaskedScan: the active length must be an integer scalar, got {active.type}")
        inner = self.scan.make_node(n_steps, *inputs)
        return Apply(self, [active] + list(inner.inputs), [o.type() for o in inner.outputs])

    def perform(self, node, inputs, out):  # pragma: no cover - only compiled graphs hold it
        raise NotImplementedError("MaskedScan runs only inside a compiled function")
