"""Every new format read without naming its reader: the library call and `neurodyn inspect FILE`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurodyn.data import identified_neurons, read_recording
from neurodyn.errors import InvalidInputError
from test_data_readers import write_flavell_like
from test_readers_caiman import write_caiman
from test_readers_suite2p import F0, FNEU0, ISCELL0, write_plane


@pytest.fixture
def new_formats(tmp_path):
    rng = np.random.default_rng(0)
    write_plane(tmp_path / "m1" / "suite2p" / "plane0", F0, FNEU0, ISCELL0)
    write_plane(tmp_path / "m1" / "suite2p" / "plane1", F0[:1], FNEU0[:1], ISCELL0[:1])
    caiman = write_caiman(tmp_path / "session1.hdf5", 1 + rng.random((4, 30)), rng.normal(0, 0.1, (4, 30)),
                          idx_components=[1, 2], fr=7.5)
    stamps = np.cumsum(rng.uniform(0.55, 0.65, 70))
    worm = write_flavell_like(tmp_path / "w3-data.h5", n_time=50, n_roi=4, **{
        "timing/timestamp_confocal": stamps, "gcamp/idx_splits": np.arange(1, 51)[None, :],
        "behavior/body_angle": rng.normal(size=50)})
    return {"suite2p": tmp_path / "m1", "caiman": caiman, "flavell_h5": worm}


def test_every_new_format_reads_without_naming_its_reader(new_formats):
    rec = read_recording(new_formats["suite2p"], sampling_rate_hz=10.0)
    assert rec.sizes == {"time": 8, "neuron": 3} and rec.attrs["reader"] == "suite2p"
    assert list(rec["neuron"].values) == ["plane0_roi0", "plane0_roi2", "plane1_roi0"]
    rec = read_recording(new_formats["caiman"])
    assert rec.sizes == {"time": 30, "neuron": 2} and rec.attrs["sampling_rate_hz"] == 7.5
    rec = read_recording(new_formats["flavell_h5"])
    assert rec.sizes["time"] == 50 and rec.attrs["timestamps_dropped"] == 20 and identified_neurons(rec) == []
    for path in new_formats.values():
        assert "time" in read_recording(path, **({"sampling_rate_hz": 10.0} if path.is_dir() else {})).coords


def test_suite2p_without_rate_says_how_to_give_it(new_formats):
    with pytest.raises(InvalidInputError, match="ops.npy") as info:
        read_recording(new_formats["suite2p"])
    assert info.value.field == "sampling_rate_hz"


# --------------------------------------------------------------------------- the command line


def test_inspect_command_on_every_new_format(new_formats, capsys):
    from neurodyn.cli import main

    expected = {"suite2p": (3, 8, 10.0), "caiman": (2, 30, 7.5), "flavell_h5": (4, 50, None)}
    for name, path in new_formats.items():
        rate = ["--sampling-rate-hz", "10"] if name == "suite2p" else []
        for reader in ([], ["--reader", name]):
            assert main(["inspect", str(path), "--json", *rate, *reader]) == 0, capsys.readouterr().err
            summary = json.loads(capsys.readouterr().out)
            neurons, frames, fs = expected[name]
            assert (summary["neurons"], summary["frames"], summary["identified_neurons"]) == (neurons, frames, 0)
            if fs is not None:
                assert summary["sampling_rate_hz"] == fs
    # a suite2p folder without a rate: exit 1, one line naming the folder, the field and ops.npy
    assert main(["inspect", str(new_formats["suite2p"])]) == 1
    err = capsys.readouterr().err
    assert str(new_formats["suite2p"]) in err and "sampling_rate_hz" in err and "ops.npy" in err
    assert len(err.strip().splitlines()) == 1
