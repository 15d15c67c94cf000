"""Shared by all tests: the one place that decides what happens when a system program is missing.

A test that needs Chromium, Graphviz or a C compiler takes the ``chromium``,
``graphviz_dot`` or ``c_compiler`` fixture.  When the program is absent the test is skipped with a reason naming
the Debian package to install, unless the matching ``THX_REQUIRE_*=1`` variable
is set (``.ci/run`` sets them after installing the programs): then it fails, so CI can
never silently stop running those tests.
"""

from __future__ import annotations

import os
import shutil

import pytest

# fixture name -> (candidate executables, Debian package, env flag that makes absence a failure)
SYSTEM_PROGRAMS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "chromium": (("chromium", "chromium-browser", "google-chrome"), "chromium", "THX_REQUIRE_BROWSER"),
    "graphviz_dot": (("dot",), "graphviz", "THX_REQUIRE_GRAPHVIZ"),
    "c_compiler": (("cc", "gcc", "clang"), "gcc", "THX_REQUIRE_CC"),
}


def require_program(what: str) -> str:
    """Path of the system program ``what`` (a key of SYSTEM_PROGRAMS); skip or fail if missing."""
    names, package, flag = SYSTEM_PROGRAMS[what]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    msg = (f"needs the system program `{names[0]}`, not found on the PATH; "
           f"install it with `apt-get install -y {package}`")
    if os.environ.get(flag) == "1":
        pytest.fail(f"{msg} ({flag}=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{msg} (or set {flag}=1 to fail instead of skipping)")


@pytest.fixture
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian package ``chromium``)."""
    return require_program("chromium")


@pytest.fixture
def graphviz_dot() -> str:
    """Path of Graphviz's ``dot`` program (Debian package ``graphviz``)."""
    return require_program("graphviz_dot")


@pytest.fixture
def c_compiler() -> str:
    """Path of a C compiler (Debian package ``gcc``): the benchmarks' heap probe is built with it."""
    return require_program("c_compiler")
