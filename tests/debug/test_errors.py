"""Errors name the Apply node that failed, its inputs' types and shapes, and the user's line that built it."""

from __future__ import annotations

import inspect
import pickle
import re

import numpy as np
import pytest

import thx
import thx.graph.op
import thx.lowering.registry
import thx.tensor as T
from thx.graph import errors, trace
from thx.graph.basic import io_toposort

HERE = __file__


def line_of(text: str) -> int:
    """The line of this file holding ``text`` (the statement a test expects in a backtrace)."""
    lines = open(HERE).read().splitlines()
    hits = [i + 1 for i, line in enumerate(lines)
            if text in line and line[line.index(text) - 1] not in "\"'"]  # not a quoted mention
    assert len(hits) == 1, (text, hits)
    return hits[0]


def backtrace_names(msg: str, text: str) -> None:
    """``msg`` has Theano's backtrace section pointing at this file's line holding ``text``."""
    assert "Backtrace when the node is created(use Theano flag traceback.limit=N" in msg
    assert f'File "{HERE}", line {line_of(text)}' in msg
    assert text in msg


def test_dot_shape_error_names_node_shapes_and_line():
    x, y = T.dmatrix('x'), T.dmatrix('y')
    z = T.dot(x, y) + 1  # the line the error must show
    f = thx.function([x, y], z)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "dot_general requires contracting dimensions" in msg  # JAX's own text is kept
    assert "Apply node that caused the error: dot(x, y)" in msg
    assert "Inputs types: [TensorType(float64, matrix), TensorType(float64, matrix)]" in msg
    assert "Inputs shapes: [(2, 3), (4, 5)]" in msg
    assert "Inputs strides: [(24, 8), (40, 8)]" in msg  # row-major, as NumPy gets the arrays
    assert re.search(r"Toposort index: \d+", msg)
    assert "Outputs clients: [[Elemwise{add,no_inplace}" in msg
    backtrace_names(msg, "z = T.dot(x, y) + 1  # the line the error must show")
    assert "HINT: Use the Theano flag 'exception_verbosity=high'" in msg
    # the underlying error keeps its type (TypeError from JAX), as Theano's raise_with_op does
    cause = info.value.__cause__
    assert isinstance(cause, TypeError)
    assert str(getattr(cause, errors.NODE_ATTR)) == "dot(x, y)"


