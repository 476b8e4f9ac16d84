"""PyTorch parts of ibkit: models, ensembles of seeds, the information-plane recorder, VIB.

Everything here needs PyTorch (``pip install 'ibkit[torch]'``); names load on first use.
No public name is also the name of a submodule: importing ``ibkit.nn.<module>`` sets that
attribute on the package, which would then shadow the name listed here.
"""

import importlib
from typing import Any

#: public name -> submodule of ibkit.nn that defines it
_EXPORTS: dict[str, str] = {
    "ACTIVATIONS": "mlp",
    "MLP": "mlp",
    "make_activation": "mlp",
    "output_probabilities": "mlp",
    "QUANTIZED_RANGES": "mlp",
    "quantize": "mlp",
    "EnsembleMLP": "ensemble",
    "BatchedLinear": "ensemble",
    "ConvNet": "cnn",
    "fit": "training",
    "evaluate": "training",
    "History": "training",
    "TrainingHistory": "training",
    "member_losses": "training",
    "torch_threads": "training",
    "InformationPlane": "plane",
    "plane_points": "plane",
    "GradientSNR": "gradients",
    "gradient_snr": "gradients",
    "EpochSchedule": "schedule",
    "log_spaced_epochs": "schedule",
    "VariationalBottleneck": "vib",
    "VIBClassifier": "vib",
    "StochasticClassifier": "vib",
    "IBLoss": "vib",
    "VIBHistory": "vib",
    "gaussian_kl": "vib",
    "train_vib": "vib",
    "NonlinearIB": "nonlinear_ib",
    "GaussianNoise": "nonlinear_ib",
    "kde_upper_bound": "nonlinear_ib",
    "vib_sweep": "_vib_sweep",
    "MODELS": "_vib_sweep",
    "fgsm_accuracy": "adversarial",
    "fgsm_attack": "adversarial",
    "plot_vib_sweep": "vib_plots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ibkit.nn' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ibkit.nn.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
