"""Record the information plane of your own PyTorch model while it trains.

Run: python examples/information_plane_of_your_model.py
The model and the training loop are ordinary PyTorch; the recorder adds five lines.
"""

import torch
from torch import nn

from ibkit.datasets import tishby_12bit, train_test_split
from ibkit.nn import InformationPlane

torch.manual_seed(0)
task = tishby_12bit()  # 4096 binary patterns, 2 classes
split = train_test_split(task.x, task.y, 0.85, random_state=0)
x_train = torch.tensor(split.x_train, dtype=torch.float32)
y_train = torch.tensor(split.y_train)

model = nn.Sequential(
    nn.Linear(12, 10),
    nn.Tanh(),
    nn.Linear(10, 7),
    nn.Tanh(),
    nn.Linear(7, 5),
    nn.Tanh(),
    nn.Linear(5, 2),
)
optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
n_epochs = 300


def train_one_epoch(model):
    for index in torch.randperm(len(x_train)).split(256):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x_train[index]), y_train[index]).backward()
        optimizer.step()


plane = InformationPlane(
    model,
    task.x,
    task.y,
    estimators=["binning", "kde"],
    schedule="log",
    n_epochs=n_epochs,
    n_points=30,
)
with plane:  # hooks on; removed on exit
    for epoch in range(n_epochs):
        train_one_epoch(model)
        plane.record(epoch)  # records if the schedule says so

results = plane.results  # one row per epoch, layer and estimator
print(results[["epoch", "layer", "estimator", "i_xt", "i_ty"]].tail(12).to_string(index=False))

try:  # the picture, if matplotlib is installed
    import matplotlib

    matplotlib.use("Agg")
    from ibkit.study.figures import plot_plane_grid

    plot_plane_grid(results).savefig("information_plane.png", dpi=150)
    print("wrote information_plane.png")
except ImportError:
    pass
