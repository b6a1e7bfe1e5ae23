"""Every bad input named in the data-layer contract: error type, file and field in the message,
and nothing half-written left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurodyn.data import build_cohort, load_cohort, make_recording, read_recording, synthetic_cohort, write_recording
from neurodyn.errors import InputFileError, InvalidInputError
from test_data_readers import BUNDLED, write_flavell_like, write_labels


def raises(exc_type, path, field=None):
    """pytest.raises that also checks the message names ``path`` (and ``field``)."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            if not handled:  # another exception type: let it propagate
                return False
            message = str(self.info.value)
            assert str(path) in message, message
            if field is not None:
                assert f"field '{field}'" in message, message
                assert self.info.value.field == field
            return handled

    return _Check()


# ------------------------------------------------------------------ files


@pytest.mark.parametrize("suffix", [".h5", ".nwb", ".npz", ".csv", ".nc"])
def test_missing_file(tmp_path, suffix):
    path = tmp_path / f"absent{suffix}"
    with raises(InputFileError, path) as info:
        read_recording(path)
    assert "not found" in str(info.value)
    assert isinstance(info.value, OSError)


def test_missing_directory_given_as_file(tmp_path):
    (tmp_path / "d.nc").mkdir()
    with raises(InputFileError, tmp_path / "d.nc"):
        read_recording(tmp_path / "d.nc")


def test_unknown_format(tmp_path):
    path = tmp_path / "x.mat"
    path.write_text("x")
    with raises(InvalidInputError, path, "format") as info:
        read_recording(path)
    assert ".mat" in str(info.value) and "flavell_h5" in str(info.value)
    with raises(InvalidInputError, path, "format") as info:
        read_recording(path, format="matlab")
    assert "'matlab'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_option_the_reader_does_not_take(tmp_path):
    np.savez(tmp_path / "a.npz", traces=np.zeros((3, 1)), time=np.arange(3.0))
    with raises(InvalidInputError, tmp_path / "a.npz", "labels") as info:
        read_recording(tmp_path / "a.npz", labels="neuropal_labels.json")
    assert "sampling_rate_hz" in str(info.value)


def test_non_hdf5_file(tmp_path):
    path = tmp_path / "w-data.h5"
    path.write_text("this is not HDF5\n" * 20)
    with raises(InputFileError, path) as info:
        read_recording(path)
    assert "HDF5" in str(info.value)


def test_truncated_hdf5(tmp_path, shared_data_or_tiny):
    full = shared_data_or_tiny
    path = tmp_path / "cut-data.h5"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with raises(InputFileError, path):
        read_recording(path)


@pytest.fixture
def shared_data_or_tiny(tmp_path):
    """A real published HDF5 when available, else a tiny one in the same layout."""
    from conftest import SHARED_DATA

    real = SHARED_DATA / "flavell2023" / "recordings" / "2022-07-27-31-data.h5"
    if real.is_file():
        return real
    return write_flavell_like(tmp_path / "tiny-data.h5", n_time=400, n_roi=50)


def test_truncated_netcdf(tmp_path):
    src = BUNDLED / "2022-07-27-31.nc"
    path = tmp_path / "cut.nc"
    path.write_bytes(src.read_bytes()[: src.stat().st_size // 3])
    with raises(InputFileError, path):
        read_recording(path)


@pytest.mark.parametrize("suffix, content", [(".nwb", b"garbage" * 100), (".npz", b"PK\x03\x04broken"),
                                             (".csv", b""), (".nc", b"CDF\x01 not really")])
def test_unreadable_containers(tmp_path, suffix, content):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with raises(InputFileError, path):
        read_recording(path)


def test_hdf5_missing_dataset(tmp_path):
    path = write_flavell_like(tmp_path / "w-data.h5", **{"timing/timestamp_confocal": None})
    with raises(InputFileError, path, "timing/timestamp_confocal"):
        read_recording(path)


# ------------------------------------------------------------------ shapes


def test_traces_wrong_shape_hdf5(tmp_path):
    path = write_flavell_like(tmp_path / "w-data.h5", **{"gcamp/trace_array": np.zeros(40)})
    with raises(InvalidInputError, path, "gcamp/trace_array") as info:
        read_recording(path)
    assert "(time, neuron)" in str(info.value)


def test_fewer_time_stamps_than_trace_rows(tmp_path):
    # more stamps than rows is a published variant (read: test_readers_flavell_variants.py); fewer is refused
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"gcamp/trace_array": np.ones((41, 5))})
    with raises(InvalidInputError, path, "timing/timestamp_confocal") as info:
        read_recording(path)
    assert "40 time stamps for 41 trace rows" in str(info.value)


def test_behaviour_on_another_clock(tmp_path):
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"behavior/velocity": np.zeros(41)})
    with raises(InvalidInputError, path, "behavior/velocity"):
        read_recording(path)


