"""The data and the networks of an information-plane study, named by strings.

``data`` (:func:`check_data`, :func:`load_data`):

- ``"12bit"`` — the 12-bit task (:func:`ibkit.datasets.tishby_12bit`), inputs (12,);
- ``"digits"`` — scikit-learn's 1797 digits (:func:`ibkit.datasets.load_digits`),
  images (1, 8, 8);
- ``"mnist:DIR"`` — the 60000 MNIST training images of the folder ``DIR``
  (``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``, plain or ``.gz``;
  :func:`ibkit.datasets.load_mnist`), images (1, 28, 28);
- a ``.npz`` or ``.csv`` file — a table of inputs ``x`` and integer labels ``y``
  (:func:`ibkit.datasets.load_table`), inputs (d,).

``model`` (:func:`check_model`, :func:`build_model`):

- ``"mlp"`` — :class:`~ibkit.nn.EnsembleMLP`, all seeds trained at once;
- ``"cnn"`` — :class:`~ibkit.nn.cnn.ConvNet`, image data only, one seed after another;
- ``"module:factory"`` — ``factory(seed, in_shape, n_classes, activation)`` returning a
  :class:`torch.nn.Module` classifier, one seed after another. ``module`` is imported,
  so a configuration naming one is as trusted as a script.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError

__all__ = ["MODELS", "build_model", "check_data", "check_model", "load_data"]

#: The built-in models; any other value is ``"module:factory"``.
MODELS = ("mlp", "cnn")

#: The built-in datasets; ``"mnist:DIR"`` and files are the others.
DATASETS = ("12bit", "digits")

_DATA_HELP = "'12bit', 'digits', 'mnist:DIR' or a .npz/.csv file of x and y"
_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def _mnist_files(folder: str) -> list[Path]:
    """The MNIST training images and labels in ``folder`` (plain or gzip-compressed)."""
    found = []
    for stem in _MNIST_FILES:
        paths = [Path(folder) / name for name in (stem, f"{stem}.gz")]
        path = next((p for p in paths if p.is_file()), None)
        if path is None:
            raise InvalidParameterError(
                f"data='mnist:{folder}' needs {stem} (or {stem}.gz) in {folder}; "
                "download the MNIST training files there, or fix the folder"
            )
        found.append(path)
    return found


def check_data(data: Any) -> None:
    """Raise ``ValueError`` unless ``data`` names a dataset of the study that exists."""
    from ibkit.datasets import TABLE_FORMATS

    if not isinstance(data, str) or not data:
        raise InvalidParameterError(f"data must be {_DATA_HELP}; got {data!r}")
    if data in DATASETS:
        return
    if data.startswith("mnist:"):
        _mnist_files(data.removeprefix("mnist:") or ".")
    elif Path(data).suffix.lower() not in TABLE_FORMATS:
        raise InvalidParameterError(f"data must be {_DATA_HELP}; got {data!r}")
    elif not Path(data).is_file():
        raise InvalidParameterError(f"data={data!r} is not an existing file; fix the path")


def load_data(data: str, label_noise: float) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """``(x, y, in_shape)``: flat inputs (n, d), integer labels (n,) and a row's shape."""
    from ibkit.datasets import load_digits, load_mnist, load_table, tishby_12bit

    if data == "12bit":
        task = tishby_12bit(label_noise)
        x, y = task.x, task.y
    elif data == "digits":
        x, y = load_digits()
    elif data.startswith("mnist:"):
        x, y = load_mnist(*_mnist_files(data.removeprefix("mnist:") or "."))
    else:
        x, y = load_table(data)
        if y.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"data={data!r} must hold integer class labels y; got {y.dtype} values "
                "(read text labels with ibkit.datasets.load_table(..., y_labels=True))"
            )
    side = math.isqrt(x.shape[1])
    image = data == "digits" or data.startswith("mnist:")
    return x, y, (1, side, side) if image else (x.shape[1],)


def check_model(model: Any, data: str) -> None:
    """Raise ``ValueError`` unless ``model`` is a model the study can build for ``data``."""
    if not isinstance(model, str) or not (model in MODELS or _FACTORY.match(model)):
        raise InvalidParameterError(
            f"model must be 'mlp', 'cnn' or 'module:factory' (an importable function "
            f"factory(seed, in_shape, n_classes, activation) returning a torch.nn.Module); "
            f"got {model!r}"
        )
    if model == "cnn" and not (data == "digits" or data.startswith("mnist:")):
        raise InvalidParameterError(
            f"model='cnn' needs images: data='digits' or 'mnist:DIR'; got data={data!r} "
            "(use model='mlp' for it)"
        )
    if model not in MODELS:
        _factory(model)


def _factory(spec: str) -> Callable[..., Any]:
    """The function named ``module:name`` (the module is imported)."""
    module_name, name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidParameterError(
            f"model={spec!r}: cannot import {module_name!r} ({exc}); put its folder on "
            "PYTHONPATH or fix the name"
        ) from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise InvalidParameterError(
            f"model={spec!r}: module {module_name!r} has no function {name!r}; fix the name"
        )
    return factory


def build_model(
    model: str, seed: int, in_shape: tuple[int, ...], n_classes: int, activation: str
) -> Any:
    """One network of a per-seed ``model`` (``"cnn"`` or a factory) for ``seed``.

    A factory runs with torch's global generator seeded with ``seed`` (and restored
    after), so a factory that draws from it (``nn.Linear``'s default) is reproducible.
    """
    import torch

    from ibkit.nn.cnn import ConvNet

    if model == "cnn":
        return ConvNet(in_shape, n_classes, activation, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _factory(model)(seed, in_shape, n_classes, activation)
    if not isinstance(net, torch.nn.Module):
        raise InvalidParameterError(
            f"model={model!r} returned {type(net).__name__}, not a torch.nn.Module; make "
            "the factory return the network"
        )
    return net
