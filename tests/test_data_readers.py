"""Readers: each format on real or freshly written files, label rules, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from neurodyn.data import identified_neurons, read_recording, synthetic_cohort, validate_recording, write_recording
from neurodyn.data.readers import FLAVELL_BEHAVIOR, roi_name

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "flavell2023"
WORMS = ("2022-07-27-31", "2022-08-02-31")


def write_flavell_like(path: Path, n_time: int = 40, n_roi: int = 6, seed: int = 0, **overrides) -> Path:
    """A tiny HDF5 in the published layout (values random, clock irregular)."""
    rng = np.random.default_rng(seed)
    stamps = 1000.0 + np.cumsum(rng.uniform(0.55, 0.65, n_time))
    fields = {
        "gcamp/trace_array": rng.normal(size=(n_time, n_roi)),
        "timing/timestamp_confocal": stamps,
        "behavior/velocity": rng.normal(0, 0.05, n_time),
        "behavior/reversal_vec": (rng.random(n_time) < 0.2).astype(np.int64),
        "behavior/head_angle": rng.normal(size=n_time),
        "behavior/pumping": np.full(n_time, np.nan),
        "behavior/body_angle": rng.normal(size=(n_time, 30)),
    }
    fields.update(overrides)
    with h5py.File(path, "w") as fh:
        for key, value in fields.items():
            if value is not None:
                fh[key] = value
    return path


def write_labels(path: Path, table: dict) -> Path:
    path.write_text(json.dumps(table))
    return path


# ------------------------------------------------------------------ flavell_h5


def test_flavell_real_worm_with_labels(shared_data):
    base = shared_data / "flavell2023"
    rec = read_recording(base / "recordings" / "2022-07-27-31-data.h5", labels=base / "neuropal_labels.json")
    labels = json.loads((base / "neuropal_labels.json").read_text())["2022-07-27-31"]
    with h5py.File(base / "recordings" / "2022-07-27-31-data.h5") as fh:
        raw = fh["gcamp/trace_array"][()]
        stamps = fh["timing/timestamp_confocal"][()]
        velocity = fh["behavior/velocity"][()]
        reversal = fh["behavior/reversal_vec"][()]
    assert rec.sizes["time"] == raw.shape[0] == 800 and rec.sizes["neuron"] == raw.shape[1] == 145
    assert rec.attrs["animal"] == "2022-07-27-31"
    np.testing.assert_allclose(rec["time"].values, stamps - stamps[0])
    assert rec["time"].values[0] == 0.0
    assert 1.6 < rec.attrs["sampling_rate_hz"] < 1.7
    # every labelled column carries its name (except the duplicate that lost) and its data
    names = list(rec["neuron"].values)
    avel = next(e for e in labels if e["label"] == "AVEL")
    j = names.index("AVEL")
    assert rec["trace_column"].values[j] == avel["trace_column"]
    np.testing.assert_array_equal(rec["traces"].values[:, j], raw[:, avel["trace_column"]])
    assert len(identified_neurons(rec)) == len({e["label"] for e in labels}) == 103
    # unlabelled columns are roi_NNN with the 0-based column index
    labelled_cols = {e["trace_column"] for e in labels}
    free = next(c for c in range(145) if c not in labelled_cols)
    assert names[free] == roi_name(free) == f"roi_{free:03d}"
    # duplicate label SIBV? (columns 55 and 99, both confidence 2.0): the lower column keeps it
    dup = json.loads(rec.attrs["duplicate_labels"])
    assert dup == [{"label": "SIBV?", "kept_column": 55, "kept_confidence": 2.0,
                    "dropped_columns": [99], "dropped_confidences": [2.0]}]
    assert names[55] == "SIBV?" and names[99] == "roi_099"
    # behaviour on the same clock
    np.testing.assert_array_equal(rec["behavior_velocity"].values, velocity)
    np.testing.assert_array_equal(rec["behavior_reversal"].values, reversal)
    assert rec["behavior_body_angle"].dims == ("time", "body_segment")
    assert "behavior_pumping" not in rec and rec.attrs["behavior_dropped_all_nan"] == "pumping"
    assert "Dag" in rec.attrs["citation"] and "10.1016/j.cell.2023.04.023" in rec.attrs["citation"]


def test_bundled_worms_equal_the_published_files(shared_data):
    base = shared_data / "flavell2023"
    for uid in WORMS:
        bundled = read_recording(BUNDLED / f"{uid}.nc")
        original = read_recording(base / "recordings" / f"{uid}-data.h5", labels=base / "neuropal_labels.json")
        assert list(bundled["neuron"].values) == list(original["neuron"].values)
        np.testing.assert_allclose(bundled["traces"].values, original["traces"].values, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(bundled["time"].values, original["time"].values)
        for var in original.data_vars:
            np.testing.assert_allclose(bundled[var].values, original[var].values, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("uid, n_neuron, duplicate", [("2022-07-27-31", 145, "SIBV?"), ("2022-08-02-31", 130, "AIM?")])
def test_bundled_netcdf_worms(uid, n_neuron, duplicate):
    rec = read_recording(BUNDLED / f"{uid}.nc")
    assert rec.attrs["animal"] == uid
    assert rec["traces"].dtype == np.float32
    assert rec.sizes == {"time": 800, "neuron": n_neuron, "body_segment": 30}
    assert len(identified_neurons(rec)) == 103
    assert json.loads(rec.attrs["duplicate_labels"])[0]["label"] == duplicate
    assert rec.attrs["derived_from"] == f"flavell2023/recordings/{uid}-data.h5"
    assert set(np.unique(rec["behavior_reversal"].values)) == {0, 1}
    assert BUNDLED.joinpath(f"{uid}.nc").stat().st_size < 1_000_000


def test_duplicate_label_keeps_higher_confidence(tmp_path):
    h5 = write_flavell_like(tmp_path / "w1-data.h5", n_roi=6)
    labels = write_labels(tmp_path / "labels.json", {"w1": [
        {"trace_column": 1, "label": "AVAL", "confidence": 2.0},
        {"trace_column": 4, "label": "AVAL", "confidence": 5.0},
        {"trace_column": 2, "label": "RIML", "confidence": 3.0},
        {"trace_column": 3, "label": "RIML", "confidence": 3.0},  # tie: lower column wins
        {"trace_column": 0, "label": "AIBL"},                     # no confidence given
    ]})
    rec = read_recording(h5, labels=labels)
    assert list(rec["neuron"].values) == ["AIBL", "roi_001", "RIML", "roi_003", "AVAL", "roi_005"]
    np.testing.assert_array_equal(rec["label_confidence"].values[[2, 4]], [3.0, 5.0])
    assert np.isnan(rec["label_confidence"].values[[1, 3, 5]]).all()
    record = {d["label"]: d for d in json.loads(rec.attrs["duplicate_labels"])}
    assert record["AVAL"]["kept_column"] == 4 and record["AVAL"]["dropped_columns"] == [1]
    assert record["RIML"]["kept_column"] == 2 and record["RIML"]["dropped_columns"] == [3]


def test_flavell_without_labels_and_behaviour_mapping(tmp_path):
    h5 = write_flavell_like(tmp_path / "w2-data.h5", n_time=30, n_roi=3)
    rec = read_recording(h5)
    assert list(rec["neuron"].values) == ["roi_000", "roi_001", "roi_002"]
    assert rec.attrs["animal"] == "w2"
    assert {"behavior_velocity", "behavior_reversal", "behavior_head_angle", "behavior_body_angle"} <= set(rec)
    assert rec["behavior_reversal"].dtype == np.int8
    assert set(FLAVELL_BEHAVIOR) >= {"velocity", "reversal", "head_angle", "angular_velocity", "pumping",
                                     "worm_curvature", "body_angle"}


# ------------------------------------------------------------------ nwb


def write_nwb(path: Path, traces: np.ndarray, *, names=None, kind="DfOverF", timestamps=None, rate=None,
              behavior=None) -> Path:
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries
    from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation, OpticalChannel

    nwb = NWBFile(session_description="test", identifier="nwb-test", session_start_time=datetime(2024, 1, 1,
                  tzinfo=timezone.utc), related_publications=["doi:10.0000/test"])
    device = nwb.create_device(name="scope")
    channel = OpticalChannel(name="green", description="GCaMP", emission_lambda=520.0)
    plane = nwb.create_imaging_plane(name="plane", optical_channel=channel, imaging_rate=2.0, description="p",
                                     device=device, excitation_lambda=488.0, indicator="GCaMP7f", location="head")
    module = nwb.create_processing_module(name="ophys", description="optical physiology")
    seg = ImageSegmentation()
    module.add(seg)
    ps = seg.create_plane_segmentation(name="rois", description="ROIs", imaging_plane=plane)
    if names is not None:
        ps.add_column(name="neuron_name", description="identified neuron")
    for i in range(traces.shape[1]):
        row = {"image_mask": np.zeros((4, 4))}
        if names is not None:
            row["neuron_name"] = names[i]
        ps.add_roi(**row)
    region = ps.create_roi_table_region(region=list(range(traces.shape[1])), description="all")
    container = (DfOverF if kind == "DfOverF" else Fluorescence)()
    module.add(container)  # attach first, so the ROI region shares an ancestor with its table
    container.create_roi_response_series(name="traces", data=traces, rois=region, unit="dF/F",
                                         timestamps=timestamps, rate=rate,
                                         starting_time=None if rate is None else 3.0)
    if behavior is not None:
        beh = nwb.create_processing_module(name="behavior", description="behaviour")
        bts = BehavioralTimeSeries(name="BehavioralTimeSeries")
        for name, values in behavior.items():
            bts.add_timeseries(TimeSeries(name=name, data=values, unit="mm/s", timestamps=timestamps,
                                          rate=rate, starting_time=None if rate is None else 3.0))
        beh.add(bts)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_nwb_dff_with_names_timestamps_and_behaviour(tmp_path, rng):
    traces = rng.normal(size=(50, 4))
    stamps = 10.0 + np.cumsum(rng.uniform(0.4, 0.6, 50))
    velocity = rng.normal(size=50)
    path = write_nwb(tmp_path / "m1.nwb", traces, names=["AVAL", "", "RIML", "AIBR"], timestamps=stamps,
                     behavior={"velocity": velocity})
    rec = read_recording(path)
    assert list(rec["neuron"].values) == ["AVAL", "roi_001", "RIML", "AIBR"]
    np.testing.assert_allclose(rec["traces"].values, traces)
    np.testing.assert_allclose(rec["time"].values, stamps - stamps[0])
    np.testing.assert_allclose(rec["behavior_velocity"].values, velocity)
    assert rec.attrs["units"] == "dF/F" and rec.attrs["nwb_series"] == "ophys/DfOverF/traces"
    assert rec.attrs["animal"] == "m1" and rec.attrs["citation"] == "doi:10.0000/test"


def test_nwb_fluorescence_with_rate_and_no_names(tmp_path, rng):
    traces = rng.normal(size=(30, 3)).astype(np.float32)
    rec = read_recording(write_nwb(tmp_path / "m2.nwb", traces, kind="Fluorescence", rate=4.0), animal="mouse2")
    assert list(rec["neuron"].values) == ["roi_000", "roi_001", "roi_002"]
    np.testing.assert_allclose(rec["time"].values, np.arange(30) / 4.0)
    assert rec.attrs["sampling_rate_hz"] == pytest.approx(4.0)
    assert rec.attrs["time_origin_s"] == pytest.approx(3.0)
    assert rec.attrs["animal"] == "mouse2"


# ------------------------------------------------------------------ npz / csv / netcdf round trips


def test_npz_round_trip(tmp_path, rng):
    traces = rng.normal(size=(25, 3))
    np.savez(tmp_path / "a1.npz", traces=traces, time=np.arange(25) * 0.5 + 7, neuron=np.array(["AVAL", "x", "y"]),
             behavior_velocity=np.arange(25.0), citation=np.array("me 2024"))
    rec = read_recording(tmp_path / "a1.npz")
    np.testing.assert_array_equal(rec["traces"].values, traces)
    np.testing.assert_allclose(rec["time"].values, np.arange(25) * 0.5)
    assert list(rec["neuron"].values) == ["AVAL", "x", "y"] and rec.attrs["citation"] == "me 2024"
    assert rec.attrs["sampling_rate_hz"] == pytest.approx(2.0)
    np.savez(tmp_path / "a2.npz", traces=traces)
    rec2 = read_recording(tmp_path / "a2.npz", sampling_rate_hz=5.0)
    assert list(rec2["neuron"].values) == ["roi_000", "roi_001", "roi_002"]
    np.testing.assert_allclose(rec2["time"].values, np.arange(25) / 5.0)


def test_csv_round_trip(tmp_path, rng):
    traces = rng.normal(size=(20, 2))
    table = pd.DataFrame({"time": np.arange(20) * 0.25, "AVAL": traces[:, 0], "roi_004": traces[:, 1],
                          "behavior_reversal": (np.arange(20) % 5 == 0).astype(int)})
    table.to_csv(tmp_path / "c1.csv", index=False)
    rec = read_recording(tmp_path / "c1.csv")
    np.testing.assert_allclose(rec["traces"].values, traces)
    assert list(rec["neuron"].values) == ["AVAL", "roi_004"]
    assert rec.attrs["sampling_rate_hz"] == pytest.approx(4.0)
    np.testing.assert_array_equal(rec["behavior_reversal"].values, table["behavior_reversal"].values)
    table.drop(columns="time").to_csv(tmp_path / "c2.csv", index=False)
    rec2 = read_recording(tmp_path / "c2.csv", sampling_rate_hz=4.0)
    np.testing.assert_allclose(rec2["time"].values, rec["time"].values)


def test_netcdf_round_trip_keeps_everything(tmp_path):
    recs, _ = synthetic_cohort(1, 5, 40, 2.0, random_state=3)
    rec = recs[0]
    out = write_recording(rec, tmp_path / "rec.nc")
    back = read_recording(out)
    np.testing.assert_allclose(back["traces"].values, rec["traces"].values.astype(np.float32))
    np.testing.assert_array_equal(back["time"].values, rec["time"].values)
    np.testing.assert_array_equal(back["behavior_reversal"].values, rec["behavior_reversal"].values)
    assert list(back["neuron"].values) == list(rec["neuron"].values)
    assert back.attrs["animal"] == "syn00" and back.attrs["derived_from"] == "synthetic"
    assert back.attrs["source"] == str(out)
    # explicit format beats the suffix
    renamed = tmp_path / "rec.data"
    out.rename(renamed)
    assert validate_recording(read_recording(renamed, format="netcdf")).sizes == back.sizes


def test_netcdf_fills_missing_attrs(tmp_path):
    import xarray as xr

    ds = xr.Dataset({"traces": (("neuron", "time"), np.ones((2, 5)) * np.arange(5))},
                    coords={"time": np.arange(5) * 0.1, "neuron": ["a", "b"]})
    ds.to_netcdf(tmp_path / "w9.nc", engine="h5netcdf")
    rec = read_recording(tmp_path / "w9.nc")
    assert rec["traces"].dims == ("time", "neuron")
    assert rec.attrs["animal"] == "w9" and rec.attrs["units"] == "a.u."
    assert rec.attrs["sampling_rate_hz"] == pytest.approx(10.0)


def test_nwb_picks_dff_over_fluorescence_and_honours_series(tmp_path, rng):
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation, OpticalChannel

    nwb = NWBFile(session_description="two series", identifier="two",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    plane = nwb.create_imaging_plane(name="plane", optical_channel=OpticalChannel(name="g", description="g",
                                     emission_lambda=520.0), imaging_rate=2.0, description="p",
                                     device=nwb.create_device(name="scope"), excitation_lambda=488.0,
                                     indicator="GCaMP", location="head")
    module = nwb.create_processing_module(name="ophys", description="ophys")
    seg = ImageSegmentation()
    module.add(seg)
    ps = seg.create_plane_segmentation(name="rois", description="r", imaging_plane=plane)
    ps.add_column(name="label", description="neuron")
    for name in ("AVAL", "AVAR"):
        ps.add_roi(image_mask=np.zeros((2, 2)), label=name)
    raw, dff = rng.normal(size=(2, 20, 2))
    for cls, name, data in ((Fluorescence, "raw", raw), (DfOverF, "dff", dff)):
        container = cls()
        module.add(container)
        container.create_roi_response_series(name=name, data=data, rate=2.0, unit="a.u.",
                                             rois=ps.create_roi_table_region(region=[1, 0], description="rev"))
    with NWBHDF5IO(str(tmp_path / "two.nwb"), "w") as io:
        io.write(nwb)
    rec = read_recording(tmp_path / "two.nwb")
    np.testing.assert_allclose(rec["traces"].values, dff)
    assert list(rec["neuron"].values) == ["AVAR", "AVAL"]          # the region's row order
    raw_rec = read_recording(tmp_path / "two.nwb", series="raw")
    np.testing.assert_allclose(raw_rec["traces"].values, raw)
    from neurodyn.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="field 'series'"):
        read_recording(tmp_path / "two.nwb", series="nope")
    with pytest.raises(InvalidInputError, match="field 'name_column'"):
        read_recording(tmp_path / "two.nwb", name_column="nope")