def test_traces_wrong_shape_npz_and_csv(tmp_path):
    np.savez(tmp_path / "a.npz", traces=np.zeros((4, 5, 6)), time=np.arange(4.0))
    with raises(InvalidInputError, tmp_path / "a.npz", "traces"):
        read_recording(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", traces=np.zeros((4, 2)), neuron=np.array(["a", "b", "c"]), time=np.arange(4.0))
    with raises(InvalidInputError, tmp_path / "b.npz", "neuron"):
        read_recording(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", time=np.arange(4.0))
    with raises(InvalidInputError, tmp_path / "c.npz", "traces"):
        read_recording(tmp_path / "c.npz")
    pd.DataFrame({"time": [0, 1, 2], "AVAL": ["a", "b", "c"]}).to_csv(tmp_path / "d.csv", index=False)
    with raises(InvalidInputError, tmp_path / "d.csv", "AVAL"):
        read_recording(tmp_path / "d.csv")


def test_traces_wrong_shape_in_memory():
    with pytest.raises(InvalidInputError, match="field 'traces'"):
        make_recording(np.zeros(5), np.arange(5.0), ["a"], animal="x", source="mem.npz")
    with pytest.raises(InvalidInputError, match="mem.npz: field 'time'"):
        make_recording(np.zeros((5, 1)), np.arange(4.0), ["a"], animal="x", source="mem.npz")


def test_netcdf_with_wrong_dims(tmp_path):
    ds = xr.Dataset({"traces": (("frame", "cell"), np.zeros((3, 2)))})
    ds.to_netcdf(tmp_path / "w.nc", engine="h5netcdf")
    with raises(InvalidInputError, tmp_path / "w.nc", "traces") as info:
        read_recording(tmp_path / "w.nc")
    assert "('frame', 'cell')" in str(info.value)


# ------------------------------------------------------------------ time axis


@pytest.mark.parametrize("bad", ["repeat", "backwards", "nan"])
def test_time_not_increasing_hdf5(tmp_path, bad):
    stamps = 100 + np.arange(40) * 0.6
    if bad == "repeat":
        stamps[10] = stamps[9]
    elif bad == "backwards":
        stamps[20] = stamps[5]
    else:
        stamps[3] = np.nan
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"timing/timestamp_confocal": stamps})
    with raises(InvalidInputError, path, "timing/timestamp_confocal"):
        read_recording(path)


def test_time_not_increasing_csv_npz_netcdf(tmp_path):
    pd.DataFrame({"time": [0.0, 0.5, 0.4], "AVAL": [1.0, 2, 3]}).to_csv(tmp_path / "t.csv", index=False)
    with raises(InvalidInputError, tmp_path / "t.csv", "time") as info:
        read_recording(tmp_path / "t.csv")
    assert "index 1" in str(info.value)
    np.savez(tmp_path / "t.npz", traces=np.zeros((3, 1)), time=np.array([0.0, 1.0, 1.0]))
    with raises(InvalidInputError, tmp_path / "t.npz", "time"):
        read_recording(tmp_path / "t.npz")
    xr.Dataset({"traces": (("time", "neuron"), np.ones((3, 1)))},
               coords={"time": [0.0, 2.0, 1.0], "neuron": ["a"]}).to_netcdf(tmp_path / "t.nc", engine="h5netcdf")
    with raises(InvalidInputError, tmp_path / "t.nc", "time"):
        read_recording(tmp_path / "t.nc")


def test_no_time_axis_and_no_rate(tmp_path):
    np.savez(tmp_path / "r.npz", traces=np.zeros((3, 1)))
    with raises(InvalidInputError, tmp_path / "r.npz", "time") as info:
        read_recording(tmp_path / "r.npz")
    assert "sampling_rate_hz" in str(info.value)
    with raises(InvalidInputError, tmp_path / "r.npz", "sampling_rate_hz"):
        read_recording(tmp_path / "r.npz", sampling_rate_hz=-1.0)


# ------------------------------------------------------------------ all-NaN neurons


def test_all_nan_neuron_hdf5(tmp_path):
    traces = np.random.default_rng(0).normal(size=(40, 5))
    traces[:, 2] = np.nan
    path = write_flavell_like(tmp_path / "w-data.h5", n_time=40, **{"gcamp/trace_array": traces})
    with raises(InvalidInputError, path, "gcamp/trace_array") as info:
        read_recording(path)
    assert "columns [2]" in str(info.value)


def test_all_nan_neuron_csv_and_netcdf(tmp_path):
    pd.DataFrame({"time": [0.0, 1, 2], "AVAL": [1.0, 2, 3], "RIML": [np.nan] * 3}).to_csv(tmp_path / "n.csv",
                                                                                           index=False)
    with raises(InvalidInputError, tmp_path / "n.csv", "traces"):
        read_recording(tmp_path / "n.csv")
    xr.Dataset({"traces": (("time", "neuron"), np.array([[1.0, np.nan], [2.0, np.nan]]))},
               coords={"time": [0.0, 1.0], "neuron": ["a", "b"]}).to_netcdf(tmp_path / "n.nc", engine="h5netcdf")
    with raises(InvalidInputError, tmp_path / "n.nc", "traces") as info:
        read_recording(tmp_path / "n.nc")
    assert "['b']" in str(info.value)


