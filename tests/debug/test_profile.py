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
    named = {str(n.op) for n in nodes if n is not None and n not in profiling.OUTSIDE}
    assert named and named <= graph_ops
    assert any("dot" in s.lower() for s in named)  # the matrix products are found by name
    # the work outside the graph is listed under Theano's names, measured on the calls
    assert {"DeepCopyOp", "InputChecks", "DevicePut", "FirstCall"} <= set(prof.class_time())
    assert 0 < prof.output_time < prof.fct_call_time and 0 < prof.input_time < prof.fct_call_time
    # a call = before the jitted function + in it + after it (timed in the same call)
    assert prof.input_time + prof.fn_call_time + prof.output_time == pytest.approx(prof.fct_call_time)
    # the per-node times add up to the per-class and per-op times, and to no more than the calls took
    total = sum(nodes.values())
    assert sum(prof.class_time().values()) == pytest.approx(total)
    assert sum(prof.op_time().values()) == pytest.approx(total)
    assert 0 < total <= prof.fct_call_time * 1.05
    assert 0 < prof.thunk_fraction() <= prof.accounted_fraction() <= 1.05


def test_summary_has_theanos_sections(prof):
    f, _ = _mlp(prof)
    for _ in range(3):
        f(np.ones((4, 5)), np.ones((5, 5)), np.ones((5, 2)))
    out = io.StringIO()
    prof.summary(out)
    text = out.getvalue()
    for line in ("Function profiling", "Time in 3 calls to Function.__call__", "Total compile time",
                 "Time in Function.fn.__call__", "Time in thunks", "output copies (DeepCopyOp)",
                 "Graph rewriting (Theano Optimizer) time", "Lowering (tracing to StableHLO) time",
                 "XLA compile time", "\nClass\n", "\nOps\n", "\nApply\n", "<Class name>", "<Apply name>"):
        assert line in text, line
    assert re.search(r"%\s+[\d.]+%\s+[\d.]+s\s+\d+\s+XLA\s+Dot", text)
    assert re.search(r"%\s+[\d.]+%\s+[\d.]+s\s+\d+\s+Py\s+DeepCopyOp", text)
    assert "DeepCopyOp(outputs)" in text


def test_scan_time_goes_to_the_scan_node(prof):
    h0, W = T.dvector("h0"), T.dmatrix("W")
    hs, _ = thx.scan(lambda h, W: T.tanh(T.dot(W, h)), outputs_info=h0, non_sequences=W, n_steps=20)
    f = thx.function([h0, W], hs[-1], profile=prof)
    for _ in range(3):
        f(np.ones(30) * 0.1, np.eye(30) * 0.5)
    outside = {str(n.op) for n in profiling.OUTSIDE}
    classes = {k: t for k, t in prof.class_time().items() if k not in outside}
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
    x = T.dvector("x")
    hs, _ = thx.scan(lambda h: (h * 2, until(T.sum(h) > 100)), outputs_info=x, n_steps=50)
    p1, p2 = ProfileStats(atexit_print=False, message="until"), ProfileStats(atexit_print=False)
    out = T.exp(hs).sum() + T.log(x).sum()
    f = thx.function([x], out, profile=p1)  # runs as jitted segments around the loop: no one program
    want = np.exp(2.0 ** np.arange(1, 9)).sum()
    for _ in range(3):
        np.testing.assert_allclose(f(np.ones(1)), want)
    assert p1.fct_callcount == 3 and p1.traced_calls == 2
    # each segment's nodes get their time, and the loop's goes to the until scan (the barrier)
    timed = {n for n, t in p1.node_time().items() if t > 0 and n is not None}
    graph = f.maker.fgraph.apply_nodes
    scan = [n for n in graph if getattr(n.op, "host_barrier", False)]
    log = [n for n in graph if "log" in str(n.op)]  # computed before the loop, in the first segment
    exp = [n for n in graph if "exp" in str(n.op)]  # after it, in the second
    assert len(scan) == len(log) == len(exp) == 1
    assert scan[0] in timed and log[0] in timed and exp[0] in timed
    g = thx.function([x], x + 1, profile=p2)
    g(np.ones(1))
    monkeypatch.setattr(profiling, "_ATEXIT_PRINT", [p1, p2])
    profiling._print_at_exit()
    err = capsys.readouterr().err
    assert "Message: until" in err and "Sum of all(2) printed profiles at exit" in err
    assert "Time in 4 calls to Function.__call__" in err


