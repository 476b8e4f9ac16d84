"""Helpers shared by the benchmark scripts: options, text and markdown tables, versions, JSON."""

from __future__ import annotations

import argparse
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


def quick_parser(
    description: str,
    out: Path,
    quick_help: str,
    repeats_help: str = "timings per cell (3; quick 1)",
) -> argparse.ArgumentParser:
    """A parser with ``--quick``, ``--repeats`` and ``--out`` (JSON path, default ``out``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--repeats", type=int, help=repeats_help)
    parser.add_argument("--out", type=Path, default=out, help="JSON output path")
    return parser


def default_repeats(args: argparse.Namespace) -> int:
    """``--repeats`` if given, else 1 with ``--quick`` and 3 without."""
    return args.repeats or (1 if args.quick else 3)


def show_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Print a title line and the rows as a text table; return them as a markdown table."""
    print(title)
    print_table(header, rows)
    return markdown_table(header, rows)


def print_markdown(*tables: str) -> None:
    """Print the markdown tables under a "Markdown:" heading, a blank line between them."""
    print("\nMarkdown:\n")
    print("\n\n".join(tables))


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


def finish(path: Path, payload: dict[str, Any], total: float) -> None:
    """Print the total time and the JSON path; write ``payload`` with ``total_seconds``."""
    print(f"\ntotal benchmark time {total:.0f} s; JSON: {path}")
    write_json(path, {**payload, "total_seconds": total})
