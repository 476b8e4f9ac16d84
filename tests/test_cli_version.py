"""``ibkit --version`` and the single source of the version.

The version is written once, as ``ibkit.__version__``; ``pyproject.toml`` declares it
dynamic and reads that attribute, so the installed metadata, the module and the command
line agree.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

import ibkit

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", ibkit.__version__)


def test_pyproject_reads_the_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"], "the version is written in __init__.py only"
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ibkit.__version__"}


def test_installed_metadata_has_the_package_version():
    try:
        installed = metadata.version("ibkit")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        pytest.skip("ibkit is not installed")
    assert installed == ibkit.__version__


@pytest.mark.parametrize("flag", ["--version"])
def test_cli_prints_the_version_and_exits_0(flag):
    pytest.importorskip("typer")
    from typer.testing import CliRunner

    from ibkit.cli import app

    result = CliRunner().invoke(app, [flag])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ibkit {ibkit.__version__}\n"


def test_version_wins_over_a_command():
    pytest.importorskip("typer")
    from typer.testing import CliRunner

    from ibkit.cli import app

    # --version is eager: it prints and exits before any command runs or checks its input
    result = CliRunner().invoke(app, ["--version", "curve", "no-such-file.csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ibkit {ibkit.__version__}\n"
