"""The ``neurodyn`` command line: ``inspect`` summarises a recording, ``info`` the install.

Run both in-process (``neurodyn.cli.main``) and as ``python -m neurodyn`` in a
subprocess, on the bundled worm, on a file written here with known content, and on bad
files (exit status 1, one-line message naming the file, no traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurodyn import __version__
from neurodyn.cli import main

REPO = Path(__file__).resolve().parents[1]
WORM = REPO / "data" / "flavell2023" / "2022-07-27-31.nc"


def _python_m(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "neurodyn", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture
def known_npz(tmp_path) -> Path:
    """3 neurons (2 named), 50 frames at 10 Hz, 3 missing samples, one behaviour."""
    traces = np.random.default_rng(0).normal(size=(50, 3))
    traces[[4, 5, 9], [0, 0, 2]] = np.nan
    path = tmp_path / "mouse1.npz"
    np.savez(path, traces=traces, time=np.arange(50) / 10.0, neuron=np.array(["AVAL", "roi_001", "RIML"]),
             behavior_speed=np.ones(50))
    return path


def test_inspect_the_bundled_worm_in_process(capsys):
    assert main(["inspect", str(WORM), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # data/README.md: 800 volumes at ~1.67 Hz, 145 ROIs of which 103 carry NeuroPAL names
    assert summary["neurons"] == 145 and summary["identified_neurons"] == 103
    assert summary["frames"] == 800
    assert summary["sampling_rate_hz"] == pytest.approx(1.67, abs=0.01)
    assert summary["duration_s"] == pytest.approx(799 / summary["sampling_rate_hz"], rel=0.01)
    assert {"velocity", "reversal"} <= set(summary["behaviour"])
    assert summary["nan_fraction"] == 0.0


def test_inspect_known_content_exact_numbers(known_npz, capsys):
    assert main(["inspect", str(known_npz), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["neurons"] == 3 and summary["identified_neurons"] == 2
    assert summary["frames"] == 50
    assert summary["duration_s"] == pytest.approx(4.9)
    assert summary["sampling_rate_hz"] == pytest.approx(10.0)
    assert summary["behaviour"] == ["speed"]
    assert summary["nan_fraction"] == pytest.approx(3 / 150)


def test_inspect_text_output_and_explicit_reader(known_npz, tmp_path, capsys):
    renamed = tmp_path / "mouse1.data"  # a suffix the reader layer cannot guess from
    renamed.write_bytes(known_npz.read_bytes())
    assert main(["inspect", str(renamed)]) == 1
    assert "mouse1.data" in capsys.readouterr().err
    assert main(["inspect", str(renamed), "--reader", "npz"]) == 0
    out = capsys.readouterr().out
    for line in ("neurons            3", "identified neurons 2", "duration           4.9 s (50 frames)",
                 "sampling rate      10 Hz", "behaviour          speed", "NaN fraction       0.0200"):
        assert line in out, out


def test_python_m_inspect_subprocess():
    out = _python_m("inspect", str(WORM))
    assert out.returncode == 0, out.stderr
    assert "identified neurons 103" in out.stdout
    assert "reversal" in out.stdout


@pytest.mark.parametrize("content, name", [
    (b"\x89HDF\r\n\x1a\n truncated", "broken.nc"),
    (b"not,a\n1,2,3\n", "ragged.csv"),
])
def test_bad_files_exit_1_with_a_message_naming_the_file(tmp_path, content, name):
    bad = tmp_path / name
    bad.write_bytes(content)
    out = _python_m("inspect", str(bad))
    assert out.returncode == 1
    assert name in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith("neurodyn inspect: error:")


def test_missing_file_and_unknown_reader(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.nc")]) == 1
    assert "nope.nc" in capsys.readouterr().err
    assert main(["inspect", str(WORM), "--reader", "matlab"]) == 1
    assert "matlab" in capsys.readouterr().err


def test_usage_error_exits_2():
    out = _python_m("inspect")
    assert out.returncode == 2
    assert "usage: neurodyn inspect" in out.stderr


def test_info_in_process_and_subprocess(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["neurodyn"] == __version__
    assert info["numpy"] == np.__version__
    try:
        import torch
    except ImportError:
        assert info["torch"] is None and info["cuda"] is False
    else:
        assert info["torch"] == torch.__version__
        assert info["cuda"] == torch.cuda.is_available()
    out = _python_m("info")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"neurodyn  {__version__}")
    assert "cuda" in out.stdout


def test_inspect_a_result_prints_its_provenance(tmp_path, capsys):
    import pandas as pd
    import xarray as xr

    from neurodyn.io import write_csv, write_netcdf

    nc = tmp_path / "ntf.nc"
    write_netcdf(xr.Dataset({"pair_factor": (("pair", "component"), np.ones((3, 2)))}), nc,
                 provenance={"code_version": "0.1.0+abc", "config_hash": "cafe", "seed": 12})
    assert main(["inspect", str(nc)]) == 0
    out = capsys.readouterr().out
    assert "dimensions         pair=3, component=2" in out and "variables          pair_factor" in out
    for text in ("code_version         0.1.0+abc", "config_hash          cafe", "seed                 12",
                 f"neurodyn_version     {__version__}", f"numpy_version        {np.__version__}", "xarray_version"):
        assert text in out, text
    csv = tmp_path / "table.csv"
    write_csv(pd.DataFrame({"rank": [1, 2], "error": [0.5, 0.4]}), csv, provenance={"config_hash": "beef"})
    assert main(["inspect", "--json", str(csv)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 2 and summary["columns"] == ["rank", "error"]
    assert summary["provenance"]["config_hash"] == "beef" and "config_json" not in summary["provenance"]


def test_inspect_a_written_recording_prints_its_provenance_too(known_npz, tmp_path, capsys):
    from neurodyn.data import read_recording, write_recording

    path = tmp_path / "mouse1.nc"
    write_recording(read_recording(known_npz), path)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "neurons            3" in out and "provenance" in out and "numpy_version" in out
