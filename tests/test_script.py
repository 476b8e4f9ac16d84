"""Tests of the ``ibkit`` console script, run as subprocesses like an installed script.

The script is the function named in ``pyproject.toml``; without the ``cli`` extra
(typer or rich not importable, simulated with ``sys.modules[name] = None``) it must say
in one line how to install it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(*args: str, blocked: str | None = None) -> subprocess.CompletedProcess:
    """Call the console script's entry function with ``args``, ``blocked`` not importable."""
    block = f"sys.modules[{blocked!r}] = None; " if blocked else ""
    code = f"import sys; {block}sys.argv = ['ibkit', *{list(args)!r}]; " + (
        "from ibkit._script import main; main()"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("blocked", ["typer", "rich"])
def test_without_the_cli_extra_the_script_says_how_to_install_it(blocked):
    proc = run_script("--version", blocked=blocked)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"ibkit: error: the command line needs {blocked}; install it with "
        "pip install 'ibkit[cli]'\n"
    )


def test_the_script_runs_the_command_line():
    pytest.importorskip("typer")
    from ibkit import __version__

    proc = run_script("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"ibkit {__version__}\n"


def test_pyproject_installs_the_guarded_entry_point():
    tomllib = pytest.importorskip("tomllib")
    from ibkit._script import main

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module, _, name = config["project"]["scripts"]["ibkit"].partition(":")
    assert (module, name) == (main.__module__, main.__name__)