def test_elemwise_shape_mismatch():
    x, y = T.dvector('x'), T.dvector('y')
    s = T.exp(x + y)  # elemwise add of mismatched lengths
    with pytest.raises(ValueError) as info:
        thx.function([x, y], s)(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "Apply node that caused the error: Elemwise{add,no_inplace}(x, y)" in msg
    assert "Inputs shapes: [(3,), (4,)]" in msg
    backtrace_names(msg, "s = T.exp(x + y)  # elemwise add of mismatched lengths")


def test_indexing_op_shape_mismatch():
    x, y = T.dvector('x'), T.dvector('y')
    r = T.set_subtensor(x[:2], y)  # two slots, three values
    with pytest.raises(ValueError) as info:
        thx.function([x, y], r)(np.ones(5), np.ones(3))
    msg = str(info.value)
    assert "Apply node that caused the error: SetSubtensor{:2}(x, y)" in msg
    assert "Inputs shapes: [(5,), (3,)]" in msg
    backtrace_names(msg, "r = T.set_subtensor(x[:2], y)  # two slots, three values")


def test_small_constant_inputs_show_their_values():
    x, y = T.dvector('x'), T.dvector('y')
    r = T.inc_subtensor(x[[0, 1]], y)
    with pytest.raises(ValueError) as info:
        thx.function([x, y], r)(np.ones(5), np.ones(3))
    msg = str(info.value)
    assert "Inputs shapes: [(5,), (3,), (2,)]" in msg
    assert "Inputs values: ['not shown', 'not shown', array([0, 1])]" in msg


def test_error_inside_scan_names_inner_node_and_scan():
    def step(a, acc, B):  # dot(a, B) alone would be one product before the loop (scan push-outs)
        return acc + T.dot(a * acc, B)  # inner node that fails

    A, B = T.dmatrix('A'), T.dmatrix('B')
    out, _ = thx.scan(step, sequences=[A], non_sequences=[B], outputs_info=[T.zeros(3)])  # the scan
    with pytest.raises(ValueError) as info:
        thx.function([A, B], out)(np.ones((4, 3)), np.ones((2, 3)))
    msg = str(info.value)
    assert "Apply node that caused the error: dot(Elemwise{mul,no_inplace}.0, B)" in msg
    assert "Inputs shapes: [(3,), (2, 3)]" in msg
    backtrace_names(msg, "return acc + T.dot(a * acc, B)  # inner node that fails")
    assert "The node above is in the inner graph of the Apply node for{cpu,scan_fn}" in msg
    scan_line = line_of("outputs_info=[T.zeros(3)])  # the scan")
    assert msg.count(f'File "{HERE}", line {scan_line}') == 2  # the step's caller, and the scan's own


def test_exception_verbosity_high_adds_debugprint():
    x, y = T.dmatrix('x'), T.dmatrix('y')
    d = T.dot(x, y)
    f = thx.function([x, y], d + 1)
    with thx.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError) as info:
            f(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    expected = thx.printing.debugprint(d.owner, print_type=True, stop_on_name=True,
                                       file="str")
    assert "Debugprint of the apply node: \n" + expected in msg
    assert "HINT: Use the Theano flag 'exception_verbosity=high'" not in msg


def _built_at_depth(depth: int):
    if depth:
        return _built_at_depth(depth - 1)
    x = T.dvector('x')
    return T.exp(x)  # deepest frame


def test_traceback_limit():
    with thx.config.change_flags(traceback__limit=1):
        v = _built_at_depth(3)
    frames = trace.get(v).frames()
    assert len(frames) == 1 and frames[0][:2] == (HERE, line_of("return T.exp(x)  # deepest frame"))
    with thx.config.change_flags(traceback__limit=0):
        assert trace.get(_built_at_depth(3)) == ()
    default = trace.get(_built_at_depth(20)).frames()
    assert len(default) == 8  # Theano's default limit
    with thx.config.change_flags(traceback__limit=-1):
        whole = trace.get(_built_at_depth(20)).frames()
    assert len(whole) > 21 and whole[-8:] == default  # outermost first
    # the recorded frames match Python's own view of the stack (no thx frames in them)
    assert all(not f[0].startswith(trace._THX_DIR) for f in whole)
    assert whole[-1][2] == "_built_at_depth"


def test_trace_matches_inspect_stack():
    x = T.dvector('x')
    y = x * 2; here = inspect.stack()  # noqa: E702 (same line on purpose)
    got = trace.get(y).frames()
    want = [(f.filename, f.lineno, f.function) for f in reversed(here)][-len(got):]
    assert got == want


def _stack_here() -> list:
    """``(file, line, function)`` of the caller's stack as Python reports it, outermost first."""
    return [(f.filename, f.lineno, f.function) for f in reversed(inspect.stack()[1:])]


def _node_and_stack(x):
    y = T.exp(x); here = _stack_here()  # noqa: E702 (the stack of this very line)
    return y, here


def test_trace_follows_callers_that_move():
    """The frames below the builder's caller are reused while that caller runs: a new call
    site, a new caller or a generator resumed from elsewhere must still give the real stack."""
    x = T.dvector('x')

    def check(y, here):
        got = trace.get(y).frames()
        assert got == here[-len(got):]

    for _ in range(3):  # the same caller, twice from the same line
        check(*_node_and_stack(x))
    check(*_node_and_stack(x))  # the same caller, another line
    check(*(lambda: _node_and_stack(x))())  # another caller

    def gen():
        while True:
            y = T.exp(x); here = _stack_here()  # noqa: E702
            yield y, here

    g = gen()

    def resume_a():
        return next(g)

    def resume_b():
        return next(g)

    for resume in (resume_a, resume_b, resume_a, resume_b):
        check(*resume())

    def resume_twice():  # one caller resuming the builder from two lines
        first = next(g)
        return first, next(g)

    for pair in resume_twice() + resume_twice():
        check(*pair)

    def builds():  # a generator calling the builder: the builder's caller is resumed anywhere
        while True:
            yield _node_and_stack(x)

    b = builds()

    def from_c():
        return next(b)

    def from_d():
        return next(b)

    for resume in (from_c, from_d, from_c, from_d):
        check(*resume())
    built = []
    for limit in (-1, 8, -1, 8):  # the same line of the same frame under another limit
        with thx.config.change_flags(traceback__limit=limit):
            built.append((limit, *(T.exp(x), _stack_here())))
    for limit in (-1, 8, -1, 8):  # a new frame called from the same line: the same frames below
        with thx.config.change_flags(traceback__limit=limit):
            built.append((limit, *_node_and_stack(x)))
    for limit, y, here in built:
        check(y, here)
        assert len(trace.get(y).frames()) == (len(here) if limit == -1 else 8)


def test_a_returned_builders_locals_are_freed_by_the_next_node():
    """The caches hold the last frames that built a node (see thx/graph/trace.py): a function
    that returned keeps its locals only until some other code builds a node."""
    import gc
    import weakref

    class Big:
        pass

    def build():
        big = Big()
        x = T.dvector('x')
        for _ in range(3):
            x = T.exp(x)
        return weakref.ref(big)

    ref = build()
    T.exp(T.dvector('y'))  # another frame builds a node
    gc.collect()
    assert ref() is None


def test_no_trace_without_limit_gives_hint():
    with thx.config.change_flags(traceback__limit=0):
        x, y = T.dvector('x'), T.dvector('y')
        s = x + y
    with pytest.raises(ValueError) as info:
        thx.function([x, y], s)(np.ones(3), np.ones(4))
    assert "no backtrace was recorded" in str(info.value)


def test_rewritten_and_cloned_nodes_keep_the_users_line():
    x, y = T.dvector('x'), T.dvector('y')
    out = T.log(1 + x) * y  # log(1 + x) becomes log1p(x) in the optimizer
    f = thx.function([x, y], out)
    nodes = f.maker.fgraph.toposort()
    assert any("log1p" in str(n.op) for n in nodes)
    for n in nodes:
        frames = trace.get(n.outputs[0]).frames()
        assert frames[-1][:2] == (HERE, line_of("out = T.log(1 + x) * y  # log(1 + x)")), n


def test_with_node_keeps_type_and_message():
    x = T.dvector('x')
    node = T.exp(x).owner
    err = errors.with_node(KeyError("boom"), node, [np.ones(3)])
    assert type(err) is KeyError and "boom" in str(err) and "Apply node that caused the error" in str(err)
    assert getattr(err, errors.NODE_ATTR) is node
    flagged = ValueError("x")
    flagged.extra = 3  # attributes survive the rebuild
    assert errors.with_node(flagged, node).extra == 3

    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a}/{b}")

    odd = errors.with_node(Odd(1, 2), node)  # cannot be rebuilt from a message: a note is added
    assert type(odd) is Odd and str(odd) == "1/2"
    assert "Apply node that caused the error" in odd.__notes__[0]


