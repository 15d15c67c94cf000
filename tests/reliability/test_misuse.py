"""Bad input, clear errors: a table of ways to misuse the API.

Each row builds or calls something wrongly and expects a specific exception
type with a message that names the culprit (the argument, the input, the
axis, the shapes).  After every row, the compiled functions used by the
table still compute correct values, and the shared variables a failed call
would have updated still hold their old values: an error during a call
never applies part of the updates.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile import UnusedInputError
from thx.gradient import DisconnectedInputError
from thx.graph.fg import MissingInputError

# -- the compiled functions the rows misuse (compiled once) ----------------------------
x = T.dvector("x")
s = T.dscalar("s")
iv = T.ivector("iv")
fv = T.fvector("fv")
m, m2 = T.dmatrices("m", "m2")
r = T.drow("r")
w = thx.shared(np.array([1.0, 2.0, 3.0]), name="w")
count = thx.shared(np.int64(0), name="count")
cost = T.sum((x * w) ** 2)
# one training step: two updates, applied together or not at all
train = thx.function([x], cost, updates=[(w, w - 0.01 * T.grad(cost, w)), (count, count + 1)],
                     name="train")
probe = thx.function([x], [cost, x * w], name="probe")  # no updates
f_int = thx.function([iv], iv * 2)
f_float32 = thx.function([fv], fv * 2)
f_row = thx.function([r], r * 2)
f_dot = thx.function([m, m2], T.dot(m, m2))
f_add = thx.function([m, m2], m + m2)
f_join = thx.function([m, m2], T.concatenate([m, m2], axis=0))
f_reshape = thx.function([m], T.reshape(m, (5, 5)))
f_index = thx.function([x], x[5])
f_set = thx.function([x], T.set_subtensor(x[-4], 1.0))
f_adv = thx.function([x], x[[0, 3]])
f_max = thx.function([x], T.max(x))
f_scan = thx.function([x], thx.scan(lambda a: a * 2, sequences=x, n_steps=5)[0])
# a step with updates whose run fails (shapes) after nothing else is wrong
f_upd_fail = thx.function([m, m2], T.dot(m, m2).sum(), updates=[(w, w * 2), (count, count + 100)])


def _scan_three_args():
    return thx.scan(lambda a, b: a + b, sequences=x, outputs_info=[s, s])


def _int_to_float_state():
    return thx.scan(lambda a, h: T.cast(h, "float32"), sequences=x, outputs_info=[s])


B = "Bad input argument to thx function"

# id, action, exception type, regex the message must match
ROWS = [
    # ---------------------------------------------------------- calling a compiled function
    ("wrong ndim", lambda: train(np.ones((2, 2))), TypeError,
     rf"{B} with name \"train\" at index 0 \(0-based\) \(input 'x'\): wrong number of dimensions: "
     r"expected 1, got 2"),
    ("list of strings", lambda: train(["a", "b", "c"]), TypeError,
     r"\(input 'x'\): TensorType\(float64, vector\) expected a numeric value, got \['a', 'b', 'c'\]"),
    ("None", lambda: train(None), TypeError, r"\(input 'x'\).*expected a numeric value, got None"),
    ("ragged list", lambda: train([[1.0], [1.0, 2.0]]), TypeError,
     r"\(input 'x'\).*cannot convert \[\[1\.0\], \[1\.0, 2\.0\]\] to an array"),
    ("dict", lambda: train({"a": 1}), TypeError, r"\(input 'x'\).*got \{'a': 1\}"),
    ("string", lambda: train("abc"), TypeError, r"\(input 'x'\).*got 'abc'"),
    ("complex into float64", lambda: train(np.ones(3) + 1j), TypeError,
     r"\(input 'x'\).*cannot store a value of dtype complex128 without risking loss of precision"),
    ("float64 array into float32 input", lambda: f_float32(np.ones(2)), TypeError,
     r"\(input 'fv'\).*dtype float64 without risking loss of precision.*allow_input_downcast=True"),
    ("fraction into int input", lambda: f_int([1.5, 2.0]), TypeError,
     r"\(input 'iv'\): TensorType\(int32, vector\) cannot store accurately value \[1\.5, 2\.0\]"),
    ("non-unit broadcastable dim", lambda: f_row(np.ones((2, 3))), TypeError,
     r"\(input 'r'\): non-unit value on shape on a broadcastable dimension: dimension 0"),
    ("too many arguments", lambda: train(np.ones(3), np.ones(3)), TypeError,
     r"Too many parameters passed to thx function 'train': it takes 1 inputs, got 2"),
    ("too few arguments", lambda: train(), TypeError,
     r"Missing required input: x \(index 0\) of thx function 'train'"),
    ("unknown keyword", lambda: train(y=np.ones(3)), TypeError,
     r"Unknown input or state: 'y'. The function 'train' has named inputs \['x'\]"),
    ("positional and keyword", lambda: train(np.ones(3), x=np.ones(3)), TypeError,
     r"Multiple values for input 'x' \(index 0\)"),
    # ---------------------------------------------------------- shapes known only at run time
    ("dot 3x4 by 3x4", lambda: f_dot(np.ones((3, 4)), np.ones((3, 4))), ValueError,
     r"input shapes: m: \(3, 4\), m2: \(3, 4\)\).*dot_general requires contracting dimensions"),
    ("elemwise non-broadcastable length 1", lambda: f_add(np.ones((3, 1)), np.ones((3, 4))),
     ValueError, r"Input dimension mis-match in Elemwise\{add,no_inplace\}: \(input\[0\]\.shape\[1\] "
                 r"= 1, input\[1\]\.shape\[1\] = 4\)"),
    ("elemwise incompatible lengths", lambda: f_add(np.ones((3, 2)), np.ones((3, 4))), ValueError,
     r"input shapes: m: \(3, 2\), m2: \(3, 4\)\).*incompatible shapes"),
    ("join other axis differs", lambda: f_join(np.ones((2, 3)), np.ones((2, 4))), ValueError,
     r"input shapes: m: \(2, 3\), m2: \(2, 4\)\).*concatenat"),
    ("reshape to another size", lambda: f_reshape(np.ones((3, 4))), ValueError,
     r"cannot reshape array of shape \(3, 4\) \(size 12\) into shape \(5, 5\)"),
    # out-of-range indices raise IndexError as in NumPy and Theano (docs/shapes.md, Index checks)
    ("constant index out of bounds", lambda: f_index(np.ones(3)), IndexError,
     r"^index 5 is out of bounds for axis 0 with size 3\nApply node that caused the error"),
    ("negative index out of bounds", lambda: f_set(np.ones(3)), IndexError,
     r"^index -4 is out of bounds for axis 0 with size 3\nApply node that caused the error"),
    ("index list out of bounds", lambda: f_adv(np.ones(3)), IndexError,
     r"^index 3 is out of bounds for axis 0 with size 3\nApply node that caused the error"),
    ("max of an empty array", lambda: f_max(np.zeros(0)), ValueError,
     r"input shapes: x: \(0,\)\).*zero-size array to reduction operation max"),
    ("scan sequence too short", lambda: f_scan(np.ones(3)), ValueError,
     r"sequence 0 has 3 elements, fewer than the 5 steps requested"),
    ("failing call with updates", lambda: f_upd_fail(np.ones((3, 4)), np.ones((3, 4))), ValueError,
     r"input shapes: m: \(3, 4\), m2: \(3, 4\)"),
    # ---------------------------------------------------------- gradients
    ("non-scalar cost", lambda: T.grad(x ** 2, x), TypeError,
     r"cost must be a scalar: got a variable of type TensorType\(float64, vector\)"),
    ("wrt not in the graph", lambda: T.grad(T.sum(x ** 2), s), DisconnectedInputError,
     r"not part of the computational graph of the cost.*: s$"),
    ("wrt not a variable", lambda: T.grad(T.sum(x), 3.0), TypeError,
     r"Expected Variable in the wrt argument \(element 0\), got float"),
    ("cost not a variable", lambda: T.grad(1.0, x), TypeError,
     r"cost must be a symbolic Variable, got float"),
    ("bad disconnected_inputs", lambda: T.grad(T.sum(x), x, disconnected_inputs="nope"), ValueError,
     r"'disconnected_inputs'.*got 'nope'"),
    ("Rop eval point of another rank", lambda: T.Rop(x ** 2, x, m), ValueError,
     r"Element 0 of wrt/eval_point have mismatched dimensionality: 1 versus 2"),
    ("Rop eval point count", lambda: T.Rop(x ** 2, [x], [x, x]), ValueError,
     r"`wrt` has 1 elements but `eval_points` has 2"),
    ("Lop eval point of another rank", lambda: T.Lop(x ** 2, x, m), ValueError,
     r"Lop: element 0 of f and of eval_points have mismatched dimensionality: 1 versus 2"),
    # ---------------------------------------------------------- building graphs
    ("sum over a bad axis", lambda: T.sum(m, axis=2), ValueError,
     r"axis 2 is out of bounds for a tensor of 2 dimensions"),
    ("sum over a bad negative axis", lambda: T.sum(m, axis=-3), ValueError,
     r"axis -3 is out of bounds for a tensor of 2 dimensions"),
    ("reshape with two -1", lambda: T.reshape(m, (2, -1, -1)), ValueError,
     r"invalid new shape \[2, -1, -1\]: at most one entry may be -1"),
    ("float index", lambda: x[1.5], TypeError, r"index must be integers, got TensorType\(float32"),
    ("float variable index", lambda: x[s], TypeError,
     r"index must be integers, got TensorType\(float64, scalar\) \(s\)"),
    ("too many indices", lambda: x[1, 2], IndexError,
     r"too many indices for TensorType\(float64, vector\): 2 indices, 1 dimensions"),
    ("boolean mask", lambda: x[x > 0], TypeError, r"does not support boolean mask.*\.nonzero\(\)"),
    ("dimshuffle bad dimension", lambda: m.dimshuffle(0, 2), ValueError,
     r"DimShuffle: invalid dimension 2 for an input of 2 dimensions"),
    ("dimshuffle drops a real dimension", lambda: m.dimshuffle(0), ValueError,
     r"cannot drop non-broadcastable dimension 1"),
    ("join of different ranks", lambda: T.concatenate([x, m]), TypeError,
     r"join: all tensors must have the same number of dimensions, got \[1, 2\]"),
    ("set_subtensor on a non-subtensor", lambda: T.set_subtensor(x, 1.0), TypeError,
     r"the first argument must be an indexed tensor"),
    # a float64 increment of float32 downcasts as NumPy's ``a[0] += y`` (Theano); into int8 it cannot
    ("inc_subtensor across kinds", lambda: T.inc_subtensor(T.bvector()[0], s), TypeError,
     r"cannot add a float64 value to a int8 tensor"),
    ("cast to an unknown dtype", lambda: T.cast(x, "foo"), TypeError, r"'foo'"),
    # ---------------------------------------------------------- thx.function
    ("update of a non-shared variable", lambda: thx.function([x], x, updates=[(x, x + 1)]),
     TypeError, r"update target must be a SharedVariable, got x \(TensorVariable\)"),
    ("update of the wrong type", lambda: thx.function([x], x, updates=[(w, T.sum(x))]), TypeError,
     r"An update must have the same type as the original shared variable \(shared_var=w"),
    ("update of the wrong dtype", lambda: thx.function([x], x, updates=[(w, T.cast(x, "float32"))]),
     TypeError, r"shared_var=w, shared_var\.type=TensorType\(float64, vector\).*float32"),
    ("two updates of one variable", lambda: thx.function([x], x, updates=[(w, w + 1), (w, w - 1)]),
     ValueError, r"this shared variable already has an update expression: w"),
    ("updates not pairs", lambda: thx.function([x], x, updates=[(w, w + 1, 3)]), TypeError,
     r"updates: element 0 must be a \(shared_variable, new_expression\) pair"),
    ("givens of another type", lambda: thx.function([x], x * 2, givens=[(x, m)]), TypeError,
     r"Types of the given replacement do not match: x has type TensorType\(float64, vector\), its "
     r"replacement m"),
    ("givens not pairs", lambda: thx.function([x], x * 2, givens=[x]), TypeError,
     r"givens: element 0 must be a \(variable, replacement\) pair"),
    ("duplicated inputs", lambda: thx.function([x, x], x), ValueError,
     r"Variable x is used twice in inputs to thx.function, at indices 0 and 1"),
    ("a constant as input", lambda: thx.function([T.constant(1.0)], x), TypeError,
     r"Input 0 of thx.function is a constant \(TensorConstant\{1\.0\}\)"),
    # Theano cuts the graph at an intermediate input: here the output does not need it
    ("an expression as input, not needed", lambda: thx.function([x * 2], x), UnusedInputError,
     r"provided input variable at index 0 is not part of the computational graph"),
    ("a shared variable as input", lambda: thx.function([w], x), TypeError,
     r"Cannot use a shared variable \(w\) as explicit input 0"),
    ("inputs not in a list", lambda: thx.function(x, x), TypeError,
     r"should be contained in a list, even when there is a single input"),
    ("input of another kind", lambda: thx.function([3], x), TypeError,
     r"Unknown input type: int \(3\) at index 0"),
    ("missing input", lambda: thx.function([x], x + s), MissingInputError,
     r"Input s of the graph was not provided"),
    ("unused input", lambda: thx.function([x, s], x), UnusedInputError,
     r"input variable at index 1 is not part of the computational graph.*: s\."),
    ("output not a variable", lambda: thx.function([x], "hello"), TypeError,
     r"Output 0 of thx.function must be a symbolic Variable, got str: 'hello'"),
    ("unknown mode", lambda: thx.function([x], x, mode="FOO"), ValueError, r"unknown mode 'FOO'"),
    ("bad on_unused_input", lambda: thx.function([x], x, on_unused_input="maybe"), ValueError,
     r"on_unused_input must be 'raise', 'warn' or 'ignore', got 'maybe'"),
    # ---------------------------------------------------------- shared variables
    # any Python object makes a generic shared variable (Theano), which no tensor op accepts
    ("tensor op on a generic shared", lambda: T.exp(thx.shared("abc")), TypeError,
     r"Variable type field must be a TensorType, got generic"),
    ("shared of a symbolic variable", lambda: thx.shared(x), TypeError,
     r"needs numeric values and not symbolic variables"),
    ("set_value of another rank", lambda: w.set_value(np.zeros((2, 2))), TypeError,
     r"Wrong number of dimensions: expected 1, got 2"),
    ("set_value of strings", lambda: w.set_value(["a", "b", "c"]), TypeError,
     r"expected a numeric value, got \['a', 'b', 'c'\]"),
    # ---------------------------------------------------------- scan
    ("scan: outputs_info too long", _scan_three_args, TypeError,
     r"takes 2 positional arguments but 3 were given"),
    ("scan: fn returns too many outputs",
     lambda: thx.scan(lambda a, h: (a, h), sequences=x, outputs_info=[s]), ValueError,
     r"fn returned 2 output\(s\) but outputs_info has 1 entries"),
    ("scan: state shape differs from the step's output",
     lambda: thx.scan(lambda a, h: h + x, sequences=x, outputs_info=[s]), TypeError,
     r"output 0 of the step function has type TensorType\(float64, vector\), but its initial "
     r"state \(outputs_info\[0\]\) has type TensorType\(float64, scalar\)"),
    ("scan: state dtype differs from the step's output", _int_to_float_state, TypeError,
     r"has type TensorType\(float32, scalar\), but its initial state \(outputs_info\[0\]\) has "
     r"type TensorType\(float64, scalar\)"),
    ("scan: fn not callable", lambda: thx.scan(3, sequences=x), TypeError,
     r"scan: fn must be callable, got int"),
    ("scan: scalar sequence", lambda: thx.scan(lambda a: a * 2, sequences=s), ValueError,
     r"sequence 0 \(s\) is a scalar"),
    ("scan: fractional n_steps", lambda: thx.scan(lambda h: h * 2, outputs_info=[s], n_steps=1.5),
     ValueError, r"n_steps must be an int"),
]


def _state():
    return w.get_value().copy(), int(count.get_value())


def _check_functions_still_work(before):
    """Shared values unchanged by the failed action; the functions still compute right."""
    w0, c0 = before
    np.testing.assert_array_equal(w.get_value(), w0)
    assert int(count.get_value()) == c0
    xv = np.array([0.5, -1.0, 2.0])
    c, prod = probe(xv)
    np.testing.assert_allclose(c, np.sum((xv * w0) ** 2))
    np.testing.assert_allclose(prod, xv * w0)
    np.testing.assert_array_equal(f_int([1, 2]), [2, 4])
    np.testing.assert_allclose(f_dot(np.ones((3, 4)), np.ones((4, 2))), np.full((3, 2), 4.0))


def test_the_table_is_large():
    assert len(ROWS) >= 40
    assert len({r[0] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("name,action,exc,pattern", ROWS, ids=[r[0] for r in ROWS])
def test_misuse_raises_a_clear_error(name, action, exc, pattern):
    before = _state()
    with pytest.raises(exc, match=pattern) as info:
        action()
    assert type(info.value) is exc or exc is Exception, type(info.value)
    _check_functions_still_work(before)


def test_training_goes_on_after_errors():
    """A failed call in the middle of training changes nothing; the next call updates both."""
    w.set_value(np.array([1.0, 2.0, 3.0]))
    count.set_value(np.int64(0))
    xv = np.array([1.0, 1.0, 1.0])
    train(xv)
    after_one = _state()
    for bad in (np.ones((2, 2)), ["a"], None):
        with pytest.raises(TypeError):
            train(bad)
    with pytest.raises(ValueError):
        f_upd_fail(np.ones((3, 4)), np.ones((3, 4)))  # fails inside XLA's call
    np.testing.assert_array_equal(w.get_value(), after_one[0])
    assert int(count.get_value()) == 1
    train(xv)
    expected = after_one[0] - 0.01 * 2 * xv ** 2 * after_one[0]
    np.testing.assert_allclose(w.get_value(), expected)
    assert int(count.get_value()) == 2
    f_upd_fail(np.ones((3, 4)), np.ones((4, 2)))  # a good call applies both of its updates
    np.testing.assert_allclose(w.get_value(), expected * 2)
    assert int(count.get_value()) == 102


def test_integer_wrt_gets_a_zero_gradient():
    """Theano's rule: the gradient w.r.t. an integer variable is zeros of floatX, no error."""
    i = T.iscalar("i")
    g = T.grad(T.sum(T.cast(i, "float64") * s), i)
    assert g.dtype == thx.config.floatX
    assert thx.function([i, s], g, on_unused_input="ignore")(3, 2.0) == 0.0


@pytest.mark.parametrize("flags,pattern", [
    ("nonexistent_flag=3", r"Unknown thx flag 'nonexistent_flag'. Valid flags: .*floatX"),
    ("floatX=float16x", r"Bad value 'float16x' for thx flag 'floatX'. Valid values: float64, float32"),
    ("floatX", r"expected key=value, got 'floatX'"),
])
def test_bad_thx_flags_stop_the_import(flags, pattern):
    env = dict(os.environ, THX_FLAGS=flags)
    p = subprocess.run([sys.executable, "-c", "import thx"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode != 0
    import re
    assert re.search(pattern, p.stderr), p.stderr[-500:]
