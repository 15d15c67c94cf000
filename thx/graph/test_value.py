"""compute_test_value: each new node computes its outputs' test values with NumPy as the graph is built.

Theano's debugging aid.  Give the inputs a value (``x.tag.test_value =
np.ones((2, 3))``: converted to the variable's type when set); constants and
shared variables have theirs implicitly.  With ``config.compute_test_value``
other than ``'off'``, every new Apply node runs its op's NumPy ``perform``
(through ``thx.graph.evaluate``) on its inputs' test values and stores the
results as its outputs' test values, so a shape error is raised at the line
of user code that builds the bad node:

- ``'raise'``: a missing test value raises ValueError; an error in ``perform``
  is raised (its type kept, the message naming the node and the line);
- ``'warn'``: both become warnings, and the node gets no test value;
- ``'ignore'``: a node with an input lacking a test value is skipped silently;
  an error in ``perform`` is raised;
- ``'pdb'``: like ``'raise'``, after opening the debugger on the error.

An op without a NumPy ``perform`` leaves its outputs without test values
(``'warn'`` says so), and so does a node that thx's own machinery builds on
variables of its own (a scan's gradient, a rewrite): the user could not
have given those a test value.  With ``'off'`` (the default) building a node checks one
module-level value and does nothing else.
"""

from __future__ import annotations

import os
import pdb
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from thx.config import config
from thx.graph import errors, trace
from thx.graph.basic import NODE_HOOKS, Apply, Constant, Variable
from thx.graph.evaluate import evaluate

_mode = ["off"]


class TestValueError(AttributeError):
    """A variable has no test value (Theano's ``TestValueError``)."""

    __test__ = False  # not a pytest test class


def get_test_value(v: Variable) -> Any:
    """The test value of ``v``: a constant's data, a shared variable's value, or ``v.tag.test_value``.

    Raises
    ------
    TestValueError
        If ``v`` has none.

    Examples
    --------
    >>> import numpy as np
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> x.tag.test_value = [1, 2]
    >>> get_test_value(x)
    array([1., 2.])
    """
    if isinstance(v, Constant):
        return v.data
    tag = v.tag.__dict__
    if "test_value" in tag:
        return tag["test_value"]
    if v.owner is None and hasattr(v, "get_value"):  # a shared variable
        return v.get_value(borrow=True)
    raise TestValueError(f"{v} has no test value")


def give_rows(pairs: Sequence[tuple[Variable, int, Variable]]) -> None:
    """Scan's inner inputs get test values: ``inner`` gets row ``k`` of ``outer``'s, if it has one.

    Called by ``scan`` before the step function builds the inner graph (a sequence's slice
    variable is row 0 of its cut, a state's tap variable a row of the initial buffer).
    """
    if _mode[0] == "off":
        return
    for outer, k, inner in pairs:
        try:
            value = get_test_value(outer)
        except TestValueError:
            continue
        if len(value) > k:
            inner.tag.test_value = value[k]


def compute(node: Apply) -> None:
    """Give ``node``'s outputs their test values (what ``compute_test_value`` says to do)."""
    mode = _mode[0]
    if "test_value" in node.outputs[0].tag.__dict__:
        return  # a copy (Variable.clone copies the tag) already has its value
    values = []
    for i, v in enumerate(node.inputs):
        try:
            values.append(get_test_value(v))
        except TestValueError:
            _missing(mode, node, i, v)
            return
    try:
        results = evaluate(node.outputs, dict(zip(node.inputs, values)))
    except NotImplementedError as e:
        if mode == "warn":
            _warn(f"compute_test_value: {e}; {node} gets no test value")
        return
    except Exception as e:
        err = errors.with_node(e, node, values)
        if mode == "warn":
            _warn(f"compute_test_value: {type(e).__name__}: {err}")
            return
        if mode == "pdb":
            pdb.post_mortem(e.__traceback__)
        raise err from None
    for o, val in zip(node.outputs, results):
        try:
            val = o.type.filter(val, allow_downcast=True)
        except Exception:  # a type without conversion: keep perform's value as it is
            pass
        o.tag.__dict__["test_value"] = val


# thx's packages that build nodes on the user's behalf, on the user's variables: a missing test
# value there is the user's to give.  Nodes built elsewhere in thx (gradients of scan, rewrites,
# compilation) use variables of thx's own that the user never saw.
_USER_FACING = tuple(os.path.join(trace._THX_DIR, d) + os.sep for d in ("tensor", "graph", "scalar"))


def _built_by_thx() -> bool:
    """Whether thx machinery, not user code calling thx.tensor, is building the current node."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(trace._THX_DIR):
            return False  # reached the user's code through user-facing modules only
        if not filename.startswith(_USER_FACING) and filename != _INIT:
            return True
        frame = frame.f_back
    return False


_INIT = os.path.join(trace._THX_DIR, "__init__.py")


def _warn(msg: str) -> None:
    """Warn, pointing at the user's line that builds the node (past thx's own frames)."""
    level, frame = 1, sys._getframe(0)  # stacklevel 1 is this function
    while frame is not None and frame.f_code.co_filename.startswith(trace._THX_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(msg, stacklevel=level)


def _missing(mode: str, node: Apply, i: int, v: Variable) -> None:
    if mode == "ignore" or _built_by_thx():
        return
    msg = (f"Cannot compute test value: input {i} ({v}) of Op {node.op} missing default value. "
           f"Give it one (tag.test_value), or set compute_test_value='ignore' to skip such nodes."
           f"{errors.backtrace(node.outputs[0])}")
    if mode == "warn":
        _warn(msg)
        return
    if mode == "pdb":
        pdb.set_trace()
    raise ValueError(msg)


def _set_mode(mode: str) -> None:
    """Apply a new ``compute_test_value``: 'off' removes the node hook, so building pays nothing."""
    _mode[0] = mode
    if mode == "off" and compute in NODE_HOOKS:
        NODE_HOOKS.remove(compute)
    elif mode != "off" and compute not in NODE_HOOKS:
        NODE_HOOKS.append(compute)


config.watch("compute_test_value", _set_mode)
