"""suite2p reader: folders written here in suite2p's own layout and dtypes, numbers checked by hand."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from neurodyn.data import detect_format, identified_neurons, read_recording, write_recording
from neurodyn.data.readers import read_suite2p, reader_options
from neurodyn.errors import InputFileError, InvalidInputError


class _Payload:
    """Unpickling this creates a directory: proof that ops.npy was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def write_plane(folder: Path, F, Fneu, iscell, spks=None, *, ops_marker: Path | None = None) -> Path:
    """One ``plane{p}`` folder exactly as suite2p writes it (dtypes included)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "F.npy", np.asarray(F, dtype=np.float32))
    if Fneu is not None:
        np.save(folder / "Fneu.npy", np.asarray(Fneu, dtype=np.float32))
    np.save(folder / "iscell.npy", np.asarray(iscell, dtype=np.float64))
    if spks is not None:
        np.save(folder / "spks.npy", np.asarray(spks, dtype=np.float32))
    # ops.npy and stat.npy are pickles in suite2p's output; this one would leave a mark if unpickled
    marker = str(ops_marker or folder / "UNPICKLED")
    np.save(folder / "ops.npy", np.array(_Payload(marker), dtype=object), allow_pickle=True)
    np.save(folder / "stat.npy", np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    return folder


def hand_baseline(fc: np.ndarray, percentile: float, window: int) -> np.ndarray:
    """The running percentile written out: mirrored ends, sort, take rank ⌊q/100·w⌋."""
    half = window // 2
    out = np.empty_like(fc)
    for j in range(fc.shape[1]):
        padded = np.pad(fc[:, j], half, mode="symmetric")  # … b a | a b c … (scipy's 'reflect')
        for t in range(fc.shape[0]):
            out[t, j] = np.sort(padded[t:t + window])[int(percentile / 100 * window)]
    return out


F0 = np.array([
    [10, 12, 11, 15, 14, 13, 20, 10],
    [30, 31, 29, 30, 32, 30, 31, 30],   # not a cell
    [20, 22, 21, 19, 25, 24, 20, 21],
], dtype=np.float32)
FNEU0 = np.array([[5] * 8, [9] * 8, [4, 4, 4, 4, 6, 6, 6, 6]], dtype=np.float32)
ISCELL0 = np.array([[1, 0.93], [0, 0.12], [1, 0.71]])


def test_one_plane_by_hand(tmp_path):
    root = tmp_path / "m1" / "suite2p"
    spks = np.arange(24, dtype=np.float32).reshape(3, 8)
    write_plane(root / "plane0", F0, FNEU0, ISCELL0, spks)
    # fs 10 Hz, 0.5 s window -> w = 5 frames; 20th percentile -> 2nd smallest (rank int(0.2 * 5) = 1)
    rec = read_recording(root, sampling_rate_hz=10.0, baseline_window_s=0.5, baseline_percentile=20.0)
    assert list(rec["neuron"].values) == ["plane0_roi0", "plane0_roi2"]
    assert rec.attrs["animal"] == "m1" and rec.attrs["units"] == "dF/F"
    assert rec.attrs["rois_not_cells"] == 1 and rec.attrs["baseline_window_frames"] == 5
    np.testing.assert_allclose(rec["time"].values, np.arange(8) / 10.0)
    # frame 3 of ROI 0: Fc = F - 0.7 * 5 = F - 3.5; window frames 1..5: 8.5 7.5 11.5 10.5 9.5 -> F0 = 8.5
    assert rec["traces"].values[3, 0] == pytest.approx((11.5 - 8.5) / 8.5)
    # frame 0: window mirrored (F1 F0 | F0 F1 F2) = 8.5 6.5 6.5 8.5 7.5 -> F0 = 6.5, Fc = 6.5
    assert rec["traces"].values[0, 0] == pytest.approx(0.0, abs=1e-12)
    fc = (F0[[0, 2]].astype(float) - 0.7 * FNEU0[[0, 2]].astype(float)).T
    base = hand_baseline(fc, 20.0, 5)
    np.testing.assert_allclose(rec["traces"].values, (fc - base) / base, rtol=1e-12)
    np.testing.assert_array_equal(rec["deconvolved"].values, spks[[0, 2]].T)
    np.testing.assert_array_equal(rec["roi_index"].values, [0, 2])
    np.testing.assert_allclose(rec["cell_probability"].values, [0.93, 0.71])
    assert identified_neurons(rec) == []
    assert not (root / "plane0" / "UNPICKLED").exists()


def test_neuropil_coefficient_is_configurable(tmp_path):
    write_plane(tmp_path / "plane0", F0, FNEU0, ISCELL0)
    rec = read_recording(tmp_path / "plane0", format="suite2p", sampling_rate_hz=10.0, baseline_window_s=0.5,
                         baseline_percentile=20.0, neuropil_coefficient=0.0)
    fc = F0[[0, 2]].astype(float).T
    base = hand_baseline(fc, 20.0, 5)
    np.testing.assert_allclose(rec["traces"].values, (fc - base) / base, rtol=1e-12)
    # ROI 0 frame 3 without neuropil: window 12 11 15 14 13 -> F0 = 12
    assert rec["traces"].values[3, 0] == pytest.approx(3 / 12)
    assert "deconvolved" not in rec


def test_default_baseline_is_8th_percentile_over_60_s(tmp_path, rng):
    n = 1200
    F = 100 + rng.normal(0, 1, size=(2, n)).cumsum(axis=1) * 0.1 + rng.exponential(5, size=(2, n))
    write_plane(tmp_path / "suite2p" / "plane0", F, np.full((2, n), 20.0), np.ones((2, 2)))
    rec = read_suite2p(tmp_path, sampling_rate_hz=5.0)
    assert rec.attrs["baseline_window_frames"] == 301 and rec.attrs["baseline_percentile"] == 8.0
    fc = F.T.astype(np.float32).astype(float) - 0.7 * 20.0
    base = hand_baseline(fc[:400], 8.0, 301)[:250]  # frames whose window lies inside the first 400
    np.testing.assert_allclose(rec["traces"].values[:250], (fc[:250] - base) / base, rtol=1e-10)


def test_planes_are_merged_in_order_and_cut_to_the_shortest(tmp_path, rng, caplog):
    root = tmp_path / "suite2p"
    F1 = 50 + rng.random((2, 31))
    F0_ = 50 + rng.random((3, 30))
    write_plane(root / "plane1", F1, np.zeros((2, 31)), np.array([[1, 0.9], [1, 0.8]]), np.ones((2, 31)))
    write_plane(root / "plane0", F0_, np.zeros((3, 30)), np.array([[0, 0.1], [1, 0.9], [1, 0.6]]),
                np.ones((3, 30)))
    (root / "combined").mkdir()  # suite2p's merged copy of the planes: not read (it would double every ROI)
    with caplog.at_level(logging.WARNING, logger="neurodyn.data"):
        rec = read_recording(root, sampling_rate_hz=3.0, baseline_window_s=2.0)
    assert list(rec["neuron"].values) == ["plane0_roi1", "plane0_roi2", "plane1_roi0", "plane1_roi1"]
    assert rec.sizes["time"] == 30 and rec.attrs["frames_dropped"] == 1 and "cut to the shortest" in caplog.text
    np.testing.assert_array_equal(rec["plane"].values, [0, 0, 1, 1])
    assert rec.attrs["planes"] == "0,1" and rec.attrs["rois_not_cells"] == 1
    assert rec["deconvolved"].shape == (30, 4)


def test_nan_rows_are_dropped_and_nan_frames_kept(tmp_path, caplog):
    F = np.tile(F0[[0, 2, 2]], 1).astype(np.float32)
    F[1] = np.nan          # an ROI without any value: dropped
    F[2, 4] = np.nan       # one missing frame: stays missing
    write_plane(tmp_path / "plane0", F, FNEU0, np.ones((3, 2)))
    with caplog.at_level(logging.WARNING, logger="neurodyn.data"):
        rec = read_recording(tmp_path / "plane0", sampling_rate_hz=10.0, baseline_window_s=0.5,
                             baseline_percentile=20.0)
    assert list(rec["neuron"].values) == ["plane0_roi0", "plane0_roi2"]
    assert rec.attrs["rois_dropped_nan"] == "plane0_roi1" and "plane0_roi1" in caplog.text
    trace = rec["traces"].values[:, 1]
    assert np.isnan(trace[4]) and np.isfinite(np.delete(trace, 4)).all()
    # the baseline bridges the gap linearly: frame 4's Fc for the baseline = mean of frames 3 and 5
    fc = F[2].astype(float) - 0.7 * FNEU0[2].astype(float)
    fc[4] = (fc[3] + fc[5]) / 2
    base = hand_baseline(fc[:, None], 20.0, 5)[:, 0]
    np.testing.assert_allclose(np.delete(trace, 4), np.delete((fc - base) / base, 4), rtol=1e-12)


def test_roi_with_non_positive_baseline_is_dropped(tmp_path):
    F = F0.copy()
    Fneu = FNEU0.copy()
    Fneu[2] = 40.0  # 0.7 * 40 = 28 > F: neuropil-corrected trace below 0, no ΔF/F
    write_plane(tmp_path / "plane0", F, Fneu, ISCELL0)
    rec = read_recording(tmp_path / "plane0", sampling_rate_hz=10.0)
    assert list(rec["neuron"].values) == ["plane0_roi0"] and rec.attrs["rois_dropped_baseline"] == "plane0_roi2"


def test_missing_fneu_names_the_file(tmp_path):
    write_plane(tmp_path / "suite2p" / "plane0", F0, None, ISCELL0)
    with pytest.raises(InputFileError) as info:
        read_recording(tmp_path / "suite2p", sampling_rate_hz=10.0)
    assert str(tmp_path / "suite2p" / "plane0" / "Fneu.npy") in str(info.value)
    assert "missing" in str(info.value)


def test_missing_rate_says_ops_is_never_unpickled(tmp_path):
    marker = tmp_path / "UNPICKLED"
    write_plane(tmp_path / "suite2p" / "plane0", F0, FNEU0, ISCELL0, ops_marker=marker)
    with pytest.raises(InvalidInputError) as info:
        read_recording(tmp_path / "suite2p")
    message = str(info.value)
    assert info.value.field == "sampling_rate_hz" and "ops.npy" in message and "unpickle" in message
    assert str(tmp_path / "suite2p") in message
    assert not marker.exists()
    with pytest.raises(InvalidInputError, match="field 'sampling_rate_hz'"):
        read_recording(tmp_path / "suite2p", sampling_rate_hz=0.0)
    with pytest.raises(InvalidInputError, match="field 'baseline_percentile'"):
        read_recording(tmp_path / "suite2p", sampling_rate_hz=1.0, baseline_percentile=100.0)


def test_bad_files_in_a_plane(tmp_path):
    plane = write_plane(tmp_path / "plane0", F0, FNEU0, ISCELL0)
    np.save(plane / "iscell.npy", np.ones((2, 2)))
    with pytest.raises(InvalidInputError) as info:
        read_recording(plane, sampling_rate_hz=1.0)
    assert str(plane / "iscell.npy") in str(info.value) and "(3, 2)" in str(info.value)
    write_plane(plane, F0, FNEU0[:, :5], ISCELL0)
    with pytest.raises(InvalidInputError, match="Fneu.npy: field 'Fneu'"):
        read_recording(plane, sampling_rate_hz=1.0)
    marker = tmp_path / "FROM_F"
    np.save(plane / "F.npy", np.array([_Payload(str(marker))] * 3, dtype=object), allow_pickle=True)
    with pytest.raises(InputFileError, match="F.npy"):
        read_recording(plane, sampling_rate_hz=1.0)
    assert not marker.exists()
    (plane / "F.npy").write_bytes(b"\x93NUMPY cut")
    with pytest.raises(InputFileError, match="F.npy"):
        read_recording(plane, sampling_rate_hz=1.0)


def test_folder_detection_and_animal_names(tmp_path):
    write_plane(tmp_path / "mouse7" / "suite2p" / "plane0", F0, FNEU0, ISCELL0)
    for path in (tmp_path / "mouse7", tmp_path / "mouse7" / "suite2p", tmp_path / "mouse7" / "suite2p" / "plane0"):
        assert detect_format(path) == "suite2p"
        assert read_recording(path, sampling_rate_hz=10.0).attrs["animal"] == "mouse7"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="field 'format'") as info:
        read_recording(tmp_path / "empty")
    assert "plane" in str(info.value)
    with pytest.raises(InputFileError, match="not a folder"):
        read_recording(tmp_path / "mouse7" / "suite2p" / "plane0" / "F.npy", format="suite2p", sampling_rate_hz=1.0)


def test_round_trip_through_netcdf_and_dataset_options(tmp_path):
    write_plane(tmp_path / "m2" / "suite2p" / "plane0", F0, FNEU0, ISCELL0, np.ones((3, 8)))
    dataset = {"reader": "suite2p", "files": ["m2"], "min_animals": 1, "sampling_rate_hz": 10.0,
               "neuropil_coefficient": 0.5, "baseline_percentile": 20.0, "baseline_window_s": 0.5,
               "trace": "C+YrA"}
    options = reader_options("suite2p", dataset)
    assert options == {"sampling_rate_hz": 10.0, "neuropil_coefficient": 0.5, "baseline_percentile": 20.0,
                       "baseline_window_s": 0.5}
    rec = read_recording(tmp_path / "m2", **options)
    back = read_recording(write_recording(rec, tmp_path / "m2.nc"))
    np.testing.assert_allclose(back["traces"].values, rec["traces"].values, rtol=1e-6)
    np.testing.assert_array_equal(back["deconvolved"].values, 1.0)
    assert list(back["neuron"].values) == ["plane0_roi0", "plane0_roi2"] and back.attrs["neuropil_coefficient"] == 0.5
