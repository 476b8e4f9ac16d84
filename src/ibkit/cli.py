"""The ``ibkit`` command: IB curves, MI estimates, sweeps and the demo report.

Every command takes ``--out DIR`` (where files go), ``--seed``, ``--quiet`` (no
summary, no progress bar) and ``--json`` (the result as one JSON object on stdout).
Progress bars go to stderr; user strings (paths, names) are printed as they are, never
read as rich markup. A user mistake (missing file, malformed table, unknown method, bad
parameter: a :class:`ValueError`, :class:`OSError` or :class:`ImportError` from the
library) prints one line ``ibkit CMD: error: ...`` to stderr and exits with status 2.
A computation that diverges (:class:`~ibkit._validation.DivergenceError`: a non-finite
loss or estimate; the message names the knob to change) prints one line the same way
and exits with status 1, as does ``ibkit sweep`` when some jobs failed (they are in the
table, with their error); 130 means interrupted (run it again to resume). Anything else
is a bug and shows its traceback.

New commands are one decorated function each (``@app.command()``) that parses,
calls the library and hands a result dict to :class:`_Output`.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from ibkit import __version__
from ibkit._plain import plain
from ibkit._validation import ConvergenceWarning, DivergenceError, InvalidParameterError
from ibkit.estimators import available_methods, get_estimator

__all__ = ["app", "main"]

#: Errors from the library that mean "the input is wrong": one line, status 2.
USER_ERRORS = (ValueError, OSError, ImportError)
USAGE_STATUS = 2
#: A diverged computation, or failed jobs of a sweep.
FAILED_STATUS = 1
INTERRUPTED_STATUS = 130


class _Group(TyperGroup):
    """Turns user errors and divergences anywhere below into one line on stderr."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            with _warnings_as_lines(ctx):
                return super().invoke(ctx)
        except typer.TyperException as exc:  # a usage error of a command: bad option, ...
            sub = getattr(exc, "ctx", None) or ctx
            _fail(sub.command_path, getattr(exc, "format_message", exc.__str__)())
        except USER_ERRORS as exc:
            _fail(_command(ctx), str(exc))
        except DivergenceError as exc:
            _fail(_command(ctx), str(exc), FAILED_STATUS)


@contextlib.contextmanager
def _warnings_as_lines(ctx: typer.Context) -> Iterator[None]:
    """Show each warning as one line ``ibkit CMD: warning: ...`` on stderr."""

    def show(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
        line = " ".join(str(message).split())
        typer.echo(f"{_command(ctx)}: warning: {line}", err=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _command(ctx: typer.Context) -> str:
    """``ibkit CMD``: the command that was running."""
    return f"{ctx.command_path} {ctx.invoked_subcommand or ''}".strip()


def _fail(where: str, message: str, status: int = USAGE_STATUS) -> None:
    line = " ".join(str(message).split())
    typer.echo(f"{where}: error: {line}", err=True)
    raise typer.Exit(status) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ibkit {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=_Group,
    name="ibkit",
    help="The Information Bottleneck toolkit: IB curves, MI estimates, sweeps and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """The Information Bottleneck toolkit: IB curves, MI estimates, sweeps and reports."""


# --------------------------------------------------------------------------- shared options

OutDir = Annotated[Path, typer.Option("--out", help="Folder for the files written.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Random seed.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
Units = Annotated[str, typer.Option("--units", help="bits or nats.")]


@dataclass
class _Output:
    """Where a command's progress and result go, per ``--quiet`` and ``--json``."""

    quiet: bool
    as_json: bool

    @contextlib.contextmanager
    def progress(self, description: str) -> Iterator[Any]:
        """A ``progress(done, total)`` callback drawing a bar on stderr (if it is a tty)."""
        console = Console(stderr=True)
        bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=self.quiet or not console.is_terminal,
        )
        with bar:
            task = bar.add_task(description, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)

    def say(self, message: str) -> None:
        """A progress line on stderr (unless ``--quiet``)."""
        if not self.quiet:
            Console(stderr=True).print(message, style="dim", markup=False, highlight=False)

    def frame(self, result: dict[str, Any], title: str, table: Any) -> None:
        """Print ``result`` as JSON, or the DataFrame ``table`` as a table, or nothing.

        The table is never cut to the terminal: piped output gets a wide console.
        """
        if self.as_json:
            typer.echo(json.dumps(plain(result, finite=True)))
        elif not self.quiet:
            shown = Table(title=Text(title, style="bold"), title_justify="left")
            for i, column in enumerate(table.columns):
                shown.add_column(Text(str(column)), justify="left" if i == 0 else "right")
            for row in table.itertuples(index=False):
                shown.add_row(*(Text(_show(value)) for value in row))
            _console().print(shown)

    def emit(self, result: dict[str, Any], title: str, rows: list[tuple[str, Any]]) -> None:
        """Print ``result`` as JSON, or ``rows`` as a two-column table, or nothing."""
        if self.as_json:
            typer.echo(json.dumps(plain(result, finite=True)))
        elif not self.quiet:
            table = Table(show_header=False)
            table.add_column(style="bold")
            table.add_column()
            for key, value in rows:
                table.add_row(Text(key), Text(_show(value)))
            console = _console()
            console.print(Text(title, style="bold"))
            console.print(table)


def _console() -> Console:
    """The stdout console; piped output gets a wide one, so that tables are never cut."""
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)
    return console


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value) or "-"
    return str(value)