def _ev(name, ts, dur, tid=1, run="1", end=None):
    """A thunk event of a trace (and its ``end:`` event when ``end`` is given), in microseconds."""
    out = [{"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": 1, "tid": tid,
            "args": {"hlo_op": name, "hlo_module": "jit_f", "run_id": run}}]
    if end is not None:
        out.append({"ph": "X", "name": f"end: {name}", "ts": end, "dur": 0, "pid": 1, "tid": 9, "args": {}})
    return out


def test_thunk_times_give_each_instant_of_an_execution_to_the_ops_running():
    from thx.compile.profile_trace import device_put_time, thunk_times
    events = (_ev("a", 0, 10, end=10)             # 0-10: a alone
              + _ev("dot", 10, 2, end=50)         # a product handed to the thread pool: ready at 50
              + _ev("b", 20, 10, tid=2, end=30)   # 20-30: runs beside the product
              + _ev("while", 60, 30, end=90)      # a loop whose body ran 65-75 and 80-85
              + _ev("body", 65, 10) + _ev("body", 80, 5)
              + [{"ph": "X", "name": "DevicePut", "ts": -8, "dur": 5, "pid": 1, "tid": 1, "args": {}},
                 {"ph": "X", "name": "DevicePut", "ts": -6, "dur": 5, "pid": 1, "tid": 1, "args": {}}])
    runs, busy, wait, first = thunk_times(events)
    got = runs[("jit_f", "1")]
    us = {k: v * 1e6 for k, v in got.items()}
    # dot: 10-20 alone, 20-30 shared with b, 30-50 alone; the 50-60 gap is the loop's wait
    assert us["a"] == pytest.approx(10) and us["b"] == pytest.approx(5)
    assert us["dot"] == pytest.approx(10 + 5 + 20)
    assert us["body"] == pytest.approx(15) and us["while"] == pytest.approx(10 + 5 + 5 + 5)
    assert sum(us.values()) == pytest.approx(90)  # the whole span of the execution, once
    assert busy * 1e6 == pytest.approx(80) and wait * 1e6 == pytest.approx(10) and first == 0
    assert device_put_time(events, first) * 1e6 == pytest.approx(7)  # overlapping copies counted once


def test_profile_optimizer_counts_each_rewrite_that_changed_the_graph():
    from thx.compile.profile_rewrites import rewrite_counts, rewrite_times
    from thx.graph.fg import FunctionGraph
    from thx.rewriting import optimize
    x, W = T.dvector("x"), T.dmatrix("W")
    cost = (T.log(1 + T.exp(T.dot(W, x))) * 1).sum() + (x ** 2).sum() * 2 * 3
    fg = FunctionGraph([x, W], [cost, T.grad(cost, x), T.grad(x.sum() ** 2, x)])
    seen: dict[str, int] = {}  # an independent count: the graph's own replacements, by reason
    replace = fg.replace

    def counting(var, new_var, reason=None):
        seen[reason] = seen.get(reason, 0) + 1
        replace(var, new_var, reason)
    fg.replace = counting
    with thx.config.change_flags(profile_optimizer=True):
        counts = optimize(fg, "FAST_RUN")
    assert len(seen) > 3 and {"local_log1p", "constant_folding", "merge"} <= set(seen)
    assert rewrite_counts(fg.rewrite_profile) == seen == counts
    times = rewrite_times(fg.rewrite_profile)
    assert set(seen) <= set(times) and all(t >= 0 for t in times.values())
    phases = [ph for ph, *_ in fg.rewrite_profile]
    assert phases == ["canonicalize", "stabilize", "specialize"]
    # the phases' times hold the rewrites' times (and the worklist's own work)
    assert sum(times.values()) <= sum(t for _, t, *_ in fg.rewrite_profile)
    fg2 = FunctionGraph([x], [x * 1])
    optimize(fg2, "FAST_RUN")  # without the flag: nothing is timed or kept
    assert not hasattr(fg2, "rewrite_profile")


