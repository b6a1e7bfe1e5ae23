"""Workflow: dry run of the whole DAG, and a real ingest → cohort → QC run in a scratch copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from neurodyn.data import identified_neurons, load_cohort, read_recording
from neurodyn.io import read_netcdf

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
WORMS = ("2022-07-27-31", "2022-08-02-31")

pytestmark = pytest.mark.workflow


def snakemake(*args, cwd=REPO, timeout=600):
    return subprocess.run([str(SNAKEMAKE), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_dry_run_of_the_full_dag():
    out = snakemake("-n", "--forceall", "--nolock", "--cores", "1", "--quiet", "rules")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for rule in ("synthesize", "ingest", "cohort", "qc_figure", "qc_table"):
        assert rule in out.stdout, f"rule {rule} is not in the default DAG:\n{out.stdout}"


@pytest.fixture(scope="module")
def scratch_run(tmp_path_factory):
    """Copy the workflow and bundled data, run ingest + cohort + QC on a small config."""
    work = tmp_path_factory.mktemp("pipeline")
    for name in ("workflow", "config", "data"):
        shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "Snakefile", work / "Snakefile")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["datasets"] = {
        "flavell2023": {"reader": "netcdf", "files": [f"data/flavell2023/{u}.nc" for u in WORMS], "min_animals": 2},
        "toy": {"reader": "synthetic", "min_animals": 2,
                "synthetic": {"generator": "calcium", "n_animals": 2, "n_neurons": 8, "n_time": 200,
                              "sampling_rate_hz": 2.0}},
    }
    config["ingest"] = {"qc_max_neurons": 40}
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ["results/tables/qc/flavell2023.csv", "results/tables/qc/toy.csv",
               f"results/figures/qc/flavell2023/{WORMS[0]}.png", "results/figures/qc/toy/toy01.png"]
    out = snakemake("--cores", "2", "--directory", str(work), *targets, cwd=work)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return work


def test_scratch_run_cohort_of_bundled_worms(scratch_run):
    cohort = load_cohort(scratch_run / "results/flavell2023/cohort.nc")
    recs = [read_recording(REPO / "data/flavell2023" / f"{u}.nc") for u in WORMS]
    shared = sorted(set(identified_neurons(recs[0])) & set(identified_neurons(recs[1])))
    assert list(cohort["animal"].values) == list(WORMS)
    assert list(cohort["neuron"].values) == shared and len(shared) == 81
    assert cohort["present"].values.all()
    assert cohort.attrs["min_animals"] == 2 and "neurodyn_version" in cohort.attrs
    assert "behavior_reversal" in cohort and "behavior_velocity" in cohort
    for uid in WORMS:
        ingested = read_recording(scratch_run / f"results/flavell2023/recordings/{uid}.nc")
        assert ingested.attrs["animal"] == uid and ingested.sizes["neuron"] == recs[WORMS.index(uid)].sizes["neuron"]


def test_scratch_run_qc_table_and_figures(scratch_run):
    table = pd.read_csv(scratch_run / "results/tables/qc/flavell2023.csv")
    assert table["animal"].tolist() == list(WORMS)
    assert table["neurons"].tolist() == [145, 130]
    assert table["identified_neurons"].tolist() == [103, 103]
    assert table["neurons_in_cohort"].tolist() == [81, 81]
    np.testing.assert_allclose(table["sampling_rate_hz"], 1.6666, atol=1e-3)
    np.testing.assert_allclose(table["duration_s"], 480.6, atol=0.1)
    assert (table["nan_fraction"] == 0).all()
    assert table["source"].tolist() == [f"data/flavell2023/{u}.nc" for u in WORMS]
    for path in (f"results/figures/qc/flavell2023/{WORMS[0]}", "results/figures/qc/toy/toy01"):
        for ext in (".png", ".pdf"):
            assert (scratch_run / (path + ext)).stat().st_size > 5000
    assert (scratch_run / f"results/logs/ingest/flavell2023/{WORMS[0]}.log").exists()


def test_scratch_run_synthetic_dataset(scratch_run):
    truth = read_netcdf(scratch_run / "results/toy/truth.nc")
    assert truth["spikes"].shape == (2, 200, 8) and list(truth["animal"].values) == ["toy00", "toy01"]
    cohort = load_cohort(scratch_run / "results/toy/cohort.nc")
    assert cohort.sizes == {"animal": 2, "time": 200, "neuron": 8}
    raw = read_recording(scratch_run / "results/toy/raw/toy00.nc")
    np.testing.assert_allclose(cohort["traces"].sel(animal="toy00").values, raw["traces"].values, rtol=1e-6)
    table = pd.read_csv(scratch_run / "results/tables/qc/toy.csv")
    assert table["neurons_in_cohort"].tolist() == [8, 8] and table["duration_s"].tolist() == [99.5, 99.5]
    assert int(truth.attrs["seed"]) >= 0 and "config_hash" in truth.attrs
