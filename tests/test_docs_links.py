"""The documentation pages: relative links resolve, and the tutorial pages are executable.

The ``>>>`` examples themselves run as doctests (pytest's ``--doctest-glob='*.md'``
over ``docs/``); this checks what doctest cannot see.
"""

from __future__ import annotations

import doctest
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
TUTORIAL = ["index.md", "adding.md", "examples.md", "gradients.md", "printing_drawing.md",
            "broadcasting.md", "shape_info.md"]


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_resolve(page):
    text = (DOCS / page).read_text()
    broken = []
    for target in _links(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # external URL or in-page anchor
        path = target.split("#", 1)[0]
        if not (DOCS / path).exists():
            broken.append(target)
    assert not broken, f"docs/{page} links to missing files: {broken}"


@pytest.mark.parametrize("page", TUTORIAL)
def test_tutorial_pages_have_examples_that_doctest_runs(page):
    text = (DOCS / page).read_text()
    examples = doctest.DocTestParser().get_examples(text)
    assert len(examples) >= 3, f"docs/{page} has {len(examples)} >>> examples"
    # A code fence right after an output line would become part of the expected output.
    for ex in examples:
        assert "```" not in ex.want, f"docs/{page}: put a blank line before the closing ``` " \
                                     f"after the output of {ex.source.strip()!r}"
