"""Distribution by JAX's own engine: the same training on 1 device, 4 simulated devices, a 2x2 mesh
and 2 processes gives the same parameters; the partitioned step holds XLA's collectives.

``jax_num_cpu_devices`` is read once, when JAX's backend starts, and this process has started
it with one device: every multi-device case runs as a subprocess (``python -m thx run
script.py`` with ``THX_FLAGS``).  They all start at once (module fixture) and take a few
seconds each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
ROOT = HERE.parents[1]
TIMEOUT = 240  # seconds for each subprocess (a few seconds unloaded)

RUNS = {  # name -> (script, THX_FLAGS, extra thx run arguments, print the HLO)
    "mlp_1": ("mlp_script.py", "", [], False),
    "mlp_dp4": ("mlp_script.py", "cpu_devices=4,data_parallel=True", [], True),
    "mlp_mesh": ("mlp_script.py", "cpu_devices=4,mesh=data:2,model:2,data_parallel=True", [], True),
    "mlp_2proc": ("mlp_script.py", "data_parallel=True", ["--processes", "2"], False),
    "rnn_1": ("rnn_script.py", "", [], False),
    "rnn_dp4": ("rnn_script.py", "cpu_devices=4,data_parallel=True", [], True),
    "errors": ("errors_script.py", "cpu_devices=4,data_parallel=True", [], False),
}


def _env(flags: str, hlo: bool) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("THX_", "THEANO_FLAGS", "XLA_FLAGS"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["THX_FLAGS"] = flags
    if hlo:
        env["THX_TEST_HLO"] = "1"
    return env


@pytest.fixture(scope="module")
def runs() -> dict:
    """name -> the JSON objects the run printed (one per process)."""
    procs = {}
    for name, (script, flags, extra, hlo) in RUNS.items():
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "thx", "run", *extra, str(SCRIPTS / script)],
            env=_env(flags, hlo), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
    out = {}
    for name, p in procs.items():
        try:
            stdout, stderr = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
            pytest.fail(f"{name}: no end after {TIMEOUT} s\n{stderr[-3000:]}")
        assert p.returncode == 0, f"{name} failed ({p.returncode}):\n{stderr[-3000:]}"
        out[name] = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return out


def _assert_same(a: list, b: list, rtol: float = 1e-10) -> None:
    assert len(a) == len(b)
    for pa, pb in zip(a, b):
        np.testing.assert_allclose(np.asarray(pa), np.asarray(pb), rtol=rtol, atol=1e-13)


def _mlp_numpy() -> list:
    """The MLP script's training in NumPy (hand-written gradients): an independent reference."""
    import importlib.util

    import thx
    thx.install_theano_alias()  # the script imports theano (its main() is not run here)
    try:
        spec = importlib.util.spec_from_file_location("mlp_script", SCRIPTS / "mlp_script.py")
        s = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(s)
    finally:
        thx.uninstall_theano_alias()
    x, y, (W1, b1, W2, b2) = s.data(np.random.RandomState(0))
    for t in range(s.STEPS):
        i = t % (s.N // s.BS)
        xb, yb = x[i * s.BS:(i + 1) * s.BS], y[i * s.BS:(i + 1) * s.BS]
        h = np.tanh(xb @ W1 + b1)
        z = h @ W2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz = (p - np.eye(s.K)[yb]) / s.BS
        dh = (dz @ W2.T) * (1 - h ** 2)
        W1, b1, W2, b2 = (W1 - 0.5 * xb.T @ dh, b1 - 0.5 * dh.sum(0),
                          W2 - 0.5 * h.T @ dz, b2 - 0.5 * dz.sum(0))
    return [W1, b1, W2, b2]


def test_one_device_matches_numpy(runs):
    _assert_same(runs["mlp_1"][0]["params"], _mlp_numpy(), rtol=1e-9)


@pytest.mark.parametrize("name", ["mlp_dp4", "mlp_mesh"])
def test_sharded_training_matches_one_device(runs, name):
    _assert_same(runs[name][0]["params"], runs["mlp_1"][0]["params"])


def test_data_parallel_step_all_reduces_the_gradient(runs):
    hlo = runs["mlp_dp4"][0]["hlo"]
    # the StableHLO thx hands to XLA: the minibatch's rows laid out on the data axis
    assert 'sdy.sharding_constraint' in hlo["lowered"] and '[{"data"}, {}]' in hlo["lowered"]
    assert 'sdy.mesh @mesh = <["data"=4]>' in hlo["lowered"]
    # after SPMD partitioning: each device holds a quarter of the batch, the gradient is summed
    assert "all-reduce" in hlo["partitioned"]
    assert "f64[4,6]" in hlo["partitioned"]  # the 16-row minibatch, 4 rows per device


def test_model_axis_shards_the_weights(runs):
    hlo = runs["mlp_mesh"][0]["hlo"]
    assert 'sdy.mesh @mesh = <["data"=2, "model"=2]>' in hlo["lowered"]
    assert 'tensor<6x8xf64> {jax.buffer_donor = true, sdy.sharding = #sdy.sharding<@mesh, ' \
           '[{}, {"model"}]>}' in hlo["lowered"]  # W1 (6 x 8): its columns on the model axis
    assert "f64[6,4]" in hlo["partitioned"]  # each device holds half of W1's columns
    assert "all-reduce" in hlo["partitioned"]


def test_two_processes_print_the_one_process_parameters(runs):
    results = sorted(runs["mlp_2proc"], key=lambda r: r["process"])
    assert [r["process"] for r in results] == [0, 1]
    for r in results:
        _assert_same(r["params"], runs["mlp_1"][0]["params"])


def test_scan_rnn_data_parallel_matches_one_device(runs):
    _assert_same(runs["rnn_dp4"][0]["params"], runs["rnn_1"][0]["params"])
    assert "all-reduce" in runs["rnn_dp4"][0]["partitioned"]
    assert "f64[2,5,3]" in runs["rnn_dp4"][0]["partitioned"]  # 8 sequences: 2 per device


def test_indivisible_and_unknown_shardings_are_named(runs):
    r = runs["errors"][0]
    assert r["ok"] == 24.0
    kind, msg = r["batch"]
    assert kind == "ShardingError"
    assert "variable x" in msg and "(6, 3)" in msg and "mesh data:4" in msg
    kind, msg = r["shared"]
    assert "shared variable W" in msg and "(6, 3)" in msg and "mesh data:4" in msg
    kind, msg = r["axis"]
    assert "'model'" in msg and "data:4" in msg
    kind, msg = r["rank"]
    assert kind == "ValueError" and "variable x" in msg


def test_a_value_uploaded_before_the_mesh_moves_onto_it(runs):
    r = runs["errors"][0]
    assert r["early_sharding"].startswith("SingleDeviceSharding")
    assert r["early_sum"] == 28.0
    assert "'data': 4" in r["early_sharding_after"]