def names_line(msg: str, line: int, what: str = "the node") -> None:
    """``msg`` has Theano's backtrace section for ``what`` naming this file's ``line``."""
    assert f"Backtrace when {what} is created(use Theano flag traceback.limit=N" in msg
    assert f'File "{HERE}", line {line}' in msg.split(f"Backtrace when {what} is created")[1]


def test_constant_index_out_of_range_names_the_node():
    x = T.dvector('x')
    y = x[5]; line = inspect.currentframe().f_lineno  # noqa: E702
    with pytest.raises(IndexError) as info:
        thx.function([x], y)(np.ones(3))
    msg = str(info.value)
    assert msg.splitlines()[0] == "index 5 is out of bounds for axis 0 with size 3"  # NumPy's, whole
    assert "Apply node that caused the error: Subtensor{5}(x)" in msg
    assert "Inputs shapes: [(3,)]" in msg
    names_line(msg, line)


def test_runtime_index_out_of_range_names_node_and_line():
    x, i = T.dvector('x'), T.lscalar('i')
    y = x[i] * 2; line = inspect.currentframe().f_lineno  # noqa: E702
    f = thx.function([x, i], y)
    np.testing.assert_allclose(f(np.arange(3.0), 2), 4.0)
    with pytest.raises(IndexError) as info:
        f(np.arange(3.0), 5)  # known only when the compiled function runs
    msg = str(info.value)
    assert msg.splitlines()[0] == "index 5 is out of bounds for axis 0 with size 3"
    assert "Apply node that caused the error: Subtensor{?}(x, i)" in msg
    assert "Inputs types: [TensorType(float64, vector), TensorType(int64, scalar)]" in msg
    assert "Inputs shapes: [(3,), ()]" in msg
    names_line(msg, line)
    with pytest.raises(IndexError, match=r"^index -4 is out of bounds for axis 0 with size 3\n"):
        f(np.arange(3.0), -4)  # the same check, another value


