"""End-to-end: the whole DAG on the tiny configuration, the report, figure regeneration
without refitting, an interrupted run that is resumed, and run-to-run determinism.

The tiny run happens once per test session (about 2–4 minutes on 2 cores) in a scratch
copy of the workflow; every test below reads its results.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
sys.path.insert(0, str(REPO / "tests" / "cluster"))
from compare_results import compare  # noqa: E402

pytestmark = [pytest.mark.workflow, pytest.mark.slow]
ARGS = ["--configfile", "config/tiny.yaml", "--cores", "2"]  # profiles/default is read by itself


def _scratch(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "profiles", "config", "data"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def _snakemake(workdir: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *ARGS, *args], cwd=workdir, capture_output=True, text=True, timeout=timeout)


def _rules_run(output: str) -> set[str]:
    """Rule names from the 'Job stats' table that snakemake prints."""
    block = output.split("Job stats:", 1)[-1].split("\n\n", 1)[0] if "Job stats:" in output else ""
    return {m.group(1) for m in re.finditer(r"^([a-z_0-9]+)\s+\d+\s*$", block, re.M)} - {"total", "job"}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    work = _scratch(tmp_path_factory.mktemp("tiny") / "wf")
    out = _snakemake(work)
    (work / "snakemake.log").write_text(out.stdout + out.stderr)
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]
    return work


def test_whole_dag_runs_and_leaves_nothing_to_do(tiny_run):
    again = subprocess.run([SNAKEMAKE, *ARGS, "-n"], cwd=tiny_run, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
    assert not list((tiny_run / "results").rglob("*.part*")), "temporary files were left behind"


def test_tiny_results_hold_the_expected_science(tiny_run):
    res = tiny_run / "results"
    with xr.open_dataset(res / "flavell2023/cohort.nc", engine="h5netcdf") as cohort:
        # the two bundled worms share 81 NeuroPAL-identified neurons
        assert cohort.sizes["animal"] == 2 and cohort.sizes["neuron"] == 81
        assert not any(str(n).startswith("roi_") or "/roi_" in str(n) for n in cohort["neuron"].values)
    effects = pd.read_csv(res / "tables/gain_control/effects.csv")
    rec = effects[effects["model"] == "recurrent"]
    ff = effects[effects["model"] == "feedforward"]
    assert (rec["max_repulsion_deg"] > 0.5).all()
    assert (ff["max_repulsion_deg"].abs() < 1e-6).all()
    qc = pd.read_csv(res / "tables/qc/flavell2023.csv")
    assert list(qc["identified_neurons"]) == [103, 103]
    for md in res.glob("tables/**/*.md"):
        assert md.read_text().lstrip().startswith("## ")


def test_report_is_a_browsable_page(tiny_run):
    out = _snakemake(tiny_run, "--report", "results/report.html", timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    html = (tiny_run / "results/report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for needle in ("qc", "connectome", "gain_control", "rich_lazy", "states"):
        assert needle in html


def test_figures_target_redraws_without_refitting(tiny_run):
    figures = list((tiny_run / "results/figures").rglob("*.png"))
    assert len(figures) >= 20
    fits_before = {p: p.stat().st_mtime_ns for p in (tiny_run / "results").rglob("*.nc")}
    shutil.rmtree(tiny_run / "results/figures")
    out = _snakemake(tiny_run, "figures", timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    ran = _rules_run(out.stdout + out.stderr)
    assert ran, out.stdout[-2000:]
    not_figures = sorted(r for r in ran if "figure" not in r and r != "figures")
    assert not not_figures, f"redrawing figures ran non-figure rules: {not_figures}"
    assert all(p.exists() for p in figures)
    assert {p: p.stat().st_mtime_ns for p in fits_before} == fits_before


def test_killed_run_resumes_to_identical_results(tiny_run, tmp_path):
    """SIGKILL the pipeline in the middle of the connectome rank sweep, rerun, and compare
    every result it produced with the uninterrupted run (same seed): tables equal, NetCDF arrays equal to rtol 1e-6.

    Jobs run single-threaded with the same library versions, so results are expected to
    be bit-identical; the tolerance only absorbs BLAS kernels that may split sums
    differently across runs.
    """
    work = _scratch(tmp_path / "wf")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    target = "results/tables/connectome/synthetic_recovery.csv"
    proc = subprocess.Popen([SNAKEMAKE, *ARGS, target], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        done = list((work / "results").glob("synthetic/connectome/ranks/*.nc")) if (work / "results").exists() else []
        if done:
            break
        time.sleep(0.5)
    assert proc.poll() is None, "the pipeline finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # Anything with a final name is complete: NetCDF files written so far open cleanly.
    # Interrupted writes can only have left hidden temporaries (".<name>.<random>.part.nc").
    for nc in (work / "results").rglob("*.nc"):
        if ".part" in nc.name:
            assert nc.name.startswith("."), nc
            continue
        xr.open_dataset(nc, engine="h5netcdf").close()
    subprocess.run([SNAKEMAKE, *ARGS, "--unlock"], cwd=work, capture_output=True, timeout=120, check=True)
    out = subprocess.run([SNAKEMAKE, *ARGS, target], cwd=work, capture_output=True, text=True, timeout=1200,
                         env=env)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert (work / target).is_file()
    problems = [p for p in compare(tiny_run / "results", work / "results", rtol=1e-6, atol=1e-9)
                if not p.startswith("only in A:")]
    assert not problems, "\n".join(problems[:30])


def test_compare_results_detects_a_changed_number(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        pd.DataFrame({"x": [1.0, 2.0]}).to_csv(d / "t.csv", index=False)
        xr.Dataset({"v": ("i", np.arange(3.0))}).to_netcdf(d / "r.nc", engine="h5netcdf")
    assert compare(a, b) == []
    xr.Dataset({"v": ("i", np.arange(3.0) + 1e-3)}).to_netcdf(b / "r.nc", engine="h5netcdf")
    pd.DataFrame({"x": [1.0, 2.5]}).to_csv(b / "t.csv", index=False)
    assert len(compare(a, b)) == 2
