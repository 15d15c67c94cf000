"""Theano-style error messages naming the Apply node that failed, and where the user built it.

Shapes are concrete while a program is traced, so a shape error surfaces at
the failing node's implementation call in the slot interpreter
(``thx/lowering/program.py``), and a test value's at the node's ``perform``
(``thx/graph/test_value.py``).  There ``with_node`` re-raises the error as
Theano's ``raise_with_op`` did: the same exception type, its message followed by

.. code-block:: text

    Apply node that caused the error: dot(x, y)
    Toposort index: 1
    Inputs types: [TensorType(float64, matrix), TensorType(float64, matrix)]
    Inputs shapes: [(2, 3), (4, 5)]
    Inputs strides: [(24, 8), (40, 8)]
    Inputs values: ['not shown', 'not shown']
    Outputs clients: [[Elemwise{add,no_inplace}(dot.0, DimShuffle{x,x}.0)]]

    Backtrace when the node is created(use Theano flag traceback.limit=N to make it longer):
      File "model.py", line 3, in <module>
        z = T.dot(x, y) + 1

    HINT: Use the Theano flag 'exception_verbosity=high' for a debugprint and storage map
    footprint of this apply node.

An error inside an inner graph (a scan step, an ifelse branch) names the
inner node, then the outer node holding that graph and where it was built.
The report is also kept on the exception as ``thx_report`` (the function's
own error message adds it after the first line of the original one).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.config import config
from thx.graph import trace
from thx.graph.basic import Apply

REPORT_ATTR = "thx_report"  # the node report, set on the re-raised exception
NODE_ATTR = "thx_node"  # the innermost Apply node that failed
RUNTIME_ATTR = "thx_runtime_check"  # the message of a failed run-time check (thx/lowering/checks.py)


def _debugprint(node: Apply) -> str | None:
    """debugprint's tree of ``node`` with types (None if thx.printing is not loaded)."""
    # thx.printing sits above this layer and ``import thx`` always loads it: look it up rather
    # than import it, so the layers keep pointing down
    printing = sys.modules.get("thx.printing")
    if printing is None:
        return None
    return printing.debugprint(node, print_type=True, stop_on_name=True, file="str")


def _value_text(v: Any) -> Any:
    if isinstance(v, (np.ndarray, np.generic, int, float)) and np.size(v) <= 5:
        return np.asarray(v)
    return "not shown"


def _strides(shape: tuple, dtype: Any) -> tuple:
    """Row-major strides in bytes: how XLA lays out the array and NumPy gets it back."""
    try:
        size = np.dtype(dtype).itemsize
    except TypeError:
        return ()
    out = []
    for n in reversed(shape):
        out.append(size)
        size *= n
    return tuple(reversed(out))


def _clients(node: Apply, clients: dict) -> list:
    return [["output" if c == "output" else c for c, _ in clients.get(o, ())] for o in node.outputs]


def backtrace(var: Any, what: str = "the node") -> str:
    """The "Backtrace when the node is created" section for the node computing ``var`` ('' if none)."""
    tr = trace.get(var)
    if not tr:
        return ("\nHINT: no backtrace was recorded where this node was created (traceback.limit=0, or "
                "the node was made by a rewrite); try the flag 'optimizer=fast_compile'.\n")
    return (f"\nBacktrace when {what} is created(use Theano flag traceback.limit=N to make it "
            f"longer):\n{tr.format()}")


def report(node: Apply, inputs: Sequence[Any] | None = None, index: int | None = None,
           clients: dict | None = None) -> str:
    """The lines Theano's ``raise_with_op`` adds to an error raised computing ``node``.

    Parameters
    ----------
    node
        The Apply node that failed.
    inputs
        Its input values (arrays or JAX tracers: their shapes), if known.
    index
        Its position in the program's topological order.
    clients
        The graph's ``clients`` map (for the "Outputs clients" line).

    Examples
    --------
    >>> import numpy as np
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> y = T.exp(x)
    >>> print(report(y.owner, [np.ones(3)]))  # doctest: +ELLIPSIS
    <BLANKLINE>
    Apply node that caused the error: Elemwise{exp,no_inplace}(x)
    Inputs types: [TensorType(float64, vector)]
    Inputs shapes: [(3,)]
    Inputs strides: [(8,)]
    Inputs values: [array([1., 1., 1.])]
    <BLANKLINE>
    Backtrace when the node is created(use Theano flag traceback.limit=N to make it longer):
    ...
        y = T.exp(x)
    <BLANKLINE>
    HINT: Use the Theano flag 'exception_verbosity=high' for a debugprint and storage map ...
    """
    lines = [f"\nApply node that caused the error: {node}"]
    if index is not None:
        lines.append(f"Toposort index: {index}")
    lines.append(f"Inputs types: [{', '.join(str(v.type) for v in node.inputs)}]")
    if inputs is not None:
        shapes = [tuple(np.shape(v)) for v in inputs]
        lines.append(f"Inputs shapes: {shapes}")
        strides = [_strides(s, getattr(v, "dtype", None)) for s, v in zip(shapes, inputs)]
        lines.append(f"Inputs strides: {strides}")
        lines.append(f"Inputs values: {[_value_text(v) for v in inputs]}")
    if clients is not None:
        lines.append(f"Outputs clients: {_clients(node, clients)}")
    text = "\n".join(lines) + "\n" + backtrace(node.outputs[0])
    tree = _debugprint(node) if config.exception_verbosity == "high" else None
    if tree is not None:
        text += "\nDebugprint of the apply node: \n" + tree
    else:
        text += ("\nHINT: Use the Theano flag 'exception_verbosity=high' for a debugprint and "
                 "storage map footprint of this apply node.")
    return text