# --------------------------------------------------------------------------- commands


@app.command()
def curve(
    file: Annotated[
        Path,
        typer.Argument(
            help="Joint table p(x,y) or counts, one row per value of X: .csv or .npz "
            "(with --labels: a .csv of (x, y) pairs)."
        ),
    ],
    labels: Annotated[
        bool | None,
        typer.Option(
            "--labels/--table",
            help="--labels: FILE is a two-column .csv of (x label, y label) pairs, one "
            "sample per row. --table: FILE is a joint table, whatever it looks like. "
            "Without either, a .csv of two columns of whole numbers in which at least half "
            "of the rows repeat an earlier row is refused as likely pairs: pass --table for "
            "a table of counts in which Y is a function of X (rows 1,0 and 0,1).",
            show_default=False,
        ),
    ] = None,
    alpha: Annotated[float, typer.Option(help="1 for IB, 0 for deterministic IB.")] = 1.0,
    max_clusters: Annotated[int | None, typer.Option(help="Cap on |T|.")] = None,
    units: Units = "bits",
    out: OutDir = Path("ibkit-out"),
    seed: Seed = 0,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Trace the IB curve of a joint table; write ib_curve.png, .pdf and .csv to --out."""
    from matplotlib.figure import Figure

    from ibkit._io import read_joint
    from ibkit.ib import ib_curve
    from ibkit.plots import plot_ib_curve, save_figure

    output = _Output(quiet, as_json)
    p_xy = read_joint(file, labels=labels)
    with output.progress("IB curve") as progress, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # counted in the summary
        result = ib_curve(
            p_xy,
            alpha=alpha,
            max_clusters=max_clusters,
            units=units,
            normalize=True,
            random_state=seed,
            progress=progress,
        )
    fig = Figure(figsize=(4.4, 3.4), layout="constrained")
    plot_ib_curve(result, fig.subplots())
    written = [save_figure(fig, out / f"ib_curve.{ext}") for ext in ("png", "pdf")]
    written.append(out / "ib_curve.csv")
    result.to_frame().to_csv(written[-1], index=False)
    summary = {
        "file": file,
        "units": result.units,
        "i_xy": result.i_xy,
        "h_y": result.h_y,
        "n_solutions": len(result.betas),
        "critical_betas": result.critical_betas,
        "n_unconverged": int((~result.converged).sum()),
        "files": written,
    }
    output.emit(
        summary,
        f"IB curve of {file.name} ({p_xy.shape[0]} x {p_xy.shape[1]})",
        [
            (f"I(X;Y) [{result.units}]", result.i_xy),
            (f"H(Y) [{result.units}]", result.h_y),
            ("solutions (beta)", len(result.betas)),
            ("critical beta", [float(b) for b in result.critical_betas]),
            ("not converged", summary["n_unconverged"]),
            ("written", [str(p) for p in written]),
        ],
    )


@app.command()
def estimate(
    file: Annotated[Path, typer.Argument(help="Samples: .csv (one per row) or .npz.")],
    x: Annotated[str, typer.Option("--x", help="Columns of X, comma-separated.")],
    y: Annotated[str, typer.Option("--y", help="Columns of Y, comma-separated.")],
    method: Annotated[
        str, typer.Option(help=f"Estimator: {', '.join(available_methods())}.")
    ] = "ksg",
    param: Annotated[
        list[str] | None, typer.Option(help="Estimator parameter NAME=VALUE (repeatable).")
    ] = None,
    y_labels: Annotated[
        bool,
        typer.Option(
            "--y-labels",
            help="Read the one Y column as class labels, whatever its values. Without it, "
            "Y is labels when its values are whole numbers or mostly text, and a column of "
            "numbers with a few cells of text is an error naming the first.",
        ),
    ] = False,
    units: Units = "bits",
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for estimate.json (optional).")
    ] = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Estimate I(X;Y) between two sets of columns of a file."""
    from ibkit._io import parse_columns, read_samples

    xs, ys = read_samples(file, parse_columns(x), parse_columns(y), y_labels=y_labels)
    estimator = get_estimator(method, **dict(_parse_param(p) for p in param or []))
    result = estimator.estimate(xs, ys, units=units, random_state=seed).to_dict()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result["file"] = out / "estimate.json"
        result["file"].write_text(json.dumps(plain(result, finite=True), indent=2) + "\n")
    rows = [
        (f"I(X;Y) [{result['units']}]", result["value"]),
        ("lower bound", result["lower"]),
        ("upper bound", result["upper"]),
        ("std. error", result["std_error"]),
        ("samples", result["n_samples"]),
    ]
    output = _Output(quiet, as_json)
    output.emit(result, f"{method} estimate of I({x}; {y})", rows)


def _parse_param(text: str) -> tuple[str, Any]:
    """``"k=3"`` → ``("k", 3)``; values are JSON (numbers, true/false) or else strings."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise InvalidParameterError(f"--param expects NAME=VALUE, e.g. k=3; got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


@app.command()
def demo(
    out: OutDir = Path("ibkit-demo"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny sizes: every section in seconds (a smoke test).")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Processes for the networks.")] = 2,
    seed: Seed = 0,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Run the demo studies; write report.html, results.csv and each study's files to --out."""
    from ibkit.demo import QUICK, run_full_demo

    output = _Output(quiet, as_json)
    done = run_full_demo(
        out, sizes=QUICK if quick else None, random_state=seed, n_jobs=jobs, say=output.say
    )
    output.emit(
        done.to_dict(),
        "ibkit demo",
        [
            *((f"{name}, seconds", seconds) for name, seconds in done.seconds.items()),
            ("report", done.report),
            ("results", done.results),
        ],
    )


def _split(text: str, option: str) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``; an empty item is a ValueError naming ``option``."""
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise InvalidParameterError(
            f"{option} expects a comma-separated list, e.g. 1,2,3; got {text!r}"
        )
    return items


def _numbers(text: str, option: str, kind: type = float) -> list[Any]:
    """A comma-separated list of numbers of type ``kind``; a bad item is a ValueError."""
    values = []
    for item in _split(text, option):
        try:
            values.append(kind(item))
        except ValueError:
            raise InvalidParameterError(
                f"{option} expects comma-separated {kind.__name__}s; {item!r} is not one"
            ) from None
    return values


@app.command()
def plane(
    activations: Annotated[
        str, typer.Option(help="Activations, comma-separated (one network ensemble each).")
    ] = "tanh,relu",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Networks per activation.")] = 5,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 4000,
    points: Annotated[int, typer.Option(min=2, help="Epochs recorded (log-spaced).")] = 200,
    estimators: Annotated[
        str | None,
        typer.Option(help="Estimator labels, comma-separated (default: all of the study)."),
    ] = None,
    hidden: Annotated[
        str, typer.Option(help="Hidden widths of --model mlp, comma-separated.")
    ] = "10,7,5,4,3",
    train_size: Annotated[
        float, typer.Option("--train-size", help="Fraction of the rows trained on (stratified).")
    ] = 0.85,
    data: Annotated[
        str,
        typer.Option(
            "--data", help="12bit, digits, mnist:DIR (MNIST training files) or a .npz/.csv file."
        ),
    ] = "12bit",
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="mlp, cnn (image data) or module:factory (imports your code: trusted only).",
        ),
    ] = "mlp",
    probe_size: Annotated[
        int | None,
        typer.Option(
            "--probe-size", min=2, help="Record on this many probe rows (default: all of them)."
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Activations in parallel.")] = 1,
    out: OutDir = Path("ibkit-plane"),
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="First network seed (seeds are SEED, SEED+1, ...).")
    ] = 0,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Train networks and record their information planes (resumable; 12-bit task, MLP).

    Writes the tables, the figures (PNG and PDF) and the compression summary to --out;
    run it again with the same --out and options to continue an interrupted study.
    --model module:factory calls factory(seed, in_shape, n_classes, activation) of an
    importable module, one network per seed.
    """
    from ibkit.study.plane_study import REFERENCE_ESTIMATORS, PlaneStudy, run_plane_study

    study = PlaneStudy(
        activations=tuple(_split(activations, "--activations")),
        seeds=tuple(range(seed, seed + seeds)),
        epochs=epochs,
        n_points=points,
        hidden=tuple(_numbers(hidden, "--hidden", int)),
        train_size=train_size,
        estimators=(
            tuple(_split(estimators, "--estimators")) if estimators else REFERENCE_ESTIMATORS
        ),
        data=data,
        model=model,
        probe_size=probe_size,
    )
    output = _Output(quiet, as_json)
    result = run_plane_study(study, out, n_jobs=jobs, say=output.say)
    figures = result.save_figures(("png", "pdf"))
    columns = ["activation", "estimator", "layer", "n_seeds", "peak_i_xt", "final_i_xt"]
    columns += ["drop_bits", "drop_bits_low", "drop_bits_high", "compresses"]
    summary = result.summary[columns]
    data = {
        "out": out,
        "config": study.to_dict(),
        "summary": summary.to_dict("records"),
        "figures": figures,
        "seconds": result.timing,
    }
    confidence = result.summary.attrs.get("confidence", 0.95)
    output.frame(data, f"compression of I(X;T) [bits], {confidence:.0%} intervals", summary)


@app.command("vib-sweep")
def vib_sweep_command(
    data: Annotated[
        str | None, typer.Option("--data", help="A built-in dataset: digits (the default).")
    ] = None,
    mnist: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--mnist", help="MNIST IDX files: IMAGES LABELS."),
    ] = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="A .csv/.npz of inputs x and labels y.")
    ] = None,
    betas: Annotated[
        str, typer.Option(help="Beta values, comma-separated (0: no rate term).")
    ] = "0,1e-6,1e-5,1e-4,1e-3,1e-2,1e-1,1",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per beta.")] = 100,
    dim: Annotated[int, typer.Option(min=1, help="Dimension of the code Z.")] = 32,
    fgsm: Annotated[
        str | None, typer.Option(help="FGSM steps, comma-separated: test accuracy under attack.")
    ] = None,
    threads: Annotated[
        int, typer.Option(min=1, help="Torch threads (1 is fastest for digits-sized models).")
    ] = 1,
    out: OutDir = Path("ibkit-vib"),
    seed: Seed = 0,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Train one Variational IB classifier per beta; write vib_sweep.csv, .png and .pdf."""
    from ibkit.nn import vib_sweep
    from ibkit.nn.training import torch_threads
    from ibkit.nn.vib_plots import plot_vib_sweep
    from ibkit.plots import save_figure

    x, y = _vib_data(data, mnist, table)
    output = _Output(quiet, as_json)
    with output.progress("VIB sweep") as progress, torch_threads(threads):
        frame = vib_sweep(
            x,
            y,
            _numbers(betas, "--betas"),
            epochs=epochs,
            dim=dim,
            fgsm_eps=_numbers(fgsm, "--fgsm") if fgsm else None,
            random_state=seed,
            progress=progress,
        )
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "vib_sweep.csv"]
    frame.to_csv(written[0], index=False)
    figure = plot_vib_sweep(frame)
    written += [save_figure(figure, out / f"vib_sweep.{ext}") for ext in ("png", "pdf")]
    shown = frame.drop(columns="model")
    result = {"table": shown.to_dict("records"), "files": written}
    output.frame(result, f"VIB sweep, {len(x)} samples, {epochs} epochs per beta", shown)


def _vib_data(data: str | None, mnist: tuple[Path, Path] | None, table: Path | None) -> Any:
    """The ``(x, y)`` named by exactly one of ``--data``, ``--mnist`` and ``--table``."""
    from ibkit.datasets import load_digits, load_mnist, load_table

    sources = {"--data": data, "--mnist": mnist, "--table": table}
    given = [name for name, value in sources.items() if value]
    if len(given) > 1:
        raise InvalidParameterError(
            f"give one of --data, --mnist and --table; got {' and '.join(given)}"
        )
    if mnist:
        return load_mnist(*mnist)
    if table:
        return load_table(table)
    if data not in (None, "digits"):
        raise InvalidParameterError(
            f"--data knows only 'digits'; got {data!r} (use --table for a file)"
        )
    return load_digits()


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="Sweep configuration (.toml).")],
    backend: Annotated[
        str | None, typer.Option(help="serial, processes or dask (default: from CONFIG).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    n_jobs: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    out: OutDir = Path("ibkit-out"),
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Random seed (default: from CONFIG).")
    ] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Run the grid of jobs of CONFIG into --out/CONFIG.csv (re-run to resume)."""
    from ibkit._tables import FolderLock
    from ibkit.sweep import load_config, run_sweep

    cfg = load_config(config)
    backend = backend or ("dask" if scheduler else cfg.backend)
    path = out / f"{config.stem}.csv"
    output = _Output(quiet, as_json)
    try:  # the folder is locked whole: it also holds the jobs' relative outputs
        with FolderLock(out), output.progress(f"sweep {cfg.job}") as progress:
            table = run_sweep(
                cfg.job,
                cfg.grid,
                seed=cfg.seed if seed is None else seed,
                backend=backend,
                scheduler=scheduler or cfg.scheduler,
                n_jobs=cfg.n_jobs if n_jobs is None else n_jobs,
                path=path,
                progress=progress,
            )
    except KeyboardInterrupt:
        typer.echo(f"ibkit sweep: interrupted; run it again to resume from {path}", err=True)
        raise typer.Exit(INTERRUPTED_STATUS) from None
    failed = table[table["status"] != "ok"].drop_duplicates("job_index")
    result = {
        "config": config,
        "job": cfg.job,
        "backend": backend,
        "table": path,
        "jobs": len(cfg.grid),
        "failed": len(failed),
        "rows": len(table),
        "errors": [
            {"job_index": int(i), "error": e}
            for i, e in zip(failed["job_index"], failed["error"], strict=True)
        ],
    }
    rows = [
        *((key, result[key]) for key in ("jobs", "failed", "rows", "table")),
        *((f"job {e['job_index']}", e["error"]) for e in result["errors"][:5]),
    ]
    output.emit(result, f"sweep {config.name} ({cfg.job}, {backend})", rows)
    if len(failed):
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``ibkit`` console script."""
    app(prog_name="ibkit")


if __name__ == "__main__":
    main()
