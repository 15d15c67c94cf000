"""``theano.d3viz``: ``d3viz`` writes thx's self-contained HTML viewer, ``d3write`` the DOT text."""

from __future__ import annotations

import thx
import thx.tensor as T
from thx.d3viz import d3viz, d3write
from thx.printing import graph_to_dot, to_html
from thx.printing.viewer import _html_model


def test_d3viz_writes_the_viewer_of_the_optimized_graph(tmp_path):
    x, w = T.dvector("x"), thx.shared(1.5, name="w")
    f = thx.function([x], T.tanh(x * w), updates=[(w, w + 1)])
    out = tmp_path / "deep" / "dir" / "f.html"
    d3viz(f, str(out), copy_deps=False)
    page = out.read_text()
    assert page == to_html(f, None)  # the viewer of this function's optimized graph
    model = _html_model(f)
    labels = " ".join(str(n) for n in model["nodes"])
    assert "tanh" in labels and "'w'" in labels
    assert "UPDATE" in str(model["edges"])


def test_d3write_writes_the_dot_text(tmp_path):
    x = T.dvector("x")
    f = thx.function([x], T.exp(x))
    d3write(f, str(tmp_path / "f.dot"))
    assert (tmp_path / "f.dot").read_text() == graph_to_dot(f)
