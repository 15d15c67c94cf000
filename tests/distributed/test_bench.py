"""``python -m bench.distributed``: the scaling benchmark runs and reports (timings never asserted)."""

from bench.distributed import format_report, run


def test_quick_scaling_benchmark_runs():
    rows = run(devices=(1, 2), steps=2, batch=8, width=4)
    assert [r["devices"] for r in rows] == [1, 2]
    assert rows[0]["collective_share"] == 0  # one device: nothing to communicate
    assert 0 < rows[1]["collective_share"] <= 1  # two: the gradient's all-reduce is in the profile
    assert all(r["step_ms"] > 0 for r in rows)
    report = format_report(rows)
    assert "| 2 |" in report and "not a speed-up" in report and "load average" in report
