"""The rewrite engine: patterns, dispatch, the worklist driver, merge, constant folding,
type fitting, verbose output, modes and flags."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.mode import Mode
from thx.graph.basic import Constant
from thx.graph.fg import FunctionGraph
from thx.printing import pp
from thx.rewriting import Rewriter, local_rewrite, optimize, pattern, plan
from thx.rewriting.constants import fold
from thx.rewriting.engine import LocalRewrite, fit
from thx.rewriting.patterns import _compile_pattern, match
from thx.tensor.basic import Alloc, Rebroadcast
from thx.tensor.elemwise import DimShuffle, Elemwise

from tests.oracle import numpy_eval, optimized


def n_ops(fg, name):
    return sum(1 for n in fg.apply_nodes
               if (isinstance(n.op, Elemwise) and n.op.scalar_op.name == name) or type(n.op).__name__ == name)


# ------------------------------------------------------------------ patterns


def test_pattern_binds_the_same_variable_for_a_repeated_name():
    x, y = T.dvectors("x", "y")
    pat = _compile_pattern((T.mul, "a", "a"))
    b = {}
    assert match(pat, x * x, b) and b["a"] is x
    assert not match(pat, x * y, {})


def test_pattern_numbers_match_broadcast_constants_and_commute():
    x = T.dvector("x")
    pat = _compile_pattern((T.add, -1, (T.exp, "v")))
    b = {}
    assert match(pat, T.exp(x) + (-1), b) and b["v"] is x      # operands swapped: add commutes
    assert match(pat, -1.0 + T.exp(x), {})
    assert not match(pat, T.exp(x) + 1, {})
    assert not match(_compile_pattern((T.sub, 1, "v")), x - 1, {})  # sub does not commute


def test_pattern_rewrite_with_condition_and_callable_result():
    x, i = T.dvector("x"), T.ivector("i")
    rw = pattern("local_test_double", (T.add, "a", "a"), lambda a: 2 * a, when=lambda a: a.dtype == "float64")
    fg = FunctionGraph([x, i], [x + x, i + i])
    Rewriter([rw], merge=False, fold=False, on_error="raise").apply(fg)
    assert pp(fg.outputs[0]) == "(TensorConstant{2} * x)"
    assert pp(fg.outputs[1]) == "(i + i)"


def test_bad_pattern_op_is_a_clear_error():
    with pytest.raises(TypeError, match="bad op in a pattern"):
        pattern("local_bad", (42, "x"), "x")
    with pytest.raises(TypeError, match="cannot track"):
        local_rewrite(3.5)(lambda fg, node: None)


def test_dispatch_by_scalar_op_name_and_by_op_class():
    x = T.dvector("x")
    seen = []

    @local_rewrite("exp")
    def local_seen_exp(fgraph, node):  # records exp nodes only
        seen.append(node.op.scalar_op.name)

    @local_rewrite(DimShuffle)
    def local_seen_ds(fgraph, node):  # records DimShuffles only
        seen.append("ds")

    fg = FunctionGraph([x], [T.exp(x) + T.log(x.dimshuffle("x", 0)).sum()])
    Rewriter([local_seen_exp, local_seen_ds], merge=False, fold=False).apply(fg)
    assert sorted(set(seen)) == ["ds", "exp"] and seen.count("exp") == 1


# ------------------------------------------------------------------ the driver


def test_worklist_visits_each_node_a_bounded_number_of_times():
    # A chain of n nodes that each need one rewrite: the number of node visits must grow
    # linearly (a full re-sort per rewrite would make it quadratic).
    x = T.dvector("x")
    visits = []
    for n in (200, 800):
        v = x
        for _ in range(n):
            v = T.exp(v) ** 1
        fg = FunctionGraph([x], [v])
        rw = Rewriter(plan("fast_run")[2]["canonicalize"], on_error="raise")
        rw.apply(fg)
        assert len(fg.apply_nodes) == n  # only the exps are left
        visits.append(rw.visits / (2 * n))
    assert visits[1] < 3 and visits[1] <= visits[0] * 1.1


def test_deep_graphs_do_not_recurse():
    x = T.dscalar("x")
    v = x
    for k in range(5000):
        v = (v * 1 + 0) if k % 2 else T.sin(v) ** 1
    fg = FunctionGraph([x], [v])
    optimize(fg, "FAST_RUN", on_error="raise")
    assert len(fg.apply_nodes) == 2500


def test_a_rewrite_that_fails_warns_and_the_others_still_run():
    x = T.dvector("x")

    @local_rewrite("exp")
    def local_broken(fgraph, node):  # raises on purpose
        raise ValueError("boom")

    fg = FunctionGraph([x], [T.exp(x) ** 1])
    rw = Rewriter([local_broken] + plan("fast_run")[2]["canonicalize"])
    with pytest.warns(UserWarning, match="local_broken failed.*boom"):
        rw.apply(fg)
    assert pp(fg.outputs[0]) == "exp(x)"
    with pytest.raises(ValueError, match="boom"):
        Rewriter([local_broken], on_error="raise").apply(FunctionGraph([x], [T.exp(x)]))


def test_a_looping_rewrite_is_stopped():
    x = T.dvector("x")

    @local_rewrite("exp")
    def local_loop(fgraph, node):  # exp(x) -> exp(x), forever
        return [T.exp(node.inputs[0])]

    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.warns(UserWarning, match="fixed point"):
        Rewriter([local_loop], merge=False).apply(fg)
    with pytest.raises(RuntimeError, match="fixed point.*local_loop"):
        Rewriter([local_loop], merge=False, on_error="raise").apply(FunctionGraph([x], [T.exp(x)]))


# ------------------------------------------------------------------ merge


def test_merge_identical_nodes_and_constants_by_value_and_type():
    x = T.dvector("x")
    a = T.exp(x) + T.constant(2.0, dtype="float64")
    b = T.exp(x) + T.constant(2.0, dtype="float64")
    c = T.exp(x) + T.constant(2, dtype="int8")
    fg = optimized([x], [a, b, c], "merge")
    assert fg.outputs[0] is fg.outputs[1]
    assert fg.outputs[2] is not fg.outputs[0]       # 2 (int8) and 2.0 (float64) differ in type
    assert n_ops(fg, "exp") == 1
    consts = {id(v) for n in fg.apply_nodes for v in n.inputs if isinstance(v, Constant)}
    assert len(consts) == 2


def test_merge_cascades_up_the_graph():
    x = T.dvector("x")
    f = lambda: T.log(T.exp(x) * 3 + 1).sum()  # noqa: E731
    fg = optimized([x], [f() + f()], "merge")
    assert n_ops(fg, "exp") == 1 and n_ops(fg, "log") == 1 and n_ops(fg, "Sum") == 1


# ------------------------------------------------------------------ constant folding


def test_constant_folding_uses_the_output_dtype():
    node = (T.constant(1.0) * T.constant(2)).owner  # float32 * int8
    (c,) = fold(node)
    assert isinstance(c, Constant) and c.dtype == node.outputs[0].dtype and c.data == 2.0
    d = (T.constant(0.1) * 2).owner                  # float64 * int8
    assert fold(d)[0].dtype == "float64" and str(fold(d)[0]) == "TensorConstant{0.2}"


def test_constant_folding_keeps_a_broadcast_scalar_printable():
    x = T.dvector("x")
    fg = optimized([x], [x * (T.constant(2) - 1.5)], Mode(optimizer="merge").including("constant_folding"))
    assert pp(fg.outputs[0]) == "(x * TensorConstant{0.5})"
    ds = fg.outputs[0].owner.inputs[1]
    assert isinstance(ds.owner.op, DimShuffle) and ds.owner.inputs[0].ndim == 0


def test_constant_folding_skips_huge_outputs_and_folds_small_ones():
    big = T.alloc(T.constant(0.0), 1000, 1000)
    small = T.alloc(T.constant(0.0), 2, 3)
    x = T.dmatrix("x")
    fg = optimized([x], [x + big, x + small], "FAST_RUN")
    assert n_ops(fg, "Alloc") == 1
    assert fold(big.owner) is None and fold(small.owner) is not None


def test_constant_folding_of_a_whole_function():
    x = T.dscalar("x")
    f = thx.function([x], x + (T.constant(np.arange(3.0)) ** 2).sum())
    assert pp(f.maker.fgraph.outputs[0]) == "(TensorConstant{5.0} + x)"
    assert f(1.0) == 6.0


# ------------------------------------------------------------------ fitting replacements


def test_fit_casts_dtype_and_patternbroadcasts():
    v, m, r = T.dvector("v"), T.dmatrix("m"), T.drow("r")
    f = T.fvector("f")
    assert fit(v, f).dtype == "float64" and fit(v, f).owner.op.scalar_op.name == "Cast"
    less = fit(r, m)                       # less broadcastable: checked Rebroadcast
    assert less.type == r.type and isinstance(less.owner.op, Rebroadcast)
    assert fit(m, r) is None               # more broadcastable: would change the shape
    assert fit(v, m) is None               # other rank


def test_a_replacement_with_a_wrong_shape_pattern_is_skipped():
    m, r = T.dmatrix("m"), T.drow("r")

    @local_rewrite("add")
    def local_drop_matrix(fgraph, node):  # wrong on purpose: m + r -> r
        return [node.inputs[1]]

    fg = FunctionGraph([m, r], [m + r])
    Rewriter([local_drop_matrix], on_error="raise").apply(fg)
    assert pp(fg.outputs[0]) == "(m + r)"


# ------------------------------------------------------------------ verbose, modes and flags


def test_verbose_prints_each_rewrite(capsys):
    from thx.compile import cache
    cache.clear()  # the same graph compiled earlier (e.g. by a docs page) would skip the rewriting
    x = T.dscalar("x")
    with thx.config.change_flags(optimizer_verbose=True):
        thx.function([x], T.grad(x ** 2, x))
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "rewriting: rewrite local_useless_fill replaces fill(Elemwise{pow,no_inplace}.0, "
        "TensorConstant{1.0}) with TensorConstant{1.0}",
        "rewriting: rewrite constant_folding replaces (TensorConstant{1.0} * TensorConstant{2}) "
        "with TensorConstant{2.0}",
        "rewriting: rewrite constant_folding replaces (TensorConstant{2} - TensorConstant{1}) "
        "with TensorConstant{1}",
        "rewriting: rewrite local_pow_one replaces (x ** TensorConstant{1}) with x",
    ]


def _grad_pp(mode):
    x = T.dscalar("x")
    f = thx.function([x], T.grad(x ** 2, x), mode=mode)
    assert f(3.0) == 6.0
    return pp(f.maker.fgraph.outputs[0])


def test_modes():
    assert _grad_pp("FAST_RUN") == "(TensorConstant{2.0} * x)"
    assert _grad_pp("FAST_COMPILE") == "(TensorConstant{2.0} * x)"
    unopt = "((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * " \
            "(x ** (TensorConstant{2} - TensorConstant{1})))"
    assert _grad_pp(Mode(optimizer=None)) == unopt
    assert _grad_pp(Mode(optimizer="merge")) == unopt
    assert _grad_pp(Mode(optimizer="fast_run").excluding("local_pow_one")) == \
        "(TensorConstant{2.0} * (x ** TensorConstant{1}))"
    # useless_fill also runs in specialize; pow_one only in canonicalize
    assert _grad_pp(Mode(optimizer="fast_run").excluding("canonicalize")) == \
        "(TensorConstant{2.0} * (x ** TensorConstant{1}))"


def test_fast_compile_does_not_stabilize_and_fast_run_does():
    x = T.dvector("x")
    fc = optimized([x], [T.log(1 + x)], "FAST_COMPILE")
    fr = optimized([x], [T.log(1 + x)], "FAST_RUN")
    assert pp(fc.outputs[0]) == "log((TensorConstant{1} + x))"
    assert pp(fr.outputs[0]) == "log1p(x)"
    inc = optimized([x], [T.log(1 + x)], Mode(optimizer="fast_compile").including("stabilize"))
    assert pp(inc.outputs[0]) == "log1p(x)"
    # no shape inference in FAST_COMPILE (as in Theano): the shape of x ** 2 computes x ** 2
    assert pp(optimized([x], [(x ** 2).shape], "FAST_COMPILE").outputs[0]) == "Shape((x ** TensorConstant{2}))"
    assert pp(optimized([x], [(x ** 2).shape], "FAST_RUN").outputs[0]) == "Shape(x)"


def test_including_excluding_requiring_select_by_tag():
    merge, fold_, phases = plan("None", including=["local_log1p"])
    assert not merge and not fold_ and [r.name for r in phases["stabilize"]] == ["local_log1p"]
    merge, fold_, phases = plan("fast_run", excluding=["merge", "stabilize"])
    assert not merge and fold_ and not phases["stabilize"] and phases["canonicalize"]
    merge, fold_, phases = plan("fast_run", requiring=["shape"])
    assert not merge and not fold_
    assert {r.name for p in phases.values() for r in p} == {
        "local_shape_of_broadcastable", "local_shape_infer", "local_make_vector_of_shape",
        "local_shape_i_of_broadcastable"}


def test_config_flags_choose_the_rewrites():
    x = T.dscalar("x")
    with thx.config.change_flags(optimizer_excluding=("local_pow_one",)):
        f = thx.function([x], T.grad(x ** 2, x))
    assert pp(f.maker.fgraph.outputs[0]) == "(TensorConstant{2.0} * (x ** TensorConstant{1}))"
    with thx.config.change_flags(optimizer="None"):
        f = thx.function([x], T.grad(x ** 2, x))
    assert len(f.maker.fgraph.toposort()) == 6
    with thx.config.change_flags(optimizer="fast_compile", optimizer_including=("stabilize",)):
        f = thx.function([x], T.log(1 + x))
    assert pp(f.maker.fgraph.outputs[0]) == "log1p(x)"


def test_optimize_returns_counts_and_is_idempotent():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.log(1 + T.exp(x * 1))])
    counts = optimize(fg, "FAST_RUN", on_error="raise")
    assert counts["local_log1p_exp"] == 1 and pp(fg.outputs[0]) == "softplus(x)"
    assert optimize(fg, "FAST_RUN", on_error="raise") == {}


def test_local_rewrite_object():
    rw = LocalRewrite(lambda fg, node: None, ["exp", Alloc], "local_nothing", tags=["mine"])
    assert rw.keys == (("elemwise", "exp"), Alloc) and {"local_nothing", "mine"} <= rw.tags
    x = T.dvector("x")
    assert numpy_eval([x * 2], {x: [1.0, 2.0]})[0].tolist() == [2.0, 4.0]
    warnings.simplefilter("ignore")


def test_docs_table_lists_every_rewrite():
    import pathlib

    from thx.rewriting import all_rewrites
    doc = (pathlib.Path(__file__).parents[2] / "docs" / "optimizer.md").read_text()
    rows = [ln for ln in doc.splitlines() if ln.startswith("| `local_")]
    named = {ln.split("`")[1] for ln in rows}
    assert named == {rw.name for rw in all_rewrites()}
    for ln in rows:
        rw = next(r for r in all_rewrites() if r.name == ln.split("`")[1])
        assert all(p in ln for p in rw.phases), ln
