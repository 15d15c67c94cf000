"""``python -m bench.rnn_matrix --quick`` on a few rows: thx and hand-written JAX agree.

Behaviour only (the rows run, the gradients and costs match JAX's, the report
and the peak-RSS subprocess work); timings are printed by the benchmark, never
asserted.
"""

import numpy as np

from bench.rnn_matrix import BEGIN, END, cases, format_report, peak_rss, run, write_docs


def test_matrix_covers_every_layout_and_cell():
    names = [c.name for c in cases(quick=True)]
    assert len(names) == 15 and len(set(names[:12])) == 12
    assert any("taps [-2, -1]" in n for n in names)
    long = [c for c in cases(quick=False) if c.steps == 1000]
    assert [(c.cell, c.batched) for c in long] == [("lstm", True), ("lstm", False)]


def test_quick_rows_agree_with_jax():
    only = ["gru, batched state, weights left", "lstm, vector state, weights right", "taps"]
    result = run(quick=True, only=only)
    rows = result["rows"]
    assert len(rows) == 4  # the vector LSTM twice: the matrix's row and the long one
    for r in rows:
        assert r.error is None, f"{r.case.name}: {r.error}"
        assert r.agree, f"{r.case.name}: thx and JAX differ (max rel. error {r.max_rel_err:.2e})"
        assert r.thx_grad > 0 and r.jax_fwd > 0 and r.xla_mem["thx"] > 0 and r.xla_mem["jax"] > 0
    report = format_report(result)
    assert "| tanh, 2 sequences, taps [-2, -1] |" in report


def test_peak_rss_child_reports_a_plausible_figure():
    k = next(i for i, c in enumerate(cases(quick=True)) if c.cell == "tanh" and not c.batched)
    peak = peak_rss(k, quick=True, side="jax")
    assert np.isfinite(peak) and -(2 ** 24) < peak < 2 ** 30


def test_write_docs_replaces_only_its_block(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# P\n\nbefore\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    write_docs("new", page)
    assert page.read_text() == f"# P\n\nbefore\n\n{BEGIN}\nnew\n{END}\n\nafter\n"
