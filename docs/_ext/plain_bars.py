"""Sphinx extension: read ``|X|`` and ``name_`` in docstrings as the text they are.

The docstrings write cardinalities as ``|X|`` and scikit-learn's fitted attributes as
``n_clusters_`` in plain text, where reStructuredText would see a substitution
reference and a hyperlink reference. After numpydoc has rewritten a docstring, this
escapes those characters outside literals, roles and math blocks, so the page shows
what the source says. Grid-table and line-block lines (starting with ``| ``, ``+-`` or
``+=``) are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

#: Inline literals, roles with their content, and interpreted text: never touched.
_PROTECTED = re.compile(r"(``.+?``|:[\w:.+-]+:`[^`]*`|`[^`]*`_{0,2})")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s.,;:)\]]|$)")


def _escape(text: str) -> str:
    text = text.replace("|", r"\|")
    return _TRAILING_UNDERSCORE.sub(r"\\_", text)


def escape_line(line: str) -> str:
    """The line with ``|`` and reference underscores escaped outside protected spans."""
    stripped = line.lstrip()
    if stripped.startswith(("| ", "+-", "+=", "..")) or stripped == "|":
        return line
    parts = _PROTECTED.split(line)
    return "".join(p if i % 2 else _escape(p) for i, p in enumerate(parts))


def escape_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring`` handler: escape every line outside math blocks."""
    block_indent: int | None = None
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if line.strip() and indent <= block_indent:
                block_indent = None
            else:
                continue
        if re.match(r"\s*\.\. (math|code-block|code|highlight|doctest|plot)::", line) or (
            line.rstrip().endswith("::") and not line.strip().startswith("..")
        ):
            block_indent = indent
            if not line.strip().startswith(".."):
                lines[i] = escape_line(line)
            continue
        if line.lstrip().startswith(">>>") or line.lstrip().startswith("..."):
            continue
        lines[i] = escape_line(line)


def setup(app: Sphinx) -> dict[str, Any]:
    # after numpydoc (priority 500), so its rewritten sections are what gets escaped
    app.connect("autodoc-process-docstring", escape_docstring, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
