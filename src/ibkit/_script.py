"""The ``ibkit`` console script: the command line, or how to install it.

``pip install ibkit`` installs the script without the ``cli`` extra; then typer or rich
cannot be imported, and the script says in one line how to get them (status 2) instead
of dying with a traceback.
"""

from __future__ import annotations

import sys

#: The packages of the ``cli`` extra that :mod:`ibkit.cli` imports when it loads.
CLI_PACKAGES = ("typer", "rich", "click")


def main() -> None:
    """Entry point of the ``ibkit`` console script: run :func:`ibkit.cli.main`."""
    try:
        from ibkit.cli import main as cli_main
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in CLI_PACKAGES:
            raise
        print(
            f"ibkit: error: the command line needs {missing}; install it with "
            "pip install 'ibkit[cli]'",
            file=sys.stderr,
        )
        sys.exit(2)
    cli_main()
