"""Workflow: one-animal datasets without identities (suite2p, CaImAn, a worm without NeuroPAL)
run through ingest, QC and a one-animal connectome, with the skipped steps reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from neurodyn.data import load_cohort, read_recording, synthetic_cohort
from neurodyn.io import read_netcdf
from test_data_readers import write_flavell_like
from test_readers_caiman import write_caiman
from test_readers_suite2p import write_plane

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
N_CELLS = 10

pytestmark = pytest.mark.workflow


def write_mouse(root: Path) -> np.ndarray:
    """A suite2p folder of one mouse: 10 cells with structured activity and one non-cell ROI."""
    recs, _ = synthetic_cohort(1, N_CELLS, 400, 2.0, random_state=5)
    rng = np.random.default_rng(0)
    signal = recs[0]["traces"].values.T
    F = np.vstack([200 + 40 * signal + rng.normal(0, 2, signal.shape), np.full((1, 400), 300.0)])
    Fneu = 50 + rng.normal(0, 2, F.shape)
    iscell = np.c_[np.r_[np.ones(N_CELLS), 0], rng.random(N_CELLS + 1)]
    write_plane(root / "suite2p" / "plane0", F, Fneu, iscell, np.vstack([np.maximum(signal, 0), np.zeros((1, 400))]))
    return F


@pytest.fixture(scope="module")
def one_animal_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("one_animal")
    for name in ("workflow", "config", "data"):
        shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "Snakefile", work / "Snakefile")
    write_mouse(work / "raw" / "mouse1")
    rng = np.random.default_rng(3)
    write_caiman(work / "raw" / "cm1.hdf5", np.abs(rng.normal(size=(4, 120))).cumsum(1) / 10,
                 rng.normal(0, 0.1, (4, 120)), idx_components=[0, 1, 3], fr=5.0)
    write_flavell_like(work / "raw" / "w9-data.h5", n_time=200, n_roi=6)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["datasets"] = {
        "mouse": {"reader": "suite2p", "files": ["raw/mouse1"], "sampling_rate_hz": 2.0,
                  "neuropil_coefficient": 0.5, "baseline_window_s": 30.0},
        "cm": {"reader": "caiman", "files": ["raw/cm1.hdf5"], "min_animals": 1},
        "worm": {"reader": "flavell_h5", "files": ["raw/w9-data.h5"]},
    }
    config["connectome"]["rank"].update({"ranks": [1, 2], "restarts": 1})
    config["states"]["datasets"] = ["mouse"]
    config["states"]["real"].update({"representations": ["trace"], "n_states_range": [2, 3],
                                     "l1": [0.01], "max_iter": 20, "m_step_iter": 10, "n_init": 1,
                                     "init_iter": 3, "n_permutations": 10})
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [
        "results/tables/qc/mouse.csv", "results/figures/qc/mouse/mouse1.png", "results/tables/qc/mouse_scope.csv",
        "results/tables/connectome/mouse_components.csv", "results/figures/connectome/mouse/rank_selection.png",
        "results/tables/qc/cm.csv", "results/tables/qc/cm_scope.csv", "results/tables/qc/worm_scope.csv",
        "results/tables/states/mouse_real_worms.md",
        *(f"results/figures/states/mouse_{kind}.png" for kind in ("raster", "heldout_ami", "anatomy", "selection")),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run(["nice", "-n", "5", str(SNAKEMAKE), "--cores", "2", "--directory", str(work), *targets],
                         cwd=work, capture_output=True, text=True, timeout=900, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return work


def test_suite2p_mouse_is_ingested_with_the_dataset_options(one_animal_run):
    work = one_animal_run
    ingested = read_recording(work / "results/mouse/recordings/mouse1.nc")
    direct = read_recording(work / "raw/mouse1", sampling_rate_hz=2.0, neuropil_coefficient=0.5,
                            baseline_window_s=30.0)
    assert list(ingested["neuron"].values) == [f"plane0_roi{i}" for i in range(N_CELLS)]
    np.testing.assert_allclose(ingested["traces"].values, direct["traces"].values, rtol=1e-6)
    assert ingested.attrs["neuropil_coefficient"] == 0.5 and ingested.attrs["baseline_window_frames"] == 61
    qc = pd.read_csv(work / "results/tables/qc/mouse.csv")
    assert qc[["animal", "neurons", "identified_neurons", "neurons_in_cohort"]].values.tolist() == [
        ["mouse1", N_CELLS, 0, N_CELLS]]
    assert qc["sampling_rate_hz"].tolist() == [2.0]
    assert (work / "results/figures/qc/mouse/mouse1.png").stat().st_size > 5000


def test_one_animal_connectome_is_not_empty(one_animal_run):
    work = one_animal_run
    cohort = load_cohort(work / "results/mouse/cohort.nc")
    assert cohort.sizes["animal"] == 1 and cohort.sizes["neuron"] == N_CELLS
    assert all(str(n).startswith("mouse1/plane0_roi") for n in cohort["neuron"].values)
    components = pd.read_csv(work / "results/tables/connectome/mouse_components.csv")
    assert len(components) >= 1 and (components["loading_mouse1"] == 1.0).all()
    ntf = read_netcdf(work / "results/mouse/connectome/ntf.nc")
    assert ntf.sizes["animal"] == 1 and ntf.sizes["pair"] == N_CELLS * (N_CELLS - 1) // 2
    assert float(ntf["weight"].min()) > 0
    assert (work / "results/figures/connectome/mouse/rank_selection.png").stat().st_size > 5000


def test_scope_tables_say_what_was_skipped(one_animal_run):
    work = one_animal_run
    scope = pd.read_csv(work / "results/tables/qc/mouse_scope.csv").set_index("step")["status"].to_dict()
    assert scope == {
        "cohort: align animals on a common clock": "run (one animal)",
        "cohort: match neurons across animals by identity": "skipped",
        "quality control": "run",
        "connectome: NTF of pair × window × animal affinities": "run (one animal)",
        "states: HMM-GLM of the recorded animals": "run (one animal)",
    }
    worm = pd.read_csv(work / "results/tables/qc/worm_scope.csv").set_index("step")
    assert worm.loc["states: HMM-GLM of the recorded animals", "detail"].startswith("not listed in states.real")
    assert worm.loc["cohort: match neurons across animals by identity", "status"] == "skipped"
    cm = pd.read_csv(work / "results/tables/qc/cm.csv")
    assert cm[["neurons", "identified_neurons", "sampling_rate_hz"]].values.tolist() == [[3, 0, 5.0]]


def test_one_animal_states_run_and_say_what_was_skipped(one_animal_run):
    work = one_animal_run
    fit = read_netcdf(work / "results/mouse/states/fit.nc")
    assert fit.sizes["animal"] == 1 and fit.sizes["neuron"] == N_CELLS and fit.attrs["n_states"] >= 2
    assert set(np.unique(fit["viterbi_state"].values)) <= set(range(fit.attrs["n_states"]))
    behaviour = pd.read_csv(work / "results/tables/states/mouse_behaviour_agreement.csv").set_index("model")
    assert np.isfinite(behaviour.loc[["hmmglm", "gaussian_hmm"], "heldout_ll_per_entry"]).all()
    assert behaviour["ami_reversal"].isna().all() and behaviour["note"].str.contains("no behavior_reversal").all()
    anatomy = pd.read_csv(work / "results/tables/states/mouse_anatomy_auroc.csv")
    assert anatomy["note"].str.startswith("skipped: no neuron identities").all()
    text = (work / "results/tables/states/mouse_real_worms.md").read_text()
    assert "validated in time" in text and "skipped: no neuron identities" in text
    for kind in ("raster", "heldout_ami", "anatomy", "selection"):
        assert (work / f"results/figures/states/mouse_{kind}.png").stat().st_size > 3000
