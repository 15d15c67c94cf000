"""Printing: pp, debugprint, min_informative_str, TensorType strings, pydotprint / DOT text.

The oracle is Theano's own documented output (doc/library/printing.txt,
doc/tutorial/printing_drawing.txt, theano/tests/test_printing.py), with
Theano 1.0's lower-case scalar op names (``Elemwise{add,no_inplace}``).
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx import config
from thx.compile.mode import Mode
from thx.printing import (GraphvizNotFoundError, char_from_number, debugprint, graph_to_dot,
                          min_informative_str, pp, pydotprint, var_descriptor)


# ------------------------------------------------------------------------ pp

def test_pp_gradient_tutorial_both_constant_forms():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert pp(gy) == ("((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * "
                      "(x ** (TensorConstant{2} - TensorConstant{1})))")
    with config.change_flags(print_constants="short"):  # older Theano's form
        assert pp(gy) == "((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))"
    assert thx.pp is pp and thx.printing.pprint is pp


def test_pp_and_debugprint_of_the_optimized_gradient_as_theano_documents():
    # doc/library/printing.txt: after optimization one Apply node is left.
    x = T.dscalar("x")
    f = thx.function([x], T.grad(x ** 2, x))
    assert pp(f.maker.fgraph.outputs[0]) == "(TensorConstant{2.0} * x)"
    assert debugprint(f.maker.fgraph.outputs[0], file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n |TensorConstant{2.0} [id B]\n |x [id C]\n")
    assert debugprint(f, file="str").splitlines()[0] == "Elemwise{mul,no_inplace} [id A] ''   0"
    assert f(4.0) == 8.0


def _logistic_regression():
    rng = np.random.RandomState(0)
    x = T.matrix("x")
    y = T.vector("y")
    w = thx.shared(rng.randn(3), name="w")
    b = thx.shared(np.asarray(0.0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    return x, y, w, b, prediction, xent, gw, gb


def test_pp_logistic_prediction_as_theano_documents():
    *_, prediction, _, _, _ = _logistic_regression()
    assert pp(prediction) == ("gt((TensorConstant{1} / (TensorConstant{1} + exp(((-(x \\dot w)) - b)))), "
                              "TensorConstant{0.5})")


def test_pp_unnamed_greek_lists_and_functions():
    a = T.dvector()
    alpha = T.dscalar("alpha")
    assert pp(a + alpha) == "(<TensorType(float64, vector)> + \\alpha)"
    x, y = T.dscalars("x", "y")
    assert pp([x + y, x * y]) == "(x + y)\n(x * y)"
    assert pp(-x) == "(-x)"
    f = thx.function([x, y], [x - y], mode=Mode(optimizer=None))
    assert pp(f) == "(x - y)"
    with pytest.raises(TypeError, match="pp cannot print int"):
        pp(3)


# ---------------------------------------------------------------- debugprint

def _theano_test_graph():
    A, B, D, E = T.matrices("A", "B", "D", "E")
    C = A + B
    C.name = "C"
    return A, B, C, D, E, C + (D + E)


def test_debugprint_matches_theano_reference_strings():
    # theano/tests/test_printing.py::test_debugprint, byte for byte (trailing spaces included).
    *_, G = _theano_test_graph()
    s = io.StringIO()
    assert debugprint(G, file=s, ids="int") is s
    assert s.getvalue() == "\n".join([
        "Elemwise{add,no_inplace} [id 0] ''   ",
        " |Elemwise{add,no_inplace} [id 1] 'C'   ",
        " | |A [id 2]",
        " | |B [id 3]",
        " |Elemwise{add,no_inplace} [id 4] ''   ",
        "   |D [id 5]",
        "   |E [id 6]"]) + "\n"
    assert debugprint(G, file="str", ids="CHAR") == "\n".join([
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " | |A [id C]",
        " | |B [id D]",
        " |Elemwise{add,no_inplace} [id E] ''   ",
        "   |D [id F]",
        "   |E [id G]"]) + "\n"
    assert debugprint(G, file="str", stop_on_name=True) == "\n".join([
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " |Elemwise{add,no_inplace} [id C] ''   ",
        "   |D [id D]",
        "   |E [id E]"]) + "\n"
    assert debugprint(G, file="str", ids="") == "\n".join([
        "Elemwise{add,no_inplace}  ''   ",
        " |Elemwise{add,no_inplace}  'C'   ",
        " | |A ",
        " | |B ",
        " |Elemwise{add,no_inplace}  ''   ",
        "   |D ",
        "   |E "]) + "\n"
    text = debugprint(G, file="str", ids="id")
    assert f"[id {id(G)}]" in text.splitlines()[0]


def test_debugprint_gradient_depth_and_shared_ids():
    # doc/library/printing.txt: the gradient graph, and depth=2.
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert debugprint(gy, file="str") == "\n".join([
        "Elemwise{mul,no_inplace} [id A] ''   ",
        " |Elemwise{mul,no_inplace} [id B] ''   ",
        " | |Elemwise{second,no_inplace} [id C] ''   ",
        " | | |Elemwise{pow,no_inplace} [id D] ''   ",
        " | | | |x [id E]",
        " | | | |TensorConstant{2} [id F]",
        " | | |TensorConstant{1.0} [id G]",
        " | |TensorConstant{2} [id F]",
        " |Elemwise{pow,no_inplace} [id H] ''   ",
        "   |x [id E]",
        "   |Elemwise{sub,no_inplace} [id I] ''   ",
        "     |TensorConstant{2} [id F]",
        "     |TensorConstant{1} [id J]"]) + "\n"
    assert debugprint(gy, depth=2, file="str") == "\n".join([
        "Elemwise{mul,no_inplace} [id A] ''   ",
        " |Elemwise{mul,no_inplace} [id B] ''   ",
        " |Elemwise{pow,no_inplace} [id C] ''   "]) + "\n"
    assert debugprint(gy, depth=0, file="str") == ""


def test_debugprint_stdout_returns_none(capsys):
    x = T.dscalar("x")
    assert debugprint(x * 2) is None
    assert capsys.readouterr().out == ("Elemwise{mul,no_inplace} [id A] ''   \n"
                                       " |x [id B]\n |TensorConstant{2} [id C]\n")


def test_debugprint_print_type_and_unnamed_inputs():
    v = T.dvector()
    m = T.TensorType("float64", (False, True, False))("m")
    out = debugprint([v * 2, m], file="str", print_type=True)
    assert out == "\n".join([
        "Elemwise{mul,no_inplace} [id A] <TensorType(float64, vector)> ''   ",
        " |<TensorType(float64, vector)> [id B] <TensorType(float64, vector)>",
        " |DimShuffle{x} [id C] <TensorType(int8, (True,))> ''   ",
        "   |TensorConstant{2} [id D] <TensorType(int8, scalar)>",
        "m [id E] <TensorType(float64, (False, True, False))>"]) + "\n"


def test_debugprint_function_appends_toposort_position():
    x, y = T.dvectors("x", "y")
    z = T.exp(x * y) + (x - y).sum()
    f = thx.function([x, y], [z, x * 2])
    topo = f.maker.fgraph.toposort()
    text = debugprint(f, file="str")
    op_lines = [ln for ln in text.splitlines() if "'" in ln]
    assert len({re.search(r"\[id (\w+)\]", ln).group(1) for ln in op_lines}) == len(topo)
    for ln in op_lines:
        m = re.match(r"^((?: [ |])*)(\S+) \[id \w+\] '[^']*'   (\d+)$", ln)
        assert m, ln
        assert str(topo[int(m.group(3))].op) == m.group(2)
    # the same text from the FunctionGraph, and the id labels are shared between outputs
    assert debugprint(f.maker.fgraph, file="str") == text
    assert np.allclose(f([1.0, 2.0], [3.0, 4.0])[0],
                       np.exp([3.0, 8.0]) + (-4.0))


def test_debugprint_apply_multiple_outputs_and_clients():
    x = T.dvector("x")
    a, b = T.split(x, [1, 2], 2)
    text = debugprint([a, b], file="str")
    lines = text.splitlines()
    op = str(a.owner.op)  # a multi-output node: '.0' / '.1' suffixes, one id, expanded once
    assert lines[0] == f"{op}.0 [id A] ''   " and lines[-1] == f"{op}.1 [id A] ''   "
    assert len(lines) == 4 and lines[1] == " |x [id B]" and lines[2].endswith("[id C]")
    assert debugprint(a.owner, file="str") == text  # an Apply prints all its outputs
    A, B, D = T.matrices("A", "B", "D")
    s = A + B
    f = thx.function([A, B, D], [s, s - D], mode=Mode(optimizer=None))
    assert debugprint(f, file="str", print_clients=True) == "\n".join([
        "Elemwise{add,no_inplace} [id A] ''   0 clients:[('[id B]', 1), ('output', '')]",
        " |A [id D]",  # Theano's numbering: the 'output' client takes a label ([id C])
        " |B [id E]",
        "Elemwise{sub,no_inplace} [id B] ''   1",
        " |Elemwise{add,no_inplace} [id A] ''   0 clients:[('[id B]', 1), ('output', '')]",
        " |D [id F]"]) + "\n"


def test_debugprint_deep_graph_is_iterative():
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = T.exp(y)
    text = debugprint(y, file="str", ids="int")
    lines = text.splitlines()
    assert len(lines) == 3001 and lines[-1] == " " + "  " * 2999 + "|x [id 3000]"
    assert pp(y).startswith("exp(exp(") and min_informative_str(y).count("\n") == 3000


def test_debugprint_bad_arguments():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="debugprint cannot print an object of type dict"):
        debugprint({}, file="str")
    with pytest.raises(ValueError, match="ids must be"):
        debugprint(x, ids="letters")


# ------------------------------------------------------------ small strings

def test_char_from_number_is_theano_base26():
    assert [char_from_number(n) for n in (0, 1, 25, 26, 27, 52, 676)] == \
        ["A", "B", "Z", "BA", "BB", "CA", "BAA"]


def test_min_informative_str_and_var_descriptor():
    *_, G = _theano_test_graph()
    assert min_informative_str(G) == ("A. Elemwise{add,no_inplace}\n B. C\n C. Elemwise{add,no_inplace}\n"
                                      "  D. D\n  E. E")
    x = T.dscalar("x")
    y = x * x
    assert min_informative_str(y + y) == "A. Elemwise{add,no_inplace}\n B. Elemwise{mul,no_inplace}\n  C. x\n  <C>\n <B>"
    assert var_descriptor(y + y) == "A=Elemwise{add,no_inplace}(B=Elemwise{mul,no_inplace}(C=x,<C>),<B>)"
    d1 = var_descriptor(T.constant(np.arange(3.0)) + x)
    d2 = var_descriptor(T.constant(np.arange(3.0)) + x)
    assert d1 == d2 and "ndarray" not in d1


# ------------------------------------------------------------ TensorType strings

@pytest.mark.parametrize("ctor, text", [
    (T.dscalar, "TensorType(float64, scalar)"),
    (T.dvector, "TensorType(float64, vector)"),
    (T.dmatrix, "TensorType(float64, matrix)"),
    (T.drow, "TensorType(float64, row)"),
    (T.dcol, "TensorType(float64, col)"),
    (T.itensor3, "TensorType(int32, 3D)"),
    (T.ftensor4, "TensorType(float32, 4D)"),
    (T.TensorType("float64", (False, True, False)), "TensorType(float64, (False, True, False))"),
    (T.TensorType("int8", (True,)), "TensorType(int8, (True,))"),
    (T.TensorType("complex128", (True, True)), "TensorType(complex128, (True, True))"),
])
def test_tensortype_str_and_repr(ctor, text):
    assert str(ctor) == repr(ctor) == text
    assert str(ctor("v").type) == text
    assert str(ctor()) == f"<{text}>"  # an unnamed variable prints as its type


# ------------------------------------------------------------ pydotprint / DOT

def _dot_nodes_edges(text):
    nodes = dict(re.findall(r'^\s*"(\w+)" \[label="((?:[^"\\]|\\.)*)"', text, re.M))
    edges = re.findall(r'^\s*"(\w+)" -> "(\w+)"(?: \[(.*)\])?;$', text, re.M)
    return nodes, edges


def test_graph_to_dot_function_with_updates():
    x, y, w, b, prediction, xent, gw, gb = _logistic_regression()
    train = thx.function([x, y], [prediction, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                         name="train")
    text = graph_to_dot(train, var_with_name_simple=True)
    assert text.startswith("digraph G {\n") and text.endswith("}\n")
    nodes, edges = _dot_nodes_edges(text)
    topo = train.maker.fgraph.toposort()
    ops = [lab for nid, lab in nodes.items() if nid.startswith("a")]
    assert len(ops) == len(topo)
    assert {re.sub(r" id=\d+$", "", lab) for lab in ops} == {str(n.op) for n in topo}
    # inputs green, shared variables cyan, outputs blue, the updates point back at w and b
    assert re.search(r'"\w+" \[label="x", shape="box", style="filled", fillcolor="green"\]', text)
    assert re.search(r'"\w+" \[label="w", shape="box", style="filled", fillcolor="cyan"\]', text)
    blue = [nid for nid in nodes if re.search(rf'"{nid}" \[[^]]*fillcolor="blue"', text)]
    assert len(blue) == 4  # prediction, xent, and the two updates
    upd = [(s, t) for s, t, attrs in edges if 'label="UPDATE"' in (attrs or "")]
    assert sorted(nodes[t] for _, t in upd) == ["b", "w"]
    assert sorted(nodes[s] for s, _ in upd) == ["b", "w"]  # update outputs take the shared name
    # every edge joins declared nodes
    for s, t, _ in edges:
        assert s in nodes and t in nodes


def test_graph_to_dot_compact_and_ids():
    x = T.dvector("x")
    y = T.exp(x) * 2
    nodes, edges = _dot_nodes_edges(graph_to_dot(y, with_ids=True, compact=False))
    assert sorted(lab for nid, lab in nodes.items() if nid.startswith("a")) == \
        ["DimShuffle{x} id=1", "Elemwise{exp,no_inplace} id=0", "Elemwise{mul,no_inplace} id=2"]
    assert len(edges) == 7  # non compact: every intermediate variable is a box
    nodes_c, edges_c = _dot_nodes_edges(graph_to_dot(y))
    assert len(nodes_c) == 6 and len(edges_c) == 5
    assert any('TensorType(float64, vector)' in (a or "") for _, _, a in edges_c)
    long_name = T.dvector("v" * 100)
    nodes_l, _ = _dot_nodes_edges(graph_to_dot(T.exp(long_name), max_label_size=20))
    assert all(len(lab) <= 20 for lab in nodes_l.values())


def test_pydotprint_without_graphviz_raises_clear_error(monkeypatch, tmp_path):
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    x = T.dvector("x")
    with pytest.raises(RuntimeError, match=r"`dot` program of Graphviz") as info:
        pydotprint(x * 2, outfile=str(tmp_path / "g.png"))
    assert isinstance(info.value, ImportError) and isinstance(info.value, GraphvizNotFoundError)
    assert "apt-get install graphviz" in str(info.value)
    assert not (tmp_path / "g.png").exists()


def test_pydotprint_runs_dot_and_writes_file(monkeypatch, tmp_path, capsys):
    # A stand-in `dot` that echoes its input and its -T argument: checks the invocation.
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(sys.argv[1] + '\\n' + sys.stdin.read())\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    x = T.dvector("x")
    out = tmp_path / "graph"
    assert pydotprint(T.exp(x), outfile=str(out), format="svg") is None
    written = (tmp_path / "graph.svg").read_text()
    assert written == "-Tsvg\n" + graph_to_dot(T.exp(x))
    assert capsys.readouterr().out == f"The output file is available at {out}.svg\n"
    img = pydotprint(T.exp(x), return_image=True)
    assert img.startswith(b"-Tpng\ndigraph G {")


def test_pydotprint_with_real_graphviz_draws_every_node(graphviz_dot, tmp_path):
    # Graphviz itself lays out the DOT text: the SVG it writes has one <g class="node"> per
    # graph node (x, exp, mul, the constant 2, and the output) and a PNG starts with its magic.
    x = T.dvector("x")
    y = T.exp(x) * 2
    out = tmp_path / "g.svg"
    pydotprint(y, outfile=str(out), format="svg", print_output_file=False)
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    want, _ = _dot_nodes_edges(graph_to_dot(y))
    assert svg.count('class="node"') == len(want)
    assert "Elemwise{exp,no_inplace}" in svg
    png = pydotprint(y, return_image=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------ scan inner graphs

def _polynomial():
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    components, _ = thx.scan(fn=lambda c, power, free_variable: c * (free_variable ** power),
                             outputs_info=None, sequences=[coefficients, T.arange(10)],
                             non_sequences=x)
    return coefficients, x, components.sum()


def test_debugprint_prints_scan_inner_graphs_like_theano():
    # the layout of theano/tests/test_printing.py::test_scan_debugprint2
    coefficients, x, polynomial = _polynomial()
    text = debugprint(polynomial, file="str")
    outer, inner = text.split("\nInner graphs of the scan ops:\n\n")
    outer_ids = dict(re.findall(r"^[ |]*(\S+) \[id (\w+)\]", outer, re.M)[::-1])
    scan_line = next(ln for ln in outer.splitlines() if "for{cpu,scan_fn}" in ln)
    scan_id = re.search(r"\[id (\w+)\]", scan_line).group(1)
    lines = inner.splitlines()
    assert lines[0] == f"for{{cpu,scan_fn}} [id {scan_id}] ''   "
    assert all(ln.startswith(" >") for ln in lines[1:])
    assert lines[1].startswith(" >Elemwise{mul,no_inplace} [id ")
    refs = re.findall(r"^ >[ |]*(.+?) \[id \w+\] -> \[id (\w+)\]$", inner, re.M)
    assert len(refs) == 3  # the coefficient slice, the power slice, and x
    ids_in_outer = set(re.findall(r"\[id (\w+)\]", outer))
    assert all(ref in ids_in_outer for _, ref in refs)
    assert ("x", outer_ids["x"]) in refs  # the non-sequence points at the outer x
    f = thx.function([coefficients, x], polynomial)
    assert np.allclose(f([1.0, 0.0, 2.0], 3.0), 1 + 2 * 9)
    assert "Inner graphs of the scan ops:" in debugprint(f, file="str")


def test_pydotprint_scan_graphs_draws_inner_graph(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(sys.stdin.read())\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    _, _, polynomial = _polynomial()
    pydotprint(polynomial, outfile=str(tmp_path / "poly.png"), scan_graphs=True,
               print_output_file=False)
    topo_pos = next(i for i, n in enumerate(thx.graph.io_toposort([], [polynomial]))
                    if "scan_fn" in str(n.op))
    inner = (tmp_path / f"poly_scan_fn_{topo_pos}.png").read_text()
    nodes, _ = _dot_nodes_edges(inner)
    assert "Elemwise{mul,no_inplace}" in nodes.values() and "Elemwise{pow,no_inplace}" in nodes.values()
    assert (tmp_path / "poly.png").read_text().count("for{cpu,scan_fn}") == 1


# ------------------------------------------------------------ the Print op

def test_print_op_prints_values_when_the_function_runs(capsys):
    from thx.printing import Print
    x = T.dvector("x")
    printed_x = Print("hello world")(x)
    f = thx.function([x], printed_x * 2)
    assert capsys.readouterr().out == ""  # nothing printed while compiling
    r = f([1, 2, 3])
    assert np.array_equal(r, [2.0, 4.0, 6.0])
    assert capsys.readouterr().out == "hello world __str__ = [1. 2. 3.]\n"
    shown = Print("y", attrs=("shape", "sum"))(x ** 2)
    g = thx.function([x], [shown, T.grad(shown.sum(), x)])
    val, grad = g([1.0, 2.0])
    assert capsys.readouterr().out == "y shape = (2,)\ny sum = 5.0\n"
    assert np.array_equal(val, [1.0, 4.0]) and np.array_equal(grad, [2.0, 4.0])  # identity for grad
    assert pp(shown) == "(x ** TensorConstant{2})"
    assert Print("a") == Print("a") and Print("a") != Print("b")


def test_print_op_runs_inside_a_jitted_scan(capsys):
    thx.install_theano_alias()
    try:
        import theano.printing
        assert theano.printing.Print is thx.tensor.printing.Print
    finally:
        thx.uninstall_theano_alias()
    x = T.dvector("x")
    doubled, _ = thx.scan(lambda v: theano.printing.Print("v")(v) * 2, sequences=[x])
    f = thx.function([x], doubled)
    assert capsys.readouterr().out == ""
    assert np.array_equal(f([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]) * 2)  # NumPy oracle
    assert capsys.readouterr().out == "v __str__ = 1.0\nv __str__ = 2.0\nv __str__ = 3.0\n"


# ------------------------------------------------------------ the printing protocol of ops

def test_ops_tell_printing_about_their_inner_graphs():
    x = T.dvector("x")
    assert T.exp(x).owner.op.inner_graph is None and T.exp(x).owner.op.inner_outputs == []
    assert T.exp(x).owner.op.inner_to_outer(T.exp(x).owner) == {}
    coefficients, x, polynomial = _polynomial()
    node = next(n for n in thx.graph.io_toposort([], [polynomial]) if "scan_fn" in str(n.op))
    op = node.op
    assert op.inner_graph is op.fgraph
    assert op.inner_inputs == list(op.fgraph.inputs) and op.inner_outputs == list(op.fgraph.outputs)
    links = op.inner_to_outer(node)
    c_slice, power, free = op.fgraph.inputs
    assert links[free] is x and links[c_slice] is node.inputs[1] and links[power] is node.inputs[2]
    assert pp(node.outputs[0]).startswith("for{cpu,scan_fn}(")


def test_cond_highlight_clusters_every_value_of_each_branch():
    from thx.ifelse import ifelse
    c, a, b = T.dscalars("c", "a", "b")
    then2, else2 = T.exp(a), T.log(b)
    outs = ifelse(T.gt(c, 0), [T.sin(a), then2], [T.cos(b), else2], name="pick")
    text = graph_to_dot(outs, cond_highlight="pick")
    nodes, _ = _dot_nodes_edges(text)
    clusters = dict(re.findall(r'subgraph "cluster_(\w+)" \{\n    label="\w+";\n((?:    "\w+";\n)*)', text))
    members = {k: sorted(nodes[i] for i in re.findall(r'"(\w+)"', v)) for k, v in clusters.items()}
    assert members["Left"] == ["Elemwise{exp,no_inplace}", "Elemwise{sin,no_inplace}"]
    assert members["Right"] == ["Elemwise{cos,no_inplace}", "Elemwise{log,no_inplace}"]
    assert members["Middle"] == []
