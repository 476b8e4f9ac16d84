"""The demo's section on the CNN trained on digits (:func:`ibkit.demo._cnn_part`), at the
tiny sizes of :data:`ibkit.demo.QUICK`.

Truth comes from outside the section: binning on 100 distinct probe digits can tell at
most 100 inputs apart, so I(X;T) is at most log2 100 bits, and a layer of 1024 units
reaches it; the flag must be set exactly there, and every flagged point must be hollow
in the report's interactive figure (and marked in its table).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")

from ibkit.demo import CNN_ESTIMATORS, QUICK, _cnn_part  # noqa: E402
from ibkit.report import build_report  # noqa: E402

TITLE = "Information planes of a CNN on digits"


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    out = tmp_path_factory.mktemp("cnn")
    return out, _cnn_part(out, QUICK, random_state=0, n_jobs=1)


def test_cnn_section_records_every_estimator_and_flags_the_saturated_layers(cnn):
    out, part = cnn
    plane = pd.read_csv(out / "cnn" / "plane.csv")
    assert set(plane["estimator"]) == set(CNN_ESTIMATORS)
    assert set(plane["activation"]) == set(QUICK.cnn_activations)
    assert sorted(plane["epoch"].unique()) == [0, QUICK.cnn_epochs]
    assert list(dict.fromkeys(plane["layer"])) == ["act1", "act2", "act3", "output"]
    # binning tells every probe digit apart in the 1024 units of the first convolution
    conv = plane[(plane["estimator"] == "binning") & (plane["layer"] == "act1")]
    assert conv["at_ceiling"].all()
    np.testing.assert_allclose(conv["i_xt"], np.log2(QUICK.cnn_probe), atol=0.01)
    # ... and every flagged point is at that ceiling: the flag says what it should
    flagged = plane[plane["at_ceiling"].astype(bool)]
    np.testing.assert_array_less(
        np.log2(QUICK.cnn_probe) - 0.011, flagged["i_xt_upper"].fillna(flagged["i_xt"])
    )
    # Renyi's functional has no ceiling at these sizes
    assert not plane.loc[plane["estimator"] == "renyi", "at_ceiling"].any()
    # the tidy part: the share of points at the ceiling per activation, estimator, layer
    share = part.table.set_index(["activation", "estimator", "layer"])["at_ceiling_share"]
    assert share[(QUICK.cnn_activations[0], "binning", "act1")] == 1.0
    assert (out / "cnn" / "planes.png").read_bytes().startswith(b"\x89PNG")


def test_cnn_section_text_and_table_mark_the_saturation(cnn):
    _, part = cnn
    assert part.section.title == TITLE
    assert f"log2 {QUICK.cnn_probe} = {np.log2(QUICK.cnn_probe):.2f} bits" in part.section.text
    assert "drawn hollow" in part.section.text
    table = part.section.tables[0].set_index("layer")
    assert table.loc["act1", "binning"].endswith(" ○")
    assert not any(cell.endswith(" ○") for cell in table["renyi"])


def test_cnn_section_in_the_report_draws_the_saturated_points_hollow(cnn, tmp_path):
    pytest.importorskip("plotly")
    out, part = cnn
    text = build_report([part.section], tmp_path, title="CNN").read_text()
    assert f"<h2>{TITLE}</h2>" in text
    data = text.split('class="ibkit-plotly-data">')[1].split("</script>")[0]
    figure = json.loads(data)
    panels = [b["label"] for b in figure["layout"]["updatemenus"][0]["buttons"]]
    assert panels == [f"{a} · {e}" for e in CNN_ESTIMATORS for a in QUICK.cnn_activations]
    plane = pd.read_csv(out / "cnn" / "plane.csv")
    for trace in figure["data"]:
        if "epoch" not in (trace.get("meta") or {}):
            continue
        act, est = panels[trace["meta"]["panel"]].split(" · ")
        rows = plane[
            (plane["activation"] == act)
            & (plane["estimator"] == est)
            & (plane["epoch"] == trace["meta"]["epoch"])
        ].sort_values(["seed", "layer_index"])
        shapes = zip(trace["marker"]["symbol"], trace["x"], strict=True)
        points = [s for s, x in shapes if x is not None]
        assert [s.endswith("-open") for s in points] == rows["at_ceiling"].tolist()
