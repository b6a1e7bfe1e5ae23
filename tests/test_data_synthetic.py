"""Synthetic cohort generator and the QC table / figure of ingested recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurodyn.data import build_cohort, read_recording, synthetic_cohort, validate_recording
from neurodyn.data.qc import QC_COLUMNS, recording_qc

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "flavell2023"


def test_synthetic_cohort_contract_and_determinism():
    recs, truth = synthetic_cohort(3, 12, 400, 2.0, random_state=11)
    again, truth2 = synthetic_cohort(3, 12, 400, 2.0, random_state=11)
    other, _ = synthetic_cohort(3, 12, 400, 2.0, random_state=12)
    assert len(recs) == 3 and [r.attrs["animal"] for r in recs] == ["syn00", "syn01", "syn02"]
    for r, r2 in zip(recs, again):
        validate_recording(r)
        assert r.sizes == {"time": 400, "neuron": 12}
        np.testing.assert_array_equal(r["traces"].values, r2["traces"].values)
        np.testing.assert_allclose(np.diff(r["time"].values), 0.5)
    assert not np.allclose(recs[0]["traces"].values, other[0]["traces"].values)
    assert truth["spikes"].dims == ("animal", "time", "neuron") and truth["spikes"].shape == (3, 400, 12)
    np.testing.assert_array_equal(truth["spikes"].values, truth2["spikes"].values)
    # planted structure: the behaviour is the truth's reversal state, and command neurons
    # (the first third) fire far more during reversals than otherwise
    np.testing.assert_array_equal(recs[0]["behavior_reversal"].values, truth["reversal"].values[0])
    rev = truth["reversal"].values.astype(bool)
    command = truth["command_neuron"].values
    rate_in = truth["spikes"].values[:, :, command][rev].mean()
    rate_out = truth["spikes"].values[:, :, command][~rev].mean()
    assert rate_in > 4 * rate_out
    assert 0.1 < rev.mean() < 0.5


def test_synthetic_cohort_rejects_nonsense():
    with pytest.raises(ValueError):
        synthetic_cohort(0, 12, 400, 2.0, random_state=0)


def test_qc_table_on_bundled_worms():
    recs = [read_recording(BUNDLED / f"{uid}.nc") for uid in ("2022-07-27-31", "2022-08-02-31")]
    table = recording_qc(recs, build_cohort(recs, min_animals=2))
    assert list(table.columns) == list(QC_COLUMNS)
    assert table["neurons"].tolist() == [145, 130]
    assert table["identified_neurons"].tolist() == [103, 103]
    assert table["neurons_in_cohort"].tolist() == [81, 81]
    assert table["n_frames"].tolist() == [800, 800]
    np.testing.assert_allclose(table["sampling_rate_hz"], 1.6666, atol=1e-3)
    np.testing.assert_allclose(table["duration_s"], 480.6, atol=0.1)
    assert (table["nan_fraction"] == 0).all()
    assert table["source"].tolist() == [f"flavell2023/recordings/{u}-data.h5" for u in ("2022-07-27-31", "2022-08-02-31")]
    assert np.isnan(recording_qc(recs)["neurons_in_cohort"]).all()


def test_qc_figure_orders_by_similarity(tmp_path):
    from neurodyn.plots import style
    from neurodyn.plots.qc import plot_recording_qc, similarity_order

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 300))
    x = np.column_stack([a, b, a + 0.1 * rng.normal(size=300), b + 0.1 * rng.normal(size=300)])
    order = list(similarity_order(x))
    assert abs(order.index(0) - order.index(2)) == 1 and abs(order.index(1) - order.index(3)) == 1
    recs, _ = synthetic_cohort(1, 10, 200, 2.0, random_state=0)
    fig = plot_recording_qc(recs[0], max_neurons=6)
    heat = fig.axes[0]
    assert len(heat.get_yticklabels()) == 6 and heat.images[0].get_array().shape == (6, 200)
    assert "time (s)" in [ax.get_xlabel() for ax in fig.axes]
    written = style.save(fig, tmp_path / "qc.png")
    assert all(p.stat().st_size > 1000 for p in written)
