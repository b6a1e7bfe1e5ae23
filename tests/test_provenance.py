"""Provenance of results: what :func:`neurodyn.io.provenance` records, the CSV sidecar,
the attrs every NetCDF gets, and the git state (commit, dirty flag, absent outside git)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurodyn import __version__
from neurodyn import io as nio

REPO = Path(__file__).resolve().parents[1]
VERSION_KEYS = ("numpy_version", "scipy_version", "tensorly_version", "scikit_learn_version", "xarray_version",
                "snakemake_version", "python_version")


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_provenance_records_versions_seed_and_config():
    prov = nio.provenance(random_state=np.int64(7), config={"rank": 3, "ranks": np.arange(2)})
    assert prov["neurodyn_version"] == __version__
    for key in VERSION_KEYS:
        assert isinstance(prov[key], str) and prov[key][0].isdigit(), key
    assert prov["seed"] == 7 and isinstance(prov["seed"], int)
    assert prov["config_hash"] == nio.config_hash({"ranks": [0, 1], "rank": 3})
    assert json.loads(prov["config_json"]) == {"rank": 3, "ranks": [0, 1]}
    # NetCDF attrs take strings and numbers only
    assert all(isinstance(v, (str, int)) for v in prov.values())


def test_git_state_commit_and_dirty_flag(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-q", "-m", "one")
    commit = _git(repo, "rev-parse", "HEAD")
    nio.git_state.cache_clear()
    assert nio.git_state(repo) == {"git_commit": commit, "git_dirty": 0}
    (repo / "a.py").write_text("x = 2\n")
    nio.git_state.cache_clear()
    assert nio.git_state(repo) == {"git_commit": commit, "git_dirty": 1}
    nio.git_state.cache_clear()


def test_git_state_is_absent_outside_a_checkout_and_without_git(tmp_path, monkeypatch):
    nio.git_state.cache_clear()
    assert nio.git_state(tmp_path) == {}

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(nio.subprocess, "run", no_git)
    nio.git_state.cache_clear()
    assert nio.git_state(REPO) == {}
    nio.git_state.cache_clear()


def test_the_library_checkout_is_recorded_when_it_is_one():
    nio.git_state.cache_clear()
    inside = subprocess.run(["git", "-C", str(Path(nio.__file__).parent), "rev-parse", "HEAD"], capture_output=True,
                            text=True)
    prov = nio.provenance()
    if inside.returncode == 0:
        assert prov["git_commit"] == inside.stdout.strip() and prov["git_dirty"] in (0, 1)
    else:
        assert "git_commit" not in prov


def test_write_csv_writes_a_sidecar_atomically(tmp_path):
    path = tmp_path / "t.csv"
    nio.write_csv(pd.DataFrame({"a": [1, 2]}), path, provenance=nio.rule_provenance(
        {"random_state": 3, "version": "0.1.0+abc", "rank": {"ranks": [1, 2]}, "fn": len}))
    side = tmp_path / "t.csv.provenance.json"
    assert nio.sidecar_path(path) == side and side.is_file()
    prov = json.loads(side.read_text())
    assert prov["seed"] == 3 and prov["code_version"] == "0.1.0+abc" and "numpy_version" in prov
    assert nio.read_provenance(path) == prov == nio.read_provenance(side)
    assert pd.read_csv(path)["a"].tolist() == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.provenance.json"]
    # without a step's provenance the sidecar still says which code and versions wrote it
    nio.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "u.csv")
    assert {"neurodyn_version", *VERSION_KEYS} <= set(nio.read_provenance(tmp_path / "u.csv"))
    assert nio.read_provenance(tmp_path / "none.csv") == {}


def test_write_netcdf_stamps_provenance_and_keeps_the_result_alone(tmp_path):
    ds = xr.Dataset({"v": ("i", np.arange(3.0))}, attrs={"seed": 11, "method": "x", "numpy_version": "0.0"})
    nio.write_netcdf(ds, tmp_path / "r.nc", provenance={"code_version": "v", "config_hash": "h", "seed": 5})
    assert ds.attrs == {"seed": 11, "method": "x", "numpy_version": "0.0"}  # not changed
    prov = nio.read_provenance(tmp_path / "r.nc")
    assert prov["method"] == "x" and prov["code_version"] == "v" and prov["config_hash"] == "h"
    assert prov["seed"] == 5  # the writer's record wins
    assert prov["numpy_version"] == np.__version__  # what wrote the file, not what an input said
    assert prov["neurodyn_version"] == __version__


@pytest.mark.parametrize("params, seed", [({"random_state": 4}, 4), ({"seed": 9}, 9), ({"rank": 2}, None)])
def test_rule_provenance_finds_the_seed(params, seed):
    prov = nio.rule_provenance(params)
    assert prov.get("seed") == seed
    assert prov["config_hash"] == nio.config_hash(params)
