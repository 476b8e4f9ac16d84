"""Tests of the HTML report (:mod:`ibkit.report`), checked in a real headless browser.

The browser is Debian's Chromium, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in a NUL byte, read by the browser
on fd 3 and written on fd 4). The page must load with no console message of level
error (a blocked remote file, a broken image, a script refused by the security policy
or a script error would log one), every image must be decoded (``naturalWidth > 0``)
and every Plotly figure drawn (an SVG with its traces); the interactive figures must
answer a scripted hover, a pick in their menu and a move of their slider.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
pd = pytest.importorskip("pandas")

from matplotlib.figure import Figure  # noqa: E402
from plane_tables import plane_table  # noqa: E402

from ibkit.report import REPORT_NAME, Interactive, Section, build_report  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


def png_bytes(width: int, height: int) -> bytes:
    """A red RGB PNG of the given size, encoded here with zlib (no imaging library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG_3X2 = png_bytes(3, 2)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    '<rect width="40" height="20" fill="teal"/></svg>'
)


# --------------------------------------------------------------------------- browser


class DevTools:
    """A headless Chromium and its DevTools protocol over a pair of pipes."""

    def __init__(self, tmp: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def remap() -> None:  # the browser reads commands on fd 3 and answers on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp / 'profile'}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=remap,
            pass_fds=(3, 4),  # kept open after remap (other descriptors are closed)
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and wait for its answer (events meanwhile are kept)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next(timeout=30)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        """Wait for an event ``method`` (or find it among those received)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._next(timeout=deadline - time.monotonic()))

    def _next(self, timeout: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], max(timeout, 0))
            if not ready:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=30)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


#: Resolves once every Plotly figure of the page has drawn its traces (polled: the
#: figures draw as the page loads, and a menu or slider redraws asynchronously).
PLOTS_DRAWN = """new Promise(resolve => {
  const drawn = () => Array.from(document.querySelectorAll(".ibkit-plotly"),
    gd => gd.querySelector(".main-svg .scatterlayer .trace") !== null).every(Boolean);
  const poll = () => drawn() ? resolve(true) : setTimeout(poll, 20);
  poll();
})"""


def until(condition: str, value: str) -> str:
    """A script that resolves to ``value`` once ``condition`` holds (polled)."""
    return f"""new Promise(resolve => {{
  const poll = () => ({condition}) ? resolve({value}) : setTimeout(poll, 20);
  poll();
}})"""


@dataclass
class Visit:
    """What a page showed: its images ``[{complete, width}]``, its console errors, the
    number of Plotly figures drawn and the values of the scripts run on it, in order."""

    images: list[dict]
    errors: list[str]
    plots: int
    values: list


def open_in_browser(page: Path, tmp: Path, *scripts: str) -> Visit:
    """Load ``page`` in a 1280 px wide window, wait for its Plotly figures, run ``scripts``
    (each may return a promise) and collect what it showed."""
    browser = DevTools(tmp)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")

        def run(script: str):
            reply = browser.send(
                "Runtime.evaluate",
                {"expression": script, "returnByValue": True, "awaitPromise": True},
                session=session,
            )
            assert "exceptionDetails" not in reply, reply["exceptionDetails"]
            return reply["result"].get("value")

        images = json.loads(
            run(
                "JSON.stringify(Array.from(document.images, "
                "i => ({complete: i.complete, width: i.naturalWidth})))"
            )
        )
        run(PLOTS_DRAWN)
        plots = run("document.querySelectorAll('.ibkit-plotly .main-svg .scatterlayer').length")
        values = [run(script) for script in scripts]
        run("1")  # flush logs
        errors = [
            e["params"]["entry"]["text"]
            for e in browser.events
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
        ] + [
            json.dumps(e["params"])
            for e in browser.events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        ]
        return Visit(images, errors, plots, values)
    finally:
        browser.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def sections(tmp_path):
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1, 2], [0, 1, 0.5])
    png = tmp_path / "small.png"
    png.write_bytes(PNG_3X2)
    svg = tmp_path / "box.svg"
    svg.write_text(SVG)
    table = pd.DataFrame({"beta": [1.0, 2.5], "i_xt": [0.0, 0.12345678], "task": ["a<b", "c"]})
    return [
        Section("First & figures", "A matplotlib figure and a PNG file.", figures=[fig, png]),
        Section("Second", "An SVG file and a table.", figures=[svg], tables=[table]),
    ]


# --------------------------------------------------------------------------- tests


@needs_chromium
def test_report_renders_in_a_headless_browser(sections, tmp_path):
    page = build_report(sections, tmp_path / "out", title="Test <report>")
    visit = open_in_browser(page, tmp_path)
    images = visit.images
    assert visit.errors == [] and visit.plots == 0
    assert len(images) == 3
    assert all(i["complete"] and i["width"] > 0 for i in images), images
    assert [i["width"] for i in images][1:] == [3, 40]  # the PNG file, then the SVG


@needs_chromium
def test_browser_check_sees_a_broken_image(sections, tmp_path):
    """The check itself can fail: a corrupted image is reported as not rendered."""
    page = build_report(sections, tmp_path / "out", title="Broken")
    text = page.read_text()
    b64 = base64.b64encode(PNG_3X2).decode()
    page.write_text(text.replace(b64, b64[:20] + "AAAA" + b64[24:]))
    images = open_in_browser(page, tmp_path).images
    assert sorted(i["width"] for i in images)[0] == 0


@needs_chromium
def test_browser_check_sees_a_remote_file(sections, tmp_path):
    """A remote resource is blocked by the report's security policy and logged as an error."""
    page = build_report(sections, tmp_path / "out", title="Remote")
    page.write_text(
        page.read_text().replace("</body>", '<img src="https://example.invalid/x.png"></body>')
    )
    errors = open_in_browser(page, tmp_path).errors
    assert any("Content Security Policy" in e for e in errors), errors


DEMO_SECTIONS = [
    "IB curves of the 12-bit task",
    "How accurate are the MI estimators?",
    "Information planes of tanh and ReLU networks",
    "Information planes of a CNN on digits",
    "Variational IB on digits: a beta sweep",
]

#: Whether the interactive figures can be drawn here (the ``report`` extra).
HAS_PLOTLY = importlib.util.find_spec("plotly") is not None
needs_plotly = pytest.mark.skipif(not HAS_PLOTLY, reason="plotly is not installed (ibkit[report])")


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    """``ibkit demo --quick``: every section of the demo at tiny sizes."""
    from typer.testing import CliRunner

    from ibkit.cli import app

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        app, ["demo", "--quick", "--jobs", "1", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_quick_demo_writes_the_report_and_tidy_results(quick_demo):
    out, summary = quick_demo
    assert summary["report"] == str(out / REPORT_NAME)
    assert list(summary["seconds"]) == [
        "IB curves", "estimator accuracy", "information planes", "CNN on digits",
        "VIB beta sweep",
    ]  # fmt: skip
    text = (out / REPORT_NAME).read_text()
    headings = [text.index(f"<h2>{html.escape(title)}</h2>") for title in DEMO_SECTIONS]
    assert headings == sorted(headings)
    assert text.count("<table") == 5
    # the two planes: interactive with plotly, else their images with a note
    assert text.count('class="ibkit-plotly"') == (2 if HAS_PLOTLY else 0)
    assert text.count("<script>") == (2 if HAS_PLOTLY else 0)  # plotly.js, the drawing
    assert text.count("install plotly") == (0 if HAS_PLOTLY else 2)
    # the tanh layers that 30 bins tell apart are marked in the planes' tables
    for anchor in ("information-planes-of-tanh-and-relu-networks", "information-planes-of-a-cnn"):
        section = text.split(f'<section id="{anchor}')[1].split("</section>")[0]
        assert " ○</td>" in section
    results = pd.read_csv(out / "results.csv")
    assert results.columns[0] == "section" and list(results.columns[-2:]) == ["metric", "value"]
    assert list(dict.fromkeys(results["section"])) == DEMO_SECTIONS
    curves = results[results["section"] == DEMO_SECTIONS[0]].set_index(["task", "metric"])
    assert curves.loc[("12bit", "i_xy_bits"), "value"] == pytest.approx(1.0, abs=1e-2)
    plane = results[results["section"] == DEMO_SECTIONS[2]]
    assert set(plane["activation"]) == {"tanh", "relu"}
    assert set(plane.loc[plane["metric"] == "n_seeds", "value"]) == {2}
    cnn = results[results["section"] == DEMO_SECTIONS[3]]
    assert set(cnn["estimator"]) == {"binning", "kde_rel30", "renyi"}
    vib = results[(results["section"] == DEMO_SECTIONS[4]) & (results["metric"] == "test_acc")]
    assert vib["beta"].tolist() == [1e-3, 1.0]
    for path in (
        "plane/planes.png", "plane/gradient_snr.png", "plane/training.png", "cnn/planes.png"
    ):  # fmt: skip
        assert (out / path).read_bytes().startswith(b"\x89PNG")


@needs_chromium
def test_quick_demo_report_renders_every_figure(quick_demo, tmp_path):
    out, _ = quick_demo
    visit = open_in_browser(out / REPORT_NAME, tmp_path)
    assert visit.errors == []
    # curves, accuracy, gradient SNR, training, VIB; the two planes drawn by Plotly
    assert (len(visit.images), visit.plots) == ((5, 2) if HAS_PLOTLY else (7, 0))
    assert all(i["complete"] and i["width"] > 100 for i in visit.images), visit.images


# --------------------------------------------------------------------------- interactive


def ceiling_plane_table():
    """Two activations × binning and an estimator whose label would end a script, two
    seeds, three epochs, two hidden layers and the output; act1 at the ceiling for seed 0."""
    table = plane_table(("tanh", "relu"), ("binning", "kde</script>"))
    return table.assign(at_ceiling=(table["layer"] == "act1") & (table["seed"] == 0))


def interactive_section(tmp_path, draw=None):
    from ibkit.study.figures import plot_plane_interactive

    table = ceiling_plane_table()
    static = tmp_path / "planes.png"
    static.write_bytes(PNG_3X2)
    figure = Interactive(draw or (lambda: plot_plane_interactive(table)), static)
    return Section("Planes", "Interactive planes.", figures=[figure])


#: Hover the first point (seed 0, layer act1, at the ceiling) of the first epoch of the
#: panel shown.
HOVER = """(() => {
  const gd = document.querySelector(".ibkit-plotly");
  const curve = gd.data.findIndex(t => t.visible === true && t.meta && "epoch" in t.meta);
  Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: 0}]);
  return true;
})()"""


def hover_label(starts: str) -> str:
    """The hover label's text once it starts with ``starts`` (Plotly throttles hovers, so
    a second one within 50 ms is drawn later)."""
    label = "document.querySelector('.ibkit-plotly .hoverlayer').textContent"
    return until(f"{label}.startsWith({starts!r})", label)


#: Open the menu and pick its last entry (relu · kde</script>).
PICK_LAST_PANEL = """(() => {
  const gd = document.querySelector(".ibkit-plotly");
  gd.querySelector(".updatemenu-header").dispatchEvent(new MouseEvent("click", {bubbles: true}));
  const buttons = gd.querySelectorAll(".updatemenu-dropdown-button");
  buttons[buttons.length - 1].dispatchEvent(new MouseEvent("click", {bubbles: true}));
  return buttons.length;
})()"""

#: The panels and epochs of the visible traces, and the traces drawn.
SHOWN = """({
  panels: [...new Set(document.querySelector(".ibkit-plotly").data
    .filter(t => t.visible === true && t.meta && "epoch" in t.meta).map(t => t.meta.panel))],
  opaque: document.querySelector(".ibkit-plotly").data
    .filter(t => t.visible === true && t.meta && "epoch" in t.meta && t.opacity !== 0)
    .map(t => t.meta.epoch),
  drawn: document.querySelectorAll(".ibkit-plotly .scatterlayer .trace").length,
  menu: document.querySelector(".ibkit-plotly .updatemenu-header").textContent,
})"""

#: Press the slider's rail at its left end (the first epoch).
SLIDE_TO_FIRST = """(() => {
  const rail = document.querySelector(".ibkit-plotly .slider-rail-touch-rect");
  const box = rail.getBoundingClientRect();
  const at = {bubbles: true, clientX: box.left + 1, clientY: box.top + box.height / 2};
  rail.dispatchEvent(new MouseEvent("mousedown", at));
  rail.dispatchEvent(new MouseEvent("mouseup", at));
  return true;
})()"""


@needs_chromium
@needs_plotly
def test_interactive_figure_answers_hover_menu_and_slider(tmp_path):
    page = build_report([interactive_section(tmp_path)], tmp_path / "out", title="Planes")
    last_panel_shown = "document.querySelector('.ibkit-plotly .updatemenu-header')"
    last_panel_shown += ".textContent.startsWith('relu')"
    only_first_epoch = (
        "document.querySelector('.ibkit-plotly').data"
        ".filter(t => t.meta && t.meta.panel === 3 && t.opacity === 0).length === 2"
    )
    visit = open_in_browser(
        page,
        tmp_path,
        HOVER,
        hover_label("tanh"),
        SHOWN,
        PICK_LAST_PANEL,
        until(last_panel_shown, SHOWN),
        HOVER,
        hover_label("relu"),
        SLIDE_TO_FIRST,
        until(only_first_epoch, SHOWN),
    )
    assert visit.errors == [] and visit.plots == 1 and visit.images == []
    _, hover, shown, n_buttons, picked, _, hover_picked, _, slid = visit.values
    assert "layer act1, epoch 0, seed 0" in hover
    assert "I(X;T) = 12.000 bits" in hover and "I(T;Y) = 0.500 bits" in hover
    assert "at the estimator's ceiling" in hover and hover.startswith("tanh · binning")
    # every epoch of the first panel, its 3 traces drawn with 3 legend entries and the bar
    assert shown == {"panels": [0], "opaque": [0, 10, 100], "drawn": 7, "menu": "tanh · binning"}
    assert n_buttons == 4
    assert picked == {
        "panels": [3], "opaque": [0, 10, 100], "drawn": 7, "menu": "relu · kde</script>"
    }  # fmt: skip
    assert hover_picked.startswith("relu · kde</script>layer act1")
    assert slid["panels"] == [3] and slid["opaque"] == [0]


@needs_plotly
def test_interactive_page_allows_only_its_own_scripts(tmp_path):
    page = build_report([interactive_section(tmp_path)], tmp_path / "out", title="Planes")
    text = page.read_text()
    policy = text.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert policy.startswith("default-src 'none'; img-src data:; style-src 'unsafe-inline'; ")
    sources = policy.split("script-src ")[1].split()
    assert len(sources) == 2 and all(s.startswith("'sha256-") for s in sources)
    assert "unsafe-eval" not in policy and policy.count("unsafe-inline") == 1
    assert text.count("<script>") == 2 and text.count('type="application/json"') == 1
    assert "</script>de" not in text.split('type="application/json"')[1].split("</script>")[0]
    assert "http://" not in text.split("<script>")[0]  # nothing remote before the scripts


@needs_chromium
@needs_plotly
def test_browser_check_sees_an_injected_script(tmp_path):
    """An inline script the report did not write is refused by its hashes and logged."""
    page = build_report([interactive_section(tmp_path)], tmp_path / "out", title="Planes")
    page.write_text(
        page.read_text().replace("</body>", "<script>document.title = 'run'</script></body>")
    )
    visit = open_in_browser(page, tmp_path, "document.title")
    assert visit.plots == 1 and visit.values == ["Planes"]
    assert any("Content Security Policy" in e for e in visit.errors), visit.errors


def test_interactive_figure_falls_back_to_its_image_without_plotly(tmp_path, monkeypatch):
    def draw():
        raise AssertionError("not drawn without plotly")

    monkeypatch.setitem(sys.modules, "plotly", None)
    page = build_report([interactive_section(tmp_path, draw)], tmp_path, title="Planes")
    text = page.read_text()
    assert "<script" not in text and "script-src" not in text
    assert text.count('src="data:image/png;base64,') == 1
    assert base64.b64encode(PNG_3X2).decode() in text
    assert text.count("install plotly (pip install &#x27;ibkit[report]&#x27;)") == 1


@needs_plotly
def test_interactive_draw_must_give_a_plotly_figure(tmp_path):
    with pytest.raises(ValueError, match="must return a plotly.graph_objects.Figure; got int"):
        build_report([interactive_section(tmp_path, lambda: 42)], tmp_path, title="t")


def test_report_is_self_contained(sections, tmp_path):
    page = build_report(sections, tmp_path, title="Test <report>")
    assert page == tmp_path / REPORT_NAME
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in text and "@import" not in text and "url(" not in text
    assert text.count('src="data:image/png;base64,') == 2
    assert text.count('src="data:image/svg+xml;base64,') == 1
    # titles and cells are escaped; the TOC links to every section
    assert "<title>Test &lt;report&gt;</title>" in text
    assert "a&lt;b" in text and "First &amp; figures" in text
    assert '<a href="#first-figures">' in text and '<section id="first-figures">' in text
    # the PNG file is embedded byte for byte
    assert base64.b64encode(PNG_3X2).decode() in text


def test_report_table_is_cut_to_max_rows(tmp_path):
    table = pd.DataFrame({"k": range(50)})
    text = build_report(
        [Section("T", "Rows.", tables=[table])], tmp_path, title="t", max_rows=5
    ).read_text()
    assert text.count("<tr") == 1 + 5  # header and five rows
    assert "First 5 of 50 rows." in text


def test_report_sections_with_the_same_title_get_distinct_anchors(tmp_path):
    text = build_report(
        [Section("Same", "One."), Section("Same", "Two.")], tmp_path, title="t"
    ).read_text()
    assert 'id="same"' in text and 'id="same-2"' in text


@pytest.mark.parametrize(
    ("section", "error", "match"),
    [
        (Section("S", "t", figures=["missing.png"]), FileNotFoundError, "missing.png"),
        (Section("S", "t", figures=["notes.txt"]), ValueError, "figures must be"),
        (Section("S", "t", figures=[42]), ValueError, "got int"),
        (Section("S", "t", tables=[[1, 2]]), ValueError, "DataFrame; got list"),
    ],
)
def test_report_rejects_bad_sections(tmp_path, section, error, match):
    with pytest.raises(error, match=match):
        build_report([section], tmp_path, title="t")


def test_report_needs_sections(tmp_path):
    with pytest.raises(ValueError, match="non-empty list"):
        build_report([], tmp_path, title="t")
    with pytest.raises(ValueError, match="non-empty list"):
        build_report(["text"], tmp_path, title="t")