def test_profile_optimizer_and_memory_reports_in_the_summary():
    x, W = T.dmatrix("x"), T.dmatrix("W")
    prof = ProfileStats(atexit_print=False)
    with thx.config.change_flags(profile_optimizer=True, profile_memory=True):
        f = thx.function([x, W], [T.tanh(T.log(1 + T.exp(T.dot(x, W)))).sum(), T.dot(x, W) * 2],
                         profile=prof, name="layer")
    a, w = np.ones((40, 30)), np.ones((30, 20))
    f(a, w)
    out = io.StringIO()
    prof.summary(out)
    text = out.getvalue()
    assert "Optimizer Profile" in text and "times - times applied - name:" in text
    assert re.search(r"\d+\.\d{3}s - 1 - local_log1p\b", text)
    assert "Memory Profile" in text and "<Sum apply outputs (bytes)>" in text
    (_, mem), = prof.memory.values()
    sizes = {str(n.op): (shapes, b) for n, shapes, b in mem["nodes"]}
    assert sizes["dot"] == ([(40, 20)], [40 * 20 * 8])  # from the shapes, float64
    assert f"{40 * 20 * 8:9d}B  [(40, 20)] c dot(x, W)" in text
    xla = mem["xla"]  # XLA's own plan: the arguments and outputs it holds
    assert xla["argument_size_in_bytes"] == a.nbytes + w.nbytes
    assert xla["output_size_in_bytes"] >= 8 + 40 * 20 * 8
    assert xla["peak_memory_in_bytes"] >= xla["argument_size_in_bytes"]
    # Theano's estimates from the node sizes: nothing freed >= freed after the last use
    assert mem["no_gc"] == sum(sum(b) for _, _, b in mem["nodes"]) >= mem["gc"] > 0


def test_instructions_xla_added_go_to_the_node_whose_value_they_hold():
    from thx.compile.profile_hlo import Hlo
    x = T.dmatrix("x")
    dot_node, tanh_node = T.dot(x, x).owner, T.tanh(x).owner
    program.NODE_OF_SCOPE["Dot#990001"], program.NODE_OF_SCOPE["Elemwise#990002"] = dot_node, tanh_node
    hlo = Hlo(textwrap.dedent("""\
        HloModule jit_f, entry_computation_layout={(f64[2,2]{1,0})->f64[2,2]{1,0}}

        ENTRY %main.1 (p0: f64[2,2]) -> (f64[2,2]) {
          %p0 = f64[2,2]{1,0} parameter(0)
          %copy.1 = f64[2,2]{0,1} copy(f64[2,2]{1,0} %p0)
          %dot.2 = f64[2,2]{1,0} dot(f64[2,2]{0,1} %copy.1, f64[2,2]{1,0} %p0), lhs_contracting_dims={1}, rhs_contracting_dims={0}, metadata={op_name="jit(f)/Dot#990001/dot_general"}
          %copy.3 = f64[2,2]{0,1} copy(f64[2,2]{1,0} %dot.2)
          %tanh.4 = f64[2,2]{0,1} tanh(f64[2,2]{0,1} %copy.3), metadata={op_name="jit(f)/Elemwise#990002/tanh"}
          ROOT %tuple.5 = (f64[2,2]{0,1}) tuple(f64[2,2]{0,1} %tanh.4)
        }
        """))
    assert hlo.module == "jit_f"
    assert hlo.split("dot.2") == {dot_node: 1.0} and hlo.split("tanh.4") == {tanh_node: 1.0}
    assert hlo.split("copy.3") == {dot_node: 1.0}  # a copy of the product's value: the product's
    assert hlo.split("copy.1") == {dot_node: 1.0}  # a copy of an argument: the node reading it
