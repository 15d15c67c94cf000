"""The graph IR: toposort, clone, FunctionGraph replace, all iterative."""

import numpy as np
import pytest

import thx.tensor as T
from thx.graph.basic import ancestors, clone_replace, graph_inputs, io_toposort
from thx.graph.fg import FunctionGraph


def test_toposort_orders_parents_first_and_handles_deep_graphs():
    x = T.dscalar('x')
    y = x
    for _ in range(20000):
        y = y + 1
    order = io_toposort([x], [y])
    assert len(order) == 20000
    pos = {n: k for k, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            if i.owner is not None:
                assert pos[i.owner] < pos[n]
    assert graph_inputs([y])[0] is x or x in graph_inputs([y])
    assert len(ancestors([y])) > 20000


def test_clone_replace_substitutes_and_keeps_original():
    x, y = T.dscalars('x', 'y')
    z = T.exp(x) * 2
    (z2,) = clone_replace([z], {x: y})
    assert x in graph_inputs([z]) and y in graph_inputs([z2]) and x not in graph_inputs([z2])
    assert (z2).eval({y: 0.0}) == 2.0


def test_function_graph_replace_is_type_checked_and_prunes():
    x = T.dvector('x')
    y = T.exp(x) + 1
    fg = FunctionGraph([x], [y])
    assert len(fg.apply_nodes) == 3  # exp, dimshuffle of 1, add
    add_node = fg.outputs[0].owner
    exp_out = add_node.inputs[0]
    with pytest.raises(TypeError, match="Cannot replace"):
        fg.replace(exp_out, T.dscalar('s'))
    fg.replace(exp_out, fg.inputs[0])
    assert len(fg.apply_nodes) == 2
    assert all(n.op.__class__.__name__ != "Elemwise" or n.op.scalar_op.name != "exp" for n in fg.apply_nodes)
    assert fg.clients[fg.inputs[0]]
    from thx.compile.function import function
    assert np.allclose(function([x], y)([0.0]), [2.0])