# ------------------------------------------------------------------ labels


def test_labels_name_columns_that_do_not_exist(tmp_path):
    h5 = write_flavell_like(tmp_path / "w1-data.h5", n_roi=6)
    labels = write_labels(tmp_path / "labels.json", {"w1": [{"trace_column": 0, "label": "AVAL", "confidence": 3},
                                                            {"trace_column": 6, "label": "AVAR", "confidence": 3}]})
    with raises(InvalidInputError, labels, "w1[1].trace_column") as info:
        read_recording(h5, labels=labels)
    assert "names column 6" in str(info.value) and str(h5) in str(info.value) and "0..5" in str(info.value)
    write_labels(labels, {"w1": [{"trace_column": -1, "label": "AVAL"}]})
    with raises(InvalidInputError, labels, "w1[0].trace_column"):
        read_recording(h5, labels=labels)
    write_labels(labels, {"w1": [{"trace_column": "3", "label": "AVAL"}]})
    with raises(InvalidInputError, labels, "w1[0].trace_column"):
        read_recording(h5, labels=labels)


def test_labels_file_problems(tmp_path):
    h5 = write_flavell_like(tmp_path / "w1-data.h5", n_roi=6)
    with raises(InputFileError, tmp_path / "nope.json"):
        read_recording(h5, labels=tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with raises(InputFileError, bad):
        read_recording(h5, labels=bad)
    other = write_labels(tmp_path / "other.json", {"w2": []})
    with raises(InvalidInputError, other, "w1"):
        read_recording(h5, labels=other)
    missing_key = write_labels(tmp_path / "mk.json", {"w1": [{"label": "AVAL"}]})
    with raises(InvalidInputError, missing_key, "w1[0]"):
        read_recording(h5, labels=missing_key)
    bad_conf = write_labels(tmp_path / "bc.json", {"w1": [{"trace_column": 1, "label": "AVAL", "confidence": "hi"}]})
    with raises(InvalidInputError, bad_conf, "w1[0].confidence"):
        read_recording(h5, labels=bad_conf)
    roi_label = write_labels(tmp_path / "rl.json", {"w1": [{"trace_column": 1, "label": "roi_001"}]})
    with raises(InvalidInputError, roi_label, "w1[0].label"):
        read_recording(h5, labels=roi_label)


# ------------------------------------------------------------------ nothing half-written


def test_failing_write_leaves_nothing(tmp_path, monkeypatch):
    recs, _ = synthetic_cohort(1, 3, 20, 2.0, random_state=0)
    target = tmp_path / "out" / "rec.nc"

    def broken(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        write_recording(recs[0], target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_invalid_recording_is_never_written(tmp_path):
    recs, _ = synthetic_cohort(1, 3, 20, 2.0, random_state=0)
    bad = recs[0].copy()
    bad["traces"][:, 1] = np.nan
    target = tmp_path / "rec.nc"
    with pytest.raises(InvalidInputError, match="field 'traces'"):
        write_recording(bad, target)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_replacing_an_existing_file_is_all_or_nothing(tmp_path, monkeypatch):
    recs, _ = synthetic_cohort(2, 3, 20, 2.0, random_state=0)
    target = write_recording(recs[0], tmp_path / "rec.nc")
    before = target.read_bytes()

    def broken(self, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(KeyboardInterrupt):
        write_recording(recs[1], target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.nc"]


# ------------------------------------------------------------------ cohort inputs


def test_cohort_bad_inputs(tmp_path):
    recs, _ = synthetic_cohort(2, 3, 20, 2.0, random_state=0)
    with pytest.raises(InvalidInputError, match="field 'recordings'"):
        build_cohort([])
    with pytest.raises(InvalidInputError, match="field 'min_animals'"):
        build_cohort(recs, min_animals=3)
    with pytest.raises(InvalidInputError, match="field 'min_animals'"):
        build_cohort(recs, min_animals=0)
    twin = recs[1].assign_attrs(animal=recs[0].attrs["animal"])
    with pytest.raises(InvalidInputError, match="field 'animal'"):
        build_cohort([recs[0], twin])
    with pytest.raises(InvalidInputError, match="field 'sampling_rate_hz'"):
        build_cohort(recs, sampling_rate_hz=0.0)
    with raises(InputFileError, tmp_path / "none.nc"):
        load_cohort(tmp_path / "none.nc")
    shutil.copy(BUNDLED / "2022-07-27-31.nc", tmp_path / "rec.nc")
    with raises(InvalidInputError, tmp_path / "rec.nc", "traces"):
        load_cohort(tmp_path / "rec.nc")
    (tmp_path / "junk.nc").write_text(json.dumps({"a": 1}))
    with raises(InputFileError, tmp_path / "junk.nc"):
        load_cohort(tmp_path / "junk.nc")
    h5 = h5py.File(tmp_path / "empty.nc", "w")
    h5.close()
    with raises(InvalidInputError, tmp_path / "empty.nc"):
        load_cohort(tmp_path / "empty.nc")
