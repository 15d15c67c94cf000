"""docs/api.md lists every public name of thx's main modules, one line each, and nothing else.

A module's public names are its ``__all__``, or, without one, every attribute
not starting with an underscore.  api.md has one section per module
(``## `thx.tensor` ``) of bullets ``- `name`, `other`: what it is``.
"""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

API = pathlib.Path(__file__).resolve().parent.parent / "docs" / "api.md"
MODULES = ["thx", "thx.tensor", "thx.gradient", "thx.printing", "thx.compile", "thx.distributed",
           "thx.tensor.nnet",
           "thx.tensor.nnet.abstract_conv", "thx.tensor.nnet.conv", "thx.tensor.nnet.bn",
           "thx.tensor.signal.pool", "thx.tensor.signal.downsample", "thx.tensor.signal.conv",
           "thx.tensor.extra_ops", "thx.tensor.sort", "thx.tensor.nlinalg", "thx.tensor.slinalg",
           "thx.tensor.fft", "thx.misc.pkl_utils", "thx.sparse"]


def public_names(module) -> set[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return set(names)


def documented() -> dict[str, dict[str, str]]:
    """``{module: {name: description}}`` from the bullets of api.md."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in API.read_text().splitlines():
        m = re.match(r"^## `([\w.]+)`\s*$", line)
        if m:
            current = sections.setdefault(m.group(1), {})
            continue
        m = re.match(r"^- ((?:`[\w.]+`(?:, )?)+): (.+)$", line)
        if m and current is not None:
            for name in re.findall(r"`([\w.]+)`", m.group(1)):
                assert name not in current, f"api.md lists {name} twice in one section"
                current[name] = m.group(2)
    return sections


@pytest.mark.parametrize("modname", MODULES)
def test_api_md_lists_every_public_name(modname):
    module = importlib.import_module(modname)
    docs = documented()
    assert modname in docs, f"docs/api.md has no section '## `{modname}`'"
    missing = sorted(public_names(module) - set(docs[modname]))
    assert not missing, f"docs/api.md does not describe these public names of {modname}: {missing}"
    stale = sorted(set(docs[modname]) - public_names(module))
    assert not stale, f"docs/api.md describes names that {modname} does not export: {stale}"
    short = sorted(n for n, d in docs[modname].items() if len(d.split()) < 2)
    assert not short, f"docs/api.md: give these names of {modname} a real description: {short}"


def test_api_md_sections_are_the_modules():
    assert sorted(documented()) == sorted(MODULES)
