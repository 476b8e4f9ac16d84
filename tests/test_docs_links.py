"""Every relative link of the README and of the documentation's markdown pages resolves.

The site's own build (``make docs``, warnings as errors) checks cross-references; this
checks the links a reader follows on the repository page, before any build.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    targets = (m.group(1).split("#")[0] for m in LINK.finditer(text))
    return [t for t in targets if t and not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    missing = [t for t in _relative_links(page) if not (page.parent / t).exists()]
    assert missing == [], f"{page.relative_to(ROOT)} links to missing {missing}"


def test_the_readme_links_to_the_guide_and_the_project_files():
    links = set(_relative_links(ROOT / "README.md"))
    assert {"LICENSE", "CITATION.cff", "CHANGELOG.md", "docs/guide/estimators.md"} <= links
