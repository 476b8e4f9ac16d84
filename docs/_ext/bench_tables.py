"""Sphinx extension: the benchmark and accuracy tables, rendered from benchmarks/results/.

``make bench`` writes one JSON file per benchmark into ``benchmarks/results/``. This
extension turns them into tables when the documentation is built, so no number in the
performance pages is typed by hand::

    ```{bench-table} estimators
    ```

    ```{bench-table} kde
    :table: accuracy
    ```

The argument names the JSON file (without ``.json``); ``:table:`` picks one of its
tables (the first one by default). Most benchmark scripts store their markdown table in
the JSON already (``markdown``, ``speed_markdown``, ...); for the others the rows are
built here and formatted by ``markdown_table`` of ``benchmarks/report.py``, the helper
the benchmark scripts print with. Under each table a line says which run it comes from
(full or ``--quick``, the machine, the versions). A file that has not been written yet
(``benchmarks/results/`` is not under version control) gives a note saying which
command writes it, not an error.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
#: Where the JSON files are read; IBKIT_BENCH_RESULTS overrides it (to build from another run).
RESULTS = Path(os.environ.get("IBKIT_BENCH_RESULTS", ROOT / "benchmarks" / "results"))


def _load_report() -> Any:
    """``benchmarks/report.py`` under a private name (there is no ``benchmarks`` package)."""
    spec = importlib.util.spec_from_file_location(
        "_ibkit_bench_report", ROOT / "benchmarks" / "report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_markdown_table = _load_report().markdown_table


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """``benchmarks/report.py``'s markdown table, with ``|`` inside cells escaped."""

    def esc(cells: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c.replace("|", "\\|") for c in cells)

    return _markdown_table(esc(header), [esc(r) for r in rows])


# --------------------------------------------------------------------------- formatting


