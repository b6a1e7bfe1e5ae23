"""CaImAn reader: HDF5 files written here in the layout of CaImAn's ``cnm.save()``."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.sparse

from neurodyn.data import detect_format, read_recording
from neurodyn.data.readers import reader_options
from neurodyn.errors import InputFileError, InvalidInputError

NONE = "NoneType"  # how CaImAn's save_dict_to_hdf5 stores None


def write_caiman(path: Path, C, YrA, *, S=None, idx_components=None, fr=30.0, F_dff=None, dims=(8, 8)) -> Path:
    """The groups and datasets ``cnm.save(path)`` writes (the parts a reader may touch, plus context)."""
    n_comp, n_time = np.asarray(C).shape
    rng = np.random.default_rng(1)
    A = scipy.sparse.random(dims[0] * dims[1], n_comp, density=0.2, format="csc", random_state=1)
    with h5py.File(path, "w") as fh:
        est = "estimates/"
        for key in ("data", "indices", "indptr"):
            fh[est + "A/" + key] = getattr(A, key)
        fh[est + "A/shape"] = np.array(A.shape)
        fh[est + "C"] = np.asarray(C, dtype=np.float64)
        fh[est + "YrA"] = np.asarray(YrA, dtype=np.float64)
        fh[est + "S"] = NONE if S is None else np.asarray(S, dtype=np.float64)
        fh[est + "F_dff"] = NONE if F_dff is None else np.asarray(F_dff, dtype=np.float64)
        fh[est + "idx_components"] = NONE if idx_components is None else np.asarray(idx_components, dtype=np.int64)
        fh[est + "idx_components_bad"] = NONE
        fh[est + "b"] = rng.random((dims[0] * dims[1], 1))
        fh[est + "f"] = rng.random((1, n_time))
        fh[est + "dims"] = np.array(dims)
        fh[est + "SNR_comp"] = rng.random(n_comp)
        fh[est + "r_values"] = rng.random(n_comp)
        if fr is not None:
            fh["params/data/fr"] = fr
        fh["params/data/decay_time"] = 0.4
        fh["params/data/dims"] = np.array(dims)
        fh["params/data/fnames"] = np.bytes_(["movie.tif"])
        fh["params/init/K"] = 4
        fh["params/data"].attrs["var_name_hdf5"] = "mov"    # CaImAn ≥ 1.9.9 stores strings as attrs
        fh["dims"] = np.array(dims)
        fh["dview"] = NONE
        fh["remove_very_bad_comps"] = False
    return path


@pytest.fixture
def components(rng):
    C = np.abs(rng.normal(size=(5, 60))).cumsum(axis=1) / 10
    YrA = rng.normal(0, 0.1, size=(5, 60))
    S = np.maximum(rng.normal(size=(5, 60)), 0)
    return C, YrA, S


def test_accepted_components_c_plus_yra(tmp_path, components):
    C, YrA, S = components
    path = write_caiman(tmp_path / "mouse3.hdf5", C, YrA, S=S, idx_components=[3, 0, 4], fr=15.0)
    assert detect_format(path) == "caiman"
    rec = read_recording(path)
    assert list(rec["neuron"].values) == ["roi_000", "roi_003", "roi_004"]
    np.testing.assert_array_equal(rec["component"].values, [0, 3, 4])
    np.testing.assert_allclose(rec["traces"].values, (C + YrA)[[0, 3, 4]].T, rtol=0, atol=0)
    np.testing.assert_allclose(rec["deconvolved"].values, S[[0, 3, 4]].T)
    np.testing.assert_allclose(rec["time"].values, np.arange(60) / 15.0)
    assert rec.attrs["sampling_rate_hz"] == 15.0 and rec.attrs["animal"] == "mouse3"
    assert rec.attrs["caiman_trace"] == "C+YrA" and rec.attrs["components_rejected"] == 2
    assert "Giovannucci" in rec.attrs["citation"]


def test_trace_choice_and_no_evaluation(tmp_path, components):
    C, YrA, _ = components
    dff = C / 3.0
    path = write_caiman(tmp_path / "m.hdf5", C, YrA, F_dff=dff)
    rec = read_recording(path, trace="C")
    assert rec.sizes["neuron"] == 5  # idx_components None: no evaluation ran, every component is kept
    np.testing.assert_array_equal(rec["traces"].values, C.T)
    assert "deconvolved" not in rec  # S is None
    np.testing.assert_array_equal(read_recording(path, trace="F_dff")["traces"].values, dff.T)
    with pytest.raises(InvalidInputError, match="field 'estimates/F_dff'"):
        read_recording(write_caiman(tmp_path / "n.hdf5", C, YrA), trace="F_dff")
    with pytest.raises(InvalidInputError, match="field 'trace'"):
        read_recording(path, trace="raw")


def test_frame_rate_from_the_file_or_the_config(tmp_path, components):
    C, YrA, _ = components
    path = write_caiman(tmp_path / "m.hdf5", C, YrA, fr=None)
    with pytest.raises(InvalidInputError) as info:
        read_recording(path)
    assert info.value.field == "params/data/fr" and str(path) in str(info.value)
    assert "sampling_rate_hz" in str(info.value)
    np.testing.assert_allclose(read_recording(path, sampling_rate_hz=4.0)["time"].values, np.arange(60) / 4.0)
    with pytest.raises(InvalidInputError, match="field 'sampling_rate_hz'"):
        read_recording(write_caiman(tmp_path / "f.hdf5", C, YrA, fr=30.0), sampling_rate_hz=10.0)
    options = reader_options("caiman", {"reader": "caiman", "files": ["x"], "trace": "C", "neuropil_coefficient": 0.7,
                                        "sampling_rate_hz": None})
    assert options == {"trace": "C"}


def test_bad_layouts_name_file_and_field(tmp_path, components):
    C, YrA, _ = components
    with pytest.raises(InvalidInputError, match="field 'estimates/YrA'"):
        read_recording(write_caiman(tmp_path / "a.hdf5", C, YrA[:, :50]))
    with pytest.raises(InvalidInputError, match="field 'estimates/idx_components'"):
        read_recording(write_caiman(tmp_path / "b.hdf5", C, YrA, idx_components=[0, 5]))
    path = write_caiman(tmp_path / "c.hdf5", C, YrA)
    with h5py.File(path, "a") as fh:
        del fh["estimates/C"]
        fh["estimates/C"] = NONE
    with pytest.raises(InvalidInputError, match="field 'estimates/C'"):
        read_recording(path, format="caiman")
    with h5py.File(tmp_path / "d.hdf5", "w") as fh:
        fh["something/else"] = np.zeros(3)
    with pytest.raises(InputFileError, match="field 'estimates'"):
        read_recording(tmp_path / "d.hdf5", format="caiman")
    cut = tmp_path / "e.hdf5"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputFileError, match=str(cut)):
        read_recording(cut, format="caiman")


def test_h5_suffix_is_told_apart_by_content(tmp_path, components):
    from test_data_readers import write_flavell_like

    C, YrA, _ = components
    assert detect_format(write_caiman(tmp_path / "cm.h5", C, YrA)) == "caiman"
    assert detect_format(write_flavell_like(tmp_path / "w1-data.h5")) == "flavell_h5"
    assert detect_format(write_flavell_like(tmp_path / "w2-data.hdf5")) == "flavell_h5"
