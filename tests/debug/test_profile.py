"""profile=True: ProfileStats with call times, compile time in three, XLA time per Apply node."""

import io
import re
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile import profiling
from thx.compile.profiling import ProfileStats
from thx.lowering import program
from tests.test_main import ENV


@pytest.fixture
def prof():
    return ProfileStats(atexit_print=False)


def _mlp(prof):
    x, W1, W2 = T.dmatrix("x"), T.dmatrix("W1"), T.dmatrix("W2")
    out = T.exp(-T.dot(T.tanh(T.dot(x, W1)), W2)).sum()
    return thx.function([x, W1, W2], out, profile=prof), (x, W1, W2)


def test_profile_records_calls_compile_split_and_node_times(prof):
    f, _ = _mlp(prof)
    rng = np.random.default_rng(0)
    args = [rng.normal(size=(64, 128)), rng.normal(size=(128, 128)), rng.normal(size=(128, 8))]
    want = np.tanh(args[0] @ args[1]) @ args[2]
    for _ in range(4):
        got = f(*args)
    np.testing.assert_allclose(got, np.exp(-want).sum())
    assert f.profile is prof
    assert prof.fct_callcount == 4 and prof.fct_call_time > 0
    assert prof.optimizer_time > 0 and prof.linker_time > 0 and prof.xla_compile_time > 0
    assert prof.compile_time == pytest.approx(prof.optimizer_time + prof.linker_time + prof.xla_compile_time)
    assert prof.traced_calls == 3  # calls 2..4 (the first few after the first) run under the tracer
    nodes = prof.node_time()
    graph_ops = {str(n.op) for n in f.maker.fgraph.apply_nodes}
    named = {str(n.op) for n in nodes if n is not None}
    assert named and named <= graph_ops
    assert any("dot" in s.lower() for s in named)  # the matrix products are found by name
    # the per-node times add up to the per-class and per-op times, and to no more than the calls took
    total = sum(nodes.values())
    assert sum(prof.class_time().values()) == pytest.approx(total)
    assert sum(prof.op_time().values()) == pytest.approx(total)
    assert 0 < total <= prof.fct_call_time * 1.05
    assert 0 < prof.thunk_fraction() <= 1.05


def test_summary_has_theanos_sections(prof):
    f, _ = _mlp(prof)
    for _ in range(3):
        f(np.ones((4, 5)), np.ones((5, 5)), np.ones((5, 2)))
    out = io.StringIO()
    prof.summary(out)
    text = out.getvalue()
    for line in ("Function profiling", "Time in 3 calls to Function.__call__", "Total compile time",
                 "Graph rewriting (Theano Optimizer) time", "Lowering (tracing to StableHLO) time",
                 "XLA compile time", "\nClass\n", "\nOps\n", "\nApply\n", "<Class name>", "<Apply name>"):
        assert line in text, line
    assert re.search(r"%\s+[\d.]+%\s+[\d.]+s\s+\d+\s+XLA\s+Dot", text)


def test_scan_time_goes_to_the_scan_node(prof):
    h0, W = T.dvector("h0"), T.dmatrix("W")
    hs, _ = thx.scan(lambda h, W: T.tanh(T.dot(W, h)), outputs_info=h0, non_sequences=W, n_steps=20)
    f = thx.function([h0, W], hs[-1], profile=prof)
    for _ in range(3):
        f(np.ones(30) * 0.1, np.eye(30) * 0.5)
    classes = prof.class_time()
    assert "Scan" in classes and classes["Scan"] == max(classes.values())


def test_flag_and_shared_profile():
    x = T.dvector("x")
    assert thx.function([x], x * 2).profile is None
    with thx.config.change_flags(profile=True):
        f = thx.function([x], x * 2)
    try:
        assert isinstance(f.profile, ProfileStats) and f.profile.message.endswith(".py:" + str(
            test_flag_and_shared_profile.__code__.co_firstlineno + 4))
        f(np.ones(3))
        assert f.profile.fct_callcount == 1
    finally:
        profiling._ATEXIT_PRINT.remove(f.profile)
    shared = ProfileStats(atexit_print=False)
    g1 = thx.function([x], x + 1, profile=shared)
    g2 = thx.function([x], x - 1, profile=shared)
    g1(np.ones(2)), g2(np.ones(2)), g2(np.ones(2))
    assert shared.fct_callcount == 3


def test_named_scopes_change_only_metadata(monkeypatch):
    """Each node's lowering runs in a named scope: the optimized HLO is the same without it."""
    x, W = T.dmatrix("x"), T.dmatrix("W")
    fg = thx.function([x, W], T.tanh(T.dot(x, W)).sum() + T.exp(x).mean()).maker.fgraph
    args = (np.ones((8, 8)), np.ones((8, 8)))

    def hlo():
        with jax.enable_x64(True):
            text = jax.jit(program.build_closure(fg)).lower(*args).compile().as_text()
        text = re.sub(r",?\s*metadata=\{[^}]*\}", "", text)
        text = re.sub(r"^(FileNames|FunctionNames|FileLocations|StackFrames)\n(.+\n)*", "", text, flags=re.M)
        return text

    scoped = hlo()
    with jax.enable_x64(True):
        assert "Dot#" in jax.jit(program.build_closure(fg)).lower(*args).as_text(debug_info=True)
    monkeypatch.setattr(program, "scoped", lambda fn, node: fn)
    assert hlo() == scoped


def test_thx_run_profile_prints_the_summary_at_exit(tmp_path):
    script = tmp_path / "prof.py"
    script.write_text(textwrap.dedent("""\
        import numpy, theano, theano.tensor as T
        x = T.dvector('x')
        f = theano.function([x], T.exp(x).sum(), name='expsum')
        for _ in range(3):
            f(numpy.ones(4))
        """))
    r = subprocess.run([sys.executable, "-m", "thx", "run", "--profile", str(script)], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120, env=ENV)
    assert r.returncode == 0, r.stderr
    assert "Message: expsum" in r.stderr and "Time in 3 calls to Function.__call__" in r.stderr


def test_segmented_functions_and_the_sum_printed_at_exit(monkeypatch, capsys):
    from thx.scan_module import until
    x = T.dscalar("x")
    hs, _ = thx.scan(lambda h: (h * 2, until(h > 100)), outputs_info=x, n_steps=50)
    p1, p2 = ProfileStats(atexit_print=False, message="until"), ProfileStats(atexit_print=False)
    f = thx.function([x], hs, profile=p1)  # runs as jitted segments around the loop: no one program
    for _ in range(3):
        np.testing.assert_array_equal(f(1.0), 2.0 ** np.arange(1, 9))
    assert p1.fct_callcount == 3 and p1.traced_calls == 2
    assert set(p1.node_time()) <= {None}  # XLA's time is there, not split over nodes
    g = thx.function([x], x + 1, profile=p2)
    g(1.0)
    monkeypatch.setattr(profiling, "_ATEXIT_PRINT", [p1, p2])
    profiling._print_at_exit()
    err = capsys.readouterr().err
    assert "Message: until" in err and "Sum of all(2) printed profiles at exit" in err
    assert "Time in 4 calls to Function.__call__" in err