def _ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _num(value: float | None, fmt: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


# --------------------------------------------------------------------------- renderers
# Each returns a markdown table (a string) from the loaded JSON.


def _stored(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda data: data[key]


def _mean_abs_error(data: dict[str, Any]) -> str:
    mae = data["mean_abs_error"]
    rows = [
        (name, f"{bits:.3f}", f"{bits * math.log(2):.3f}") for name, bits in mae["bits"].items()
    ]
    return markdown_table(("method", f"mean |error|, bits ({mae['rows']} rows)", "nats"), rows)


def _bmi_speed(data: dict[str, Any]) -> str:
    names = ["ibkit ksg kd_tree", "ibkit ksg brute", "ibkit ksg auto", "bmi ksg"]
    rows = []
    for rec in data["speed"]:
        auto, bmi = rec["ibkit ksg auto"], rec["bmi ksg"]
        rows.append(
            (
                rec["title"],
                str(rec["dim"]),
                *(_ms(rec[name]["seconds"]) for name in names),
                f"{bmi['seconds'] / auto['seconds']:.1f}x",
                f"{abs(bmi['bits'] - auto['bits']):.1e}",
            )
        )
    return markdown_table(("task", "dim", *names, "bmi / ibkit auto", "|Δ| bits"), rows)


def _ib_curve_tools(data: dict[str, Any]) -> str:
    tools = list(data["labels"])
    rows = []
    for problem in data["problems"]:
        cells = [problem["title"]]
        for tool in tools:
            rec = problem["tools"].get(tool)
            if rec is None:
                cells.append("–")
            elif rec["status"] == "ok":
                ratio = rec.get("time_ratio_vs_ibkit") or {}
                times = "" if tool == "ibkit" else f" ({ratio.get('value', float('nan')):.3g}×)"
                cells.append(
                    f"{rec['seconds']:.3g} s{times}, shortfall {_num(rec['max_shortfall_bits'])}"
                )
            elif rec["status"] == "skipped":
                cells.append("skipped")
            else:
                cells.append(f"{rec['beta_done']} of {rec['beta_total']} β ({rec['status']})")
        rows.append(tuple(cells))
    return markdown_table(("problem", *(data["labels"][t] for t in tools)), rows)


def _ib_curve_floor(data: dict[str, Any]) -> str:
    rows = [
        (
            f"{r['n_x']}×{r['n_y']}",
            str(r["n_t"]),
            f"{r['update_ms']:.3g} ms",
            f"{r['floor_ms']:.3g} ms",
            f"{r['ratio']:.1f}",
        )
        for r in data.get("iteration_floor") or []
    ]
    return markdown_table(("|X|×|Y|", "|T|", "update", "floor (product + exp)", "ratio"), rows)


def _plane_record(data: dict[str, Any]) -> str:
    rows = [
        (r["model"], r["estimator"], _ms(r["total_s"]), _ms(r["forward_s"]), _ms(r["estimation_s"]))
        for r in data["record"]
    ]
    return markdown_table(
        ("model", "estimator", "record", "forward with hooks", "estimation"), rows
    )


def _plane_train_step(data: dict[str, Any]) -> str:
    steps = data["train_step_s"]
    plain = steps["plain"]
    rows = [(name, _ms(s), f"{s / plain:.2f}") for name, s in steps.items()]
    return markdown_table(("training step", "time", "× plain"), rows)


def _plane_image(data: dict[str, Any]) -> str:
    rows = [
        (
            r["estimator"],
            str(r["n"]),
            f"{r['record_s']:.1f} s",
            f"{r['forward_s']:.1f} s",
            f"{r['peak_buffer_mb']:.0f} MiB",
            f"{r['maxrss_mb']:.0f} MiB",
        )
        for r in data.get("image_record") or []
    ]
    header = ("estimator", "probe rows", "record", "forward", "largest buffer", "peak RSS")
    return markdown_table(header, rows)


def _plane_wide_binning(data: dict[str, Any]) -> str:
    rows = [
        (
            r["grid"],
            f"{r['n']}×{r['width']}",
            f"{r['cpu_s']:.2f} s",
            f"{r['peak_alloc_mb']:.0f} MiB",
        )
        for r in data.get("wide_binning") or []
    ]
    return markdown_table(("grid", "layer", "CPU", "peak allocated"), rows)


def _plane_accuracy(data: dict[str, Any]) -> str:
    rows = [
        (
            r["setting"],
            r["information"],
            r["estimator"],
            f"{r['mae_i_xt']:.3f}",
            f"{r['mae_i_ty']:.3f}",
            f"{r['true_drop']:.3f}",
            f"{r['est_drop']:.3f}",
            f"{r['compression_right']:.0%}",
        )
        for r in data["accuracy"]
    ]
    header = ("setting", "truth", "estimator", "MAE I(X;T)", "MAE I(T;Y)", "true drop",
              "estimated drop", "compression called right")  # fmt: skip
    return markdown_table(header, rows)


def _plane_dpi(data: dict[str, Any]) -> str:
    rows = [
        (
            r["activation"],
            r["estimator"],
            str(r["n_pairs"]),
            f"{r['i_xt_violations']:.1%}",
            f"{r['i_xt_max_excess']:.3f}",
            f"{r['i_ty_violations']:.1%}",
            f"{r['i_ty_max_excess']:.3f}",
        )
        for r in data["dpi_violations"]
    ]
    header = ("activation", "estimator", "layer pairs", "I(X;T) violations", "max excess (bits)",
              "I(T;Y) violations", "max excess (bits)")  # fmt: skip
    return markdown_table(header, rows)


def _training(data: dict[str, Any]) -> str:
    n = data["n_members"]
    rows = [
        (
            r["setup"],
            str(r["threads"]),
            f"{r['single_epochs_per_s']:.0f}",
            f"{r['ensemble_epochs_per_s']:.0f}",
            f"{r['ensemble_epochs_per_s'] * n:.0f}",
            f"{r['ensemble_speedup']:.1f}×",
        )
        for r in data["results"]
    ]
    header = ("set-up", "threads", "1 seed: epochs/s", f"ensemble of {n}: epochs/s",
              "seed-epochs/s", f"speed-up over {n} runs")  # fmt: skip
    return markdown_table(header, rows)


def _vib(data: dict[str, Any]) -> str:
    rows = [
        (r["case"], str(r["batch"]), str(r["threads"]), _num(r["train_s"]), _num(r["eval_s"]))
        for r in data["results"]
    ]
    return markdown_table(("case", "batch", "threads", "train s/epoch", "eval s/epoch"), rows)


#: file -> table name -> renderer; the first table of a file is its default.
RENDERERS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
    "estimators": {"accuracy": _stored("markdown"), "error": _mean_abs_error},
    "bmi": {"accuracy": _stored("markdown"), "error": _mean_abs_error, "speed": _bmi_speed},
    "kde": {"speed": _stored("speed_markdown"), "accuracy": _stored("accuracy_markdown")},
    "renyi": {"speed": _stored("speed_markdown")},
    "rd": {"speed": _stored("markdown")},
    "cluster": {"speed": _stored("markdown")},
    "ib_curve": {"speed": _ib_curve_tools, "floor": _ib_curve_floor},
    "plane": {
        "record": _plane_record,
        "train_step": _plane_train_step,
        "image": _plane_image,
        "wide_binning": _plane_wide_binning,
    },
    "plane_accuracy": {"accuracy": _plane_accuracy, "dpi": _plane_dpi},
    "training": {"speed": _training},
    "study": {"stages": _stored("markdown")},
    "vib": {"speed": _vib},
}

#: The command that writes each file.
COMMANDS = {
    "bmi": "make bench-bmi",
    "kde": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kde.py",
    "renyi": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_renyi.py",
    "cluster": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cluster.py",
    "study": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_study.py",
}


def _command(name: str) -> str:
    return COMMANDS.get(name, f".venv/bin/python benchmarks/bench_{name}.py")


def provenance(name: str, data: dict[str, Any]) -> str:
    """One line: the file, full or quick run, the machine and the versions."""
    parts = [f"benchmarks/results/{name}.json"]
    if "quick" in data:
        parts.append("quick run" if data["quick"] else "full run")
    elif "mode" in data:
        parts.append(f"{data['mode']} run")
    machine = data.get("machine") or {}
    if machine:
        parts.append(f"Python {machine.get('python')}, {machine.get('cpu_count')} CPU cores")
    vers = data.get("versions") or {}
    if vers:
        parts.append(", ".join(f"{k} {v}" for k, v in vers.items()))
    if data.get("total_seconds") is not None:
        parts.append(f"whole benchmark {data['total_seconds']:.0f} s")
    return "From " + "; ".join(parts) + f" (written by ``{_command(name)}``)."


# --------------------------------------------------------------------------- markdown -> nodes

_STRONG = re.compile(r"\*\*(.+?)\*\*")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _inline(text: str) -> list[nodes.Node]:
    """Text with ``**bold**`` as a strong node; nothing else is markup."""
    out: list[nodes.Node] = []
    pos = 0
    for m in _STRONG.finditer(text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos : m.start()]))
        out.append(nodes.strong(text=m.group(1)))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def table_from_markdown(markdown: str) -> nodes.table:
    """A docutils table from a pipe table (header, rule, rows)."""
    lines = [ln for ln in markdown.strip().splitlines() if ln.strip()]
    header, rows = _cells(lines[0]), [_cells(ln) for ln in lines[2:]]
    aligns = ["right" if c.endswith(":") else "left" for c in _cells(lines[1])]
    width = len(header)
    table = nodes.table(classes=["bench-table"])
    group = nodes.tgroup(cols=width)
    table += group
    for _ in range(width):
        group += nodes.colspec(colwidth=1)

    def row(cells: list[str], head: bool) -> nodes.row:
        out = nodes.row()
        for i in range(width):
            text = cells[i] if i < len(cells) else ""
            entry = nodes.entry()
            if not head and i < len(aligns) and aligns[i] == "right":
                entry["classes"].append("align-right")
            entry += nodes.paragraph("", "", *_inline(text))
            out += entry
        return out

    thead = nodes.thead()
    thead += row(header, True)
    group += thead
    tbody = nodes.tbody()
    for cells in rows:
        tbody += row(cells, False)
    group += tbody
    return table


class BenchTable(SphinxDirective):
    """``bench-table NAME [:table: WHICH]``: a table of benchmarks/results/NAME.json."""

    required_arguments = 1
    option_spec = {"table": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        tables = RENDERERS.get(name)
        if tables is None:
            raise self.error(
                f"bench-table: unknown results file {name!r}; known: {sorted(RENDERERS)}"
            )
        which = self.options.get("table", next(iter(tables)))
        if which not in tables:
            raise self.error(
                f"bench-table {name}: unknown table {which!r}; known: {sorted(tables)}"
            )
        path = RESULTS / f"{name}.json"
        self.env.note_dependency(str(path))
        if not path.exists():
            note = nodes.note()
            note += nodes.paragraph(
                "",
                f"No results recorded yet: run {_command(name)} (it writes "
                f"benchmarks/results/{name}.json) and build the documentation again.",
            )
            return [note]
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            markdown = tables[which](data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.error(f"bench-table {name}/{which}: {path} lacks {exc}") from exc
        caption = nodes.paragraph(classes=["bench-provenance"])
        caption += nodes.emphasis(text=provenance(name, data).replace("``", ""))
        return [table_from_markdown(markdown), caption]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("bench-table", BenchTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
