"""Flavell HDF5: the shapes found across the published data set, each in a file written to that shape."""

from __future__ import annotations

import json
import logging

import h5py
import numpy as np
import pytest

from neurodyn.data import build_cohort, identified_neurons, read_recording
from neurodyn.errors import InvalidInputError
from test_data_readers import write_flavell_like, write_labels


def test_more_time_stamps_than_traced_frames(tmp_path, caplog):
    # the published example: 1600 confocal stamps for 1137 traced rows, idx_splits one column per frame
    rng = np.random.default_rng(2)
    stamps = 50.0 + np.cumsum(rng.uniform(0.55, 0.65, 1600))
    path = write_flavell_like(tmp_path / "w5-data.h5", n_time=1137, n_roi=3, **{
        "timing/timestamp_confocal": stamps,
        "gcamp/idx_splits": np.arange(1, 1138)[None, :],
    })
    with caplog.at_level(logging.WARNING, logger="neurodyn.data"):
        rec = read_recording(path)
    assert rec.sizes["time"] == 1137 and rec.attrs["timestamps_dropped"] == 463
    np.testing.assert_allclose(rec["time"].values, stamps[:1137] - stamps[0])
    assert rec.attrs["time_origin_s"] == stamps[0]
    assert "1600 time stamps for 1137 trace rows" in caplog.text and "timing/timestamp_confocal" in caplog.text
    assert json.loads(rec.attrs["segments"]) == [[0, 1136]]


def test_behaviour_on_the_stamp_clock_is_cut_with_the_stamps(tmp_path):
    rng = np.random.default_rng(3)
    stamps = np.cumsum(rng.uniform(0.5, 0.7, 50))
    velocity = rng.normal(size=50)
    path = write_flavell_like(tmp_path / "w6-data.h5", n_time=40, **{"timing/timestamp_confocal": stamps,
                                                                      "behavior/velocity": velocity})
    np.testing.assert_array_equal(read_recording(path)["behavior_velocity"].values, velocity[:40])


def test_fewer_time_stamps_than_frames_is_refused(tmp_path):
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=30, **{"gcamp/trace_array": np.ones((31, 2)),
                                                                     "behavior/velocity": None})
    with pytest.raises(InvalidInputError) as info:
        read_recording(path)
    assert info.value.field == "timing/timestamp_confocal" and str(path) in str(info.value)
    assert "30 time stamps for 31 trace rows" in str(info.value)


@pytest.mark.parametrize("splits, segments", [
    (np.array([[1], [40]]), [[0, 39]]),                                    # the usual (2, 1)
    (np.array([[1, 21], [20, 40]]), [[0, 19], [20, 39]]),                  # two traced segments
    (np.arange(1, 41)[None, :], [[0, 39]]),                                # one column per frame (1, n)
    (np.arange(1, 41), [[0, 39]]),                                         # (n,)
    (np.arange(1, 41)[:, None], [[0, 39]]),                                # (n, 1)
    (np.r_[np.ones(25), np.full(15, 2)].astype(np.int64)[None, :], [[0, 24], [25, 39]]),  # segment labels
])
def test_idx_splits_layouts(tmp_path, splits, segments):
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"gcamp/idx_splits": splits})
    assert json.loads(read_recording(path).attrs["segments"]) == segments


@pytest.mark.parametrize("splits", [np.array([[0], [40]]), np.array([[1], [41]]), np.zeros((3, 2), dtype=int),
                                    np.arange(40, 0, -1), np.array([[1.5], [40]])])
def test_bad_idx_splits(tmp_path, splits):
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"gcamp/idx_splits": splits})
    with pytest.raises(InvalidInputError) as info:
        read_recording(path)
    assert info.value.field == "gcamp/idx_splits" and str(path) in str(info.value)


def test_one_and_two_dimensional_behaviour(tmp_path):
    rng = np.random.default_rng(4)
    body_1d = rng.normal(size=40)
    path = write_flavell_like(tmp_path / "a-data.h5", n_time=40, **{"behavior/body_angle": body_1d,
                                                                     "behavior/velocity": rng.normal(size=(40, 1))})
    rec = read_recording(path)
    assert rec["behavior_body_angle"].dims == ("time",) and "body_segment" not in rec.dims
    np.testing.assert_array_equal(rec["behavior_body_angle"].values, body_1d)
    assert rec["behavior_velocity"].dims == ("time",)
    body_t = rng.normal(size=(30, 40))  # stored (segment, time)
    rec2 = read_recording(write_flavell_like(tmp_path / "b-data.h5", n_time=40, **{"behavior/body_angle": body_t}))
    assert rec2["behavior_body_angle"].dims == ("time", "body_segment")
    np.testing.assert_array_equal(rec2["behavior_body_angle"].values, body_t.T)
    # a cohort of a worm with 1-D and one with 2-D body angles keeps the scalar behaviours only
    cohort = build_cohort([rec, rec2], min_animals=1)
    assert "behavior_velocity" in cohort and "behavior_body_angle" not in cohort
    with pytest.raises(InvalidInputError, match="field 'behavior/head_angle'"):
        read_recording(write_flavell_like(tmp_path / "c-data.h5", n_time=40,
                                          **{"behavior/head_angle": np.zeros((3, 39))}))


def test_worm_without_neuropal(tmp_path):
    path = write_flavell_like(tmp_path / "w9-data.h5", n_time=40, n_roi=4)
    with h5py.File(path, "r") as fh:
        assert "neuropal_registration" not in fh
    rec = read_recording(path)
    assert list(rec["neuron"].values) == ["roi_000", "roi_001", "roi_002", "roi_003"]
    assert identified_neurons(rec) == [] and rec.attrs["labels_source"] == ""
    assert np.isnan(rec["label_confidence"].values).all()
    # a labels file that does not know this worm is an error that says how to read it without labels
    other = write_labels(tmp_path / "labels.json", {"w1": []})
    with pytest.raises(InvalidInputError, match="without labels") as info:
        read_recording(path, labels=other)
    assert info.value.field == "w9"
    # alone it forms a one-animal cohort of its ROIs
    cohort = build_cohort([rec], min_animals=1)
    assert list(cohort["neuron"].values) == [f"w9/roi_00{i}" for i in range(4)]


def test_published_files_still_read_unchanged(shared_data):
    base = shared_data / "flavell2023" / "recordings"
    for path in sorted(base.glob("*-data.h5")):
        rec = read_recording(path)
        with h5py.File(path) as fh:
            n = fh["gcamp/trace_array"].shape[0]
        assert rec.sizes["time"] == n and rec.attrs["timestamps_dropped"] == 0
        assert json.loads(rec.attrs["segments"]) == [[0, n - 1]]
