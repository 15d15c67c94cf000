"""The distribution surface in this process (one CPU device): flags, arguments, errors, and the
annotated graph run on a one-device mesh (compared with NumPy)."""

from __future__ import annotations

import io
import pickle
import warnings

import jax
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.config import ConfigError, config, parse_flags


def test_mesh_flag_keeps_its_commas_in_thx_flags():
    assert parse_flags("mesh=data:2,model:2,floatX=float32") == [
        ("mesh", "data:2,model:2"), ("floatX", "float32")]
    with config.change_flags(mesh="data:2, model:2"):
        assert config.mesh == "data:2,model:2"
    with pytest.raises(ConfigError, match="mesh"):
        config.mesh = "data:two"
    with pytest.raises(ConfigError, match="distinct"):
        config.mesh = "data:2,data:2"
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_flags("floatX=float32,model:2")


def test_cpu_devices_after_the_backend_started_warns():
    import thx.lowering.sharding  # noqa: F401  (watches the flag)
    jax.devices()  # the backend runs (with the one device this process has)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with config.change_flags(cpu_devices=3):
            pass
    assert any("cpu_devices=3" in str(x.message) and "new process" in str(x.message) for x in w)
    assert len(jax.devices()) == 1


def test_bad_sharding_arguments_are_named():
    with pytest.raises(ValueError, match="shared variable W: sharding must be a tuple of 2"):
        thx.shared(np.zeros((2, 2)), name="W", sharding=("data",))
    x = T.matrix("x")
    with pytest.raises(TypeError, match="shardings must be a dict"):
        thx.function([x], x.sum(), shardings=[(x, ("data", None))])
    with pytest.raises(ValueError, match="sharding of variable x must be a tuple of 2"):
        thx.function([x], x.sum(), shardings={x: "data"})


def test_a_mesh_larger_than_the_devices_says_how_to_get_them():
    x = T.matrix("x")
    with config.change_flags(mesh="data:2", data_parallel=True):
        f = thx.function([x], x.sum())
        with pytest.raises(ValueError, match=r"mesh=data:2 needs 2 devices .* cpu_devices=2"):
            f(np.ones((2, 2)))


def test_data_parallel_on_one_device_computes_the_same():
    rng = np.random.RandomState(0)
    xv, wv = rng.randn(6, 3), rng.randn(3, 2)
    with config.change_flags(data_parallel=True):
        W = thx.shared(wv, name="W")
        x, i = T.matrix("x"), T.lscalar("i")
        h = T.tanh(T.dot(x, W))
        cost = (h ** 2).sum()
        g = T.grad(cost, W)
        f = thx.function([x], [cost, h], updates=[(W, W - 0.1 * g)], shardings={h: ("data", None)})
        c, hv = f(xv)
        data = thx.shared(xv, name="data")
        rows = thx.function([i], x.sum(0), givens={x: data[i * 2:(i + 1) * 2]})
        np.testing.assert_allclose(rows(1), xv[2:4].sum(0), rtol=1e-12)
        w1 = W.get_value()
        np.testing.assert_allclose(f.copy(delete_updates=True)(xv[:4])[0],
                                   (np.tanh(xv[:4] @ w1) ** 2).sum(), rtol=1e-12)
        g2 = pickle.loads(pickle.dumps(f))
        assert "ShardTo" in str(g2.maker.fgraph.toposort())
    hw = np.tanh(xv @ wv)
    np.testing.assert_allclose(c, (hw ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(hv, hw, rtol=1e-12)
    np.testing.assert_allclose(W.get_value(),
                               wv - 0.1 * xv.T @ (2 * hw * (1 - hw ** 2)), rtol=1e-12)


def test_info_shows_the_mesh():
    from thx.__main__ import info
    out = io.StringIO()
    with config.change_flags(data_parallel=True):
        assert info(out) == 0
    text = out.getvalue()
    assert "mesh: data:1 (process 0 of 1, 1 devices)" in text
    assert "data_parallel" in text and "cpu_devices" in text


def test_initialize_checks_its_arguments(monkeypatch):
    monkeypatch.delenv("THX_COORDINATOR", raising=False)
    with pytest.raises(ValueError, match="no coordinator address"):
        thx.distributed.initialize()
    with pytest.raises(ValueError, match=r"process_id must be in \[0, 2\)"):
        thx.distributed.initialize("127.0.0.1:1", 2, 2)


def test_data_parallel_lays_out_inputs_minibatches_and_cut_inputs():
    x, i = T.matrix("x"), T.lscalar("i")
    y = x * 2
    data = thx.shared(np.arange(12.0).reshape(4, 3), name="data")
    with config.change_flags(data_parallel=True):
        fs = [thx.function([x], x.sum()),
              thx.function([i], x.sum(), givens={x: data[i:i + 2]}),
              thx.function([y], (y ** 2).sum())]  # an intermediate input: the graph is cut at y
    ops = [[str(n.op) for n in f.maker.fgraph.toposort()] for f in fs]
    assert all("ShardTo{data, None}" in o for o in ops)
    assert fs[0](np.ones((2, 3))) == 6.0 and fs[1](1) == 3 + 4 + 5 + 6 + 7 + 8
    assert fs[2](np.ones((2, 3))) == 6.0
