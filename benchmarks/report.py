"""Output helpers shared by the benchmark scripts: text and markdown tables, versions, JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print rows as left-aligned columns under a header and a rule."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(("  " + line).rstrip())
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip())


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows under a header as a markdown table, the first column left-aligned, the rest right."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution, or "not installed"."""
    out = {}
    for name in dict.fromkeys(packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` plus a description of this machine as indented JSON."""
    payload = {
        **payload,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False))
