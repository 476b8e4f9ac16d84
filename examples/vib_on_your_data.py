"""A Variational Information Bottleneck β sweep on digits, or on your MNIST files.

Run:
    python examples/vib_on_your_data.py                 # scikit-learn digits, ~1 minute
    python examples/vib_on_your_data.py --mnist train-images-idx3-ubyte.gz \\
        train-labels-idx1-ubyte.gz --test t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz

On digits it trains a 64-256-256-(K=32) VIB for each β (100 epochs, Adam lr 1e-3); on
MNIST the model of Alemi et al. (2017): 784-1024-1024-(K=256), lr 1e-4, 200 epochs,
batch 100 (hours on a CPU; --epochs shortens it). Writes vib_sweep.csv and vib_sweep.png.
"""

import argparse

import matplotlib
import numpy as np

from ibkit.datasets.files import load_digits, load_mnist
from ibkit.nn import vib_sweep
from ibkit.nn.vib_plots import plot_vib_sweep

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--mnist", nargs=2, metavar=("IMAGES", "LABELS"), help="IDX training files")
parser.add_argument("--test", nargs=2, metavar=("IMAGES", "LABELS"), help="IDX test files")
parser.add_argument("--betas", type=float, nargs="+", help="β values (default: 0, 1e-6 … 1)")
parser.add_argument("--epochs", type=int, help="epochs per β (default: 100 digits, 200 MNIST)")
parser.add_argument("--fgsm", type=float, nargs="*", default=[0.0, 0.05, 0.1, 0.2])
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

betas = args.betas or [0.0, *np.logspace(-6, 0, 7)]
if args.mnist:
    x, y = load_mnist(*args.mnist)
    setup = dict(epochs=args.epochs or 200, dim=256, encoder=(1024, 1024), lr=1e-4)
    if args.test:  # the official test set; without it 20% of the training files are held out
        setup["x_test"], setup["y_test"] = load_mnist(*args.test)
else:
    x, y = load_digits()
    setup = dict(epochs=args.epochs or 100, dim=32, encoder=(256, 256), lr=1e-3)


def progress(done: int, total: int) -> None:
    print(f"\r{done}/{total} epochs", end="", flush=True)


df = vib_sweep(
    x, y, betas, fgsm_eps=args.fgsm or None, random_state=args.seed, progress=progress, **setup
)
print()
print(df.drop(columns="model").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
df.to_csv("vib_sweep.csv", index=False)
matplotlib.use("Agg")
plot_vib_sweep(df).savefig("vib_sweep.png", dpi=150, bbox_inches="tight")
print("wrote vib_sweep.csv and vib_sweep.png")
