"""thx.printing.to_html: the self-contained HTML graph viewer, checked in headless Chromium.

Chromium loads the written file, runs the page's JavaScript (which draws the
graph as SVG) and dumps the resulting DOM; the test then checks that the SVG
holds one element per graph node, with the expected kinds and labels.
Chromium comes from the ``chromium`` fixture (tests/conftest.py): skipped when it is
not installed, unless ``THX_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import re
import subprocess
from html.parser import HTMLParser
from urllib.parse import quote

import numpy as np

import thx
import thx.tensor as T
from thx.printing import _html_model, to_html


def _dump_dom(chromium: str, path: str, profile: str, fragment: str = "") -> str:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=2000",
           "--dump-dom", "file://" + os.path.abspath(path) + fragment]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    err = proc.stderr.decode(errors="replace")[-2000:]
    assert proc.returncode == 0, f"chromium failed (exit code {proc.returncode}): {err}"
    dom = proc.stdout.decode()
    assert 'data-drawn="' in dom, f"the page's JavaScript did not draw the graph; chromium said: {err}"
    return dom


class _SvgNodes(HTMLParser):
    """Collect the drawn ``<g class="node">`` elements: id, kind and text label."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, dict] = {}
        self.edges: list[tuple[str, str, str]] = []
        self._stack: list[str | None] = []  # node id for each open tag inside a node
        self._in_text: str | None = None
        self.drawn = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("id") == "graph":
            self.drawn = a.get("data-drawn")
        cur = self._stack[-1] if self._stack else None
        if tag == "g" and (a.get("class") or "").split()[:1] == ["node"]:
            cur = a["data-id"]
            self.nodes[cur] = {"kind": a["data-kind"], "label": "", "shapes": []}
        elif cur is not None and tag in ("rect", "ellipse"):
            self.nodes[cur]["shapes"].append(tag)
        if tag == "path" and "edge" in (a.get("class") or ""):
            self.edges.append((a["data-source"], a["data-target"], a["class"]))
        self._in_text = cur if (tag == "text" and cur is not None) else None
        self._stack.append(cur)  # the DOM dump closes every SVG element (<path ...></path>)

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()
        self._in_text = None

    def handle_data(self, data):
        if self._in_text is not None:
            self.nodes[self._in_text]["label"] += data


def _drawn(chromium, path, tmp_path, fragment: str = "") -> _SvgNodes:
    dom = _dump_dom(chromium, str(path), str(tmp_path / "chromium-profile"), fragment)
    p = _SvgNodes()
    p.feed(dom)
    p.dom = dom
    return p


def test_html_viewer_draws_every_node_of_a_function_with_updates(chromium, tmp_path):
    rng = np.random.RandomState(0)
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = thx.shared(rng.randn(3), name="w")
    b = thx.shared(0.0, name="b")
    p_1 = T.sigmoid(T.dot(x, w) + b)
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    gw, gb = T.grad(xent.mean(), [w, b])
    train = thx.function([x, y], xent.mean(), updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                         name="train")
    out = tmp_path / "train.html"
    page = to_html(train, str(out))
    assert out.read_text() == page
    # self-contained: no scripts, styles or images fetched from anywhere
    assert not re.search(r"(src|href)\s*=", page)
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")

    drawn = _drawn(chromium, out, tmp_path)
    topo = train.maker.fgraph.toposort()
    kinds = [n["kind"] for n in drawn.nodes.values()]
    assert kinds.count("apply") == len(topo)
    assert drawn.drawn == str(len(drawn.nodes))
    op_labels = sorted(n["label"] for n in drawn.nodes.values() if n["kind"] == "apply")
    assert op_labels == sorted(str(n.op) for n in topo)
    assert all(n["shapes"] == (["ellipse"] if n["kind"] == "apply" else ["rect"])
               for n in drawn.nodes.values())
    by_label = {(n["kind"], n["label"]) for n in drawn.nodes.values()}
    assert {("input", "x"), ("input", "y"), ("shared", "w"), ("shared", "b"),
            ("output", "out[0]"), ("output", "w (update)"), ("output", "b (update)")} <= by_label
    # one drawn edge per graph edge, and the two UPDATE edges go back to the shared variables
    model = _html_model(train)
    assert len(drawn.edges) == len(model["edges"])
    upd = [(s, t) for s, t, cls in drawn.edges if "update" in cls]
    assert sorted(drawn.nodes[t]["label"] for _, t in upd) == ["b", "w"]


def test_html_viewer_of_a_variable_shows_constants_and_layers(chromium, tmp_path):
    x = T.dvector("x")
    z = (T.exp(x) * 2).sum()
    out = tmp_path / "z.html"
    to_html(z, str(out))
    drawn = _drawn(chromium, out, tmp_path)
    labels = sorted((n["kind"], n["label"]) for n in drawn.nodes.values())
    assert labels == sorted([("input", "x"), ("constant", "2"), ("apply", "DimShuffle{x}"),
                             ("apply", "Elemwise{exp,no_inplace}"), ("apply", "Elemwise{mul,no_inplace}"),
                             ("apply", str(z.owner.op)), ("output", "out[0]")])
    # '#select=<label>' selects a node as a click does: its type and pp form are shown
    assert 'id="info"></div>' in drawn.dom  # nothing selected without the fragment
    sel = _drawn(chromium, out, tmp_path, "#select=" + quote("Elemwise{exp,no_inplace}"))
    info = re.search(r'<div id="info">(.*?)</div>', sel.dom, re.S).group(1)
    assert "type: <code>TensorType(float64, vector)</code>" in info
    assert "<pre>exp(x)</pre>" in info and "toposort position" in info
    assert re.search(r'<g class="node selected"[^>]*data-kind="apply"', sel.dom)
    model = _html_model(z)
    layer = {n["id"]: n["layer"] for n in model["nodes"]}
    assert all(layer[e["source"]] < layer[e["target"]] for e in model["edges"])
    info = {n["label"]: n for n in model["nodes"]}
    assert info["x"]["type"] == "TensorType(float64, vector)"
    assert info[str(z.owner.op)]["pp"] == thx.pp(z)


def test_html_model_shows_scan_inner_graph():
    c = T.dvector("c")
    x = T.dscalar("x")
    comp, _ = thx.scan(lambda a, p, fv: a * fv ** p, sequences=[c, T.arange(10)], non_sequences=x)
    model = _html_model(comp.sum())
    scans = [n for n in model["nodes"] if "scan_fn" in n["label"]]
    assert len(scans) == 1 and scans[0]["inner"] == ["(c[t] * (x ** <TensorType(int64, scalar)>))"]