def inner_report(outer: Apply) -> str:
    """What an error inside an inner graph adds once it reaches ``outer``, the node holding it."""
    return (f"\n\nThe node above is in the inner graph of the Apply node {outer}"
            f"{backtrace(outer.outputs[0], 'that node').rstrip()}")


def with_node(error: BaseException, node: Apply, inputs: Sequence[Any] | None = None,
              index: int | None = None, clients: dict | None = None) -> BaseException:
    """``error`` as Theano re-raises it: same type, message extended with ``report`` (or, when
    it already names a node of an inner graph, with ``inner_report``).

    An exception class that cannot be rebuilt from one message keeps its message and gets
    the report as a note (``add_note``).  An error of thx's run-time checks (an index out of
    range) keeps NumPy's message as its first line; its ``thx_runtime_check`` attribute (the
    message the function re-raises it with) becomes the whole text.

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> err = with_node(ValueError("bad shapes"), T.exp(x).owner)
    >>> type(err).__name__, str(err).splitlines()[:2]
    ('ValueError', ['bad shapes', 'Apply node that caused the error: Elemwise{exp,no_inplace}(x)'])
    """
    inner = getattr(error, NODE_ATTR, None)
    extra = report(node, inputs, index, clients) if inner is None else inner_report(node)
    full = getattr(error, REPORT_ATTR, "") + extra
    try:
        new = type(error)(f"{error}{extra}")
        new.__dict__.update(error.__dict__)  # attributes a handler may read (BranchShapesDiffer.node)
    except Exception:  # an exception class with another signature: keep it, add a note
        new = error
        new.add_note(extra)
    setattr(new, NODE_ATTR, inner if inner is not None else node)
    setattr(new, REPORT_ATTR, full)
    if getattr(error, RUNTIME_ATTR, None) is not None:  # a run-time check (IndexError ...)
        setattr(new, RUNTIME_ATTR, getattr(error, RUNTIME_ATTR) + extra)
    return new.with_traceback(error.__traceback__)


def while_lowering(error: BaseException) -> BaseException:
    """``error``, raised while a graph was being lowered, naming the node being lowered.

    A missing lowering or a lowering that raises fails before anything runs, in the code
    that turns each node into JAX (``thx/lowering``), where the node at hand is always a
    parameter ``node``: the innermost one in the traceback is the node that failed, and the
    outer ones holding an inner graph (a scan, an ifelse) are reported after it.  An error
    that already names a node comes back unchanged.

    Examples
    --------
    >>> import thx.tensor as T
    >>> def lower(node):
    ...     raise NotImplementedError("no lowering")
    >>> try:
    ...     lower(T.exp(T.dvector('x')).owner)
    ... except NotImplementedError as e:
    ...     print(str(while_lowering(e)).splitlines()[:2])
    ['no lowering', 'Apply node that caused the error: Elemwise{exp,no_inplace}(x)']
    """
    if getattr(error, NODE_ATTR, None) is not None:
        return error
    nodes: list[Apply] = []  # outermost first, as the traceback runs
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        # a parameter, not a loop variable that may be left over from an earlier node
        if "node" in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]:
            node = tb.tb_frame.f_locals.get("node")
            if isinstance(node, Apply) and node not in nodes:
                nodes.append(node)
        tb = tb.tb_next
    if not nodes:
        return error
    error = with_node(error, nodes[-1])
    for outer in reversed(nodes[:-1]):
        if any(hasattr(v, "apply_nodes") for v in vars(outer.op).values()):  # holds a graph
            error = with_node(error, outer)
    return error
