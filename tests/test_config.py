"""thx.config: sources and their priority, .thxrc, bad flags at import, compiledir -> JAX cache."""

import os
import subprocess
import sys

import pytest

from thx.config import Config, ConfigError

ENV = {k: v for k, v in os.environ.items() if k not in ("THX_FLAGS", "THEANO_FLAGS", "THXRC")}


def test_thxrc_is_the_lowest_priority_source(tmp_path):
    rc = tmp_path / "thxrc"
    rc.write_text("[global]\nfloatX = float32\nprint_constants = short\ndevice = cpu\n\n"
                  "[nvcc]\nfastmath = True\n")
    cfg = Config()
    cfg.load({"THXRC": str(rc), "THEANO_FLAGS": "floatX=float16,optimizer=None",
              "THX_FLAGS": "optimizer=fast_compile"})
    assert (cfg.floatX, cfg.source("floatX")) == ("float16", "THEANO_FLAGS")  # env beats rc
    assert (cfg.print_constants, cfg.source("print_constants")) == ("short", f"rc file {rc}")
    assert (cfg.nvcc__fastmath, cfg.source("nvcc.fastmath")) == (True, f"rc file {rc}")
    assert (cfg.optimizer, cfg.source("optimizer")) == ("fast_compile", "THX_FLAGS")  # THX beats THEANO
    assert (cfg.mode, cfg.source("mode")) == ("FAST_RUN", "default")
    items = {name: (value, source) for name, value, source in cfg.items()}
    assert items["floatX"] == ("float16", "THEANO_FLAGS") and len(items) == len(list(cfg.items()))
    cfg.floatX = "float64"
    assert cfg.source("floatX") == "code"


def test_bad_flags_name_the_source_and_the_valid_choices(tmp_path):
    rc = tmp_path / "thxrc"
    rc.write_text("[global]\nfloatx = float32\n")
    with pytest.raises(ConfigError, match=r"rc file .*thxrc: Unknown thx flag 'floatx'\. "
                                          r"Valid flags: allow_gc, .*floatX"):
        Config().load({"THXRC": str(rc)})
    with pytest.raises(ConfigError, match="THX_FLAGS: expected key=value, got 'floatX'"):
        Config().load({"THX_FLAGS": "floatX"})


def test_importing_thx_with_a_bad_flag_reports_it_in_one_line():
    for var, flags, message in [
            ("THX_FLAGS", "floatX=float128",
             "thx: ConfigError: THX_FLAGS: Bad value 'float128' for thx flag 'floatX'. "
             "Valid values: float64, float32, float16"),
            ("THEANO_FLAGS", "no_such_flag=1",
             "thx: ConfigError: THEANO_FLAGS: Unknown thx flag 'no_such_flag'. Valid flags: ")]:
        r = subprocess.run([sys.executable, "-c", "import thx"], capture_output=True, text=True,
                           env={**ENV, var: flags}, timeout=120)
        assert r.returncode == 1
        assert r.stderr.startswith(message) and len(r.stderr.strip().splitlines()) == 1
        assert "Traceback" not in r.stderr


def test_compiledir_is_a_persistent_jax_cache(tmp_path):
    cache = tmp_path / "cache"
    code = ("import thx, thx.tensor as T\n"
            "x = T.dvector('x')\n"
            "print(thx.function([x], T.tanh(x).sum() * 3)([1.0, 2.0]))\n")
    env = {**ENV, "THX_FLAGS": f"compiledir={cache}"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    written = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert written, "the first process wrote no compiled function to the cache"
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            timeout=120)
    assert second.stdout == first.stdout
    # A cache miss would (re)write an entry: the second process loaded them all.
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == written
