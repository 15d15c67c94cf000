"""FunctionGraph bookkeeping (clients, replace, pruning) and clone_replace, on deep graphs too."""

import numpy as np
import pytest

import thx.tensor as T
from thx.graph.basic import clone, clone_replace, graph_inputs, io_toposort
from thx.graph.evaluate import evaluate
from thx.graph.fg import FunctionGraph


def _chain(x, n):
    y = x
    for _ in range(n):
        y = T.tanh(y) * 0.9 + 0.1
    return y


def test_clients_list_every_use_and_the_outputs():
    x = T.dvector("x")
    e = T.exp(x)
    a, b = e + 1, e * 2
    fg = FunctionGraph([x], [a, b])
    e_in_fg = fg.outputs[0].owner.inputs[0]
    users = {"output" if node == "output" else node.op.scalar_op.name
             for node, _ in fg.clients[e_in_fg]}
    assert users == {"add", "mul"}
    assert [c for c in fg.clients[fg.outputs[1]]] == [("output", 1)]
    assert all(v in fg.clients for n in fg.apply_nodes for v in n.inputs + n.outputs)


def test_replace_updates_clients_and_keeps_values_right():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) + T.exp(x) * 2])
    xin = fg.inputs[0]
    exps = [n.outputs[0] for n in fg.apply_nodes
            if getattr(getattr(n.op, "scalar_op", None), "name", "") == "exp"]
    assert len(exps) == 2
    for old in exps:
        fg.replace(old, T.sin(xin))
    assert not any(getattr(getattr(n.op, "scalar_op", None), "name", "") == "exp" for n in fg.apply_nodes)
    assert all(e not in fg.clients for e in exps)  # pruned
    (got,) = evaluate(fg.outputs, {xin: np.array([0.3, 1.0])})
    np.testing.assert_allclose(got, 3 * np.sin([0.3, 1.0]))


def test_replace_of_an_output_and_type_check():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(TypeError, match="Cannot replace"):
        fg.replace(fg.outputs[0], T.dmatrix("m"))
    fg.replace(fg.outputs[0], fg.inputs[0] * 4)
    assert fg.outputs[0].owner.op.scalar_op.name == "mul"
    assert ("output", 0) in fg.clients[fg.outputs[0]]


def test_function_graph_and_its_clone_on_a_deep_graph():
    x = T.dscalar("x")
    y = _chain(x, 3000)
    fg = FunctionGraph([x], [y])
    assert len(fg.apply_nodes) >= 3000
    fg2 = fg.clone()
    assert fg2.outputs[0] is not fg.outputs[0] and len(fg2.apply_nodes) == len(fg.apply_nodes)
    order = fg2.toposort()
    pos = {n: k for k, n in enumerate(order)}
    assert all(pos[i.owner] < pos[n] for n in order for i in n.inputs if i.owner is not None)


def test_clone_replace_on_a_deep_graph_matches_numpy():
    x, z = T.dscalars("x", "z")
    y = _chain(x, 2000)
    (y2,) = clone_replace([y], {x: z * 0})
    assert graph_inputs([y2]) and x not in graph_inputs([y2]) and z in graph_inputs([y2])
    (got,) = evaluate([y2], {z: np.float64(3.0)})
    want = 0.0
    for _ in range(2000):
        want = np.tanh(want) * 0.9 + 0.1
    assert got == pytest.approx(want, rel=1e-12)
    assert len(io_toposort([x], [y])) == len(io_toposort([z], [y2])) - 1  # the extra z * 0


def test_clone_gives_fresh_inputs_and_the_same_values():
    x = T.dvector("x")
    out = T.tanh(x).sum()
    (x2,), (out2,) = clone([x], [out])
    assert x2 is not x and graph_inputs([out2]) == [x2]
    np.testing.assert_allclose(evaluate([out2], {x2: np.array([0.5, 1.5])})[0], np.tanh([0.5, 1.5]).sum())
