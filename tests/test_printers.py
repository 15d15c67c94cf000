"""Theano's printer objects: ``pprint.assign`` with FunctionPrinter, OperatorPrinter,
PatternPrinter, MemberPrinter, IgnorePrinter, a user's printer class, and conditions."""

from __future__ import annotations

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.printing import (FunctionPrinter, IgnorePrinter, MemberPrinter, OperatorPrinter,
                          PatternPrinter, pp, pprint)


class DoubleOp(thx.Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return thx.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * 2


class SplitOp(thx.Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return thx.Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, out):
        out[0][0], out[1][0] = inputs[0] + 1, inputs[0] - 1


@pytest.fixture
def assigned():
    keys = []

    def assign(cond, printer):
        pprint.assign(cond, printer)
        keys.append(cond)
    yield assign
    for k in keys:
        pprint.remove(k)


x, y = T.dvector("x"), T.dvector("y")


def test_function_and_operator_printers_for_ops_classes_and_functions(assigned):
    double = DoubleOp()
    assert pp(double(x) + y) == "(DoubleOp(x) + y)"
    assigned(double, FunctionPrinter("twice"))
    assert pp(double(x) + y) == "(twice(x) + y)"
    assigned(T.add, OperatorPrinter("⊕", -1, "either"))  # an elementwise function's op
    assert pp(double(x) + y) == "(twice(x) ⊕ y)"
    assert pprint(double(x) * y) == "(twice(x) * y)"
    pprint.remove(double)
    assigned(DoubleOp, FunctionPrinter("dbl"))  # a class: every instance
    assert pp(DoubleOp()(y)) == "dbl(y)"


def test_pattern_member_and_ignore_printers(assigned):
    a, b = SplitOp()(x)
    assigned(SplitOp, PatternPrinter("(%(0)s + 1)", ("(%(0)s - 1)", 0)))
    assert pp(a * b) == "((x + 1) * (x - 1))"
    assigned(lambda pstate, r: r.owner is not None and isinstance(r.owner.op, DoubleOp),
             MemberPrinter("doubled"))
    assert pp(DoubleOp()(x)) == "x.doubled"
    pprint.remove(SplitOp)
    assigned(SplitOp, IgnorePrinter())
    assert pp(SplitOp()(y)[1] + 1) == "(y + TensorConstant{1})"


def test_a_users_printer_class_reads_its_inputs_through_pstate(assigned):
    class Bracket:
        def process(self, output, pstate):
            return "[" + pstate.pprinter.process(output.owner.inputs[0], pstate) + "]"
    assigned(DoubleOp, Bracket())
    assert pp(T.exp(DoubleOp()(x + y))) == "exp([(x + y)])"
    f = thx.function([x, y], T.exp(DoubleOp()(x + y)))  # printing does not change the graph
    np.testing.assert_allclose(f(np.ones(2), np.zeros(2)), np.exp(2 * np.ones(2)))


def test_remove_restores_and_bad_conditions():
    pprint.assign(T.exp, FunctionPrinter("E"))
    pprint.remove(T.exp)
    assert pp(T.exp(x)) == "exp(x)"
    with pytest.raises(TypeError, match="condition must be an op"):
        pprint.assign(3, FunctionPrinter("f"))
