"""Shared test settings."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tests train small models: one torch thread is fastest, and the machine is shared.

    Applied only once a test has imported torch, so tests of the numpy core stay free
    of it.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the pyplot figures a test opened (pyplot keeps them until closed)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