def test_runtime_index_out_of_range_inside_scan():
    A, i = T.dmatrix('A'), T.lscalar('i')

    def step(a, i):
        lines.append(inspect.currentframe().f_lineno + 1)  # the next line's
        return a[i] + 1

    lines: list[int] = []
    out, _ = thx.scan(step, sequences=[A], non_sequences=[i]); scan_line = inspect.currentframe().f_lineno  # noqa
    f = thx.function([A, i], out)
    with pytest.raises(IndexError) as info:
        f(np.ones((4, 3)), 7)
    msg = str(info.value)
    assert msg.splitlines()[0] == "index 7 is out of bounds for axis 0 with size 3"
    assert "Apply node that caused the error: Subtensor{?}(A[t], i)" in msg
    assert "Inputs shapes: [(3,), ()]" in msg
    names_line(msg, lines[0])
    assert "The node above is in the inner graph of the Apply node for{cpu,scan_fn}" in msg
    names_line(msg, scan_line, "that node")


class NoLowering(thx.graph.op.Op):
    """An op with neither a JAX lowering (registered nowhere) nor a NumPy ``perform`` (an op
    with one runs it on the host: tests/graph/test_python_op.py)."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return thx.graph.basic.Apply(self, [x], [x.type()])


def test_op_without_lowering_names_node_and_line():
    x = T.dvector('x')
    y = NoLowering()(x) + 1; line = inspect.currentframe().f_lineno  # noqa: E702
    with pytest.raises(NotImplementedError) as info:
        thx.function([x], y)
    msg = str(info.value)
    assert msg.startswith("No JAX lowering registered for op NoLowering")
    assert "Apply node that caused the error: NoLowering(x)" in msg
    assert "Inputs types: [TensorType(float64, vector)]" in msg
    names_line(msg, line)


def test_op_without_lowering_inside_scan():
    x = T.dvector('x')
    out, _ = thx.scan(lambda a: NoLowering()(a) * 2, sequences=[x]); line = inspect.currentframe().f_lineno  # noqa
    with pytest.raises(NotImplementedError) as info:
        thx.function([x], out)
    msg = str(info.value)
    assert "Apply node that caused the error: NoLowering(x[t])" in msg
    assert "Inputs types: [TensorType(float64, scalar)]" in msg
    names_line(msg, line)
    assert "The node above is in the inner graph of the Apply node for{cpu,scan_fn}" in msg
    names_line(msg, line, "that node")


class Fails(NoLowering):
    """An op whose lowering raises while it is traced."""


@thx.lowering.registry.register(Fails)
def _fails(op, node):
    def impl(x):
        raise RuntimeError("the lowering of Fails gave up")
    return impl


def test_lowering_raising_inside_ifelse_in_scan():
    from thx.ifelse import ifelse
    x, c = T.dvector('x'), T.lscalar('c')

    def step(a, c):
        lines.append(inspect.currentframe().f_lineno + 1)  # the next line's
        return ifelse(c, Fails()(a), a)

    lines: list[int] = []
    out, _ = thx.scan(step, sequences=[x], non_sequences=[c])
    with pytest.raises(ValueError) as info:  # the function's "Error while running" error
        thx.function([x, c], out)(np.ones(3), 1)
    msg = str(info.value)
    assert "the lowering of Fails gave up" in msg  # the original text is kept
    assert "Apply node that caused the error: Fails(x[t])" in msg
    names_line(msg, lines[0])
    assert "The node above is in the inner graph of the Apply node if{}" in msg
    assert "The node above is in the inner graph of the Apply node for{cpu,scan_fn}" in msg
    assert type(info.value.__cause__) is RuntimeError  # the lowering's own error, kept


def test_graph_without_failure_unchanged():
    x, y = T.dmatrix('x'), T.dmatrix('y')
    f = thx.function([x, y], T.dot(x, y) + 1)
    np.testing.assert_allclose(f(np.ones((2, 3)), np.ones((3, 4))), np.full((2, 4), 4.0))
    assert len(io_toposort([x, y], [T.dot(x, y)])) == 1


def test_traces_pickle_with_their_graph():
    x = T.dvector('x')
    y = T.exp(x) * 2  # pickled with its trace
    y2 = pickle.loads(pickle.dumps(y))
    assert trace.get(y2).frames() == trace.get(y).frames()
    assert trace.get(y2).frames()[-1][:2] == (HERE, line_of("y = T.exp(x) * 2  # pickled with"))
    assert "y = T.exp(x) * 2" in trace.get(y2).format()
    legacy = trace.Trace(((HERE, 7, "g"), (HERE, 3, "<module>")))  # as an earlier thx pickled one
    assert legacy.frames() == [(HERE, 3, "<module>"), (HERE, 7, "g")]
    assert pickle.loads(pickle.dumps(legacy)).frames() == legacy.frames()
