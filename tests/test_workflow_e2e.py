"""End-to-end: the whole DAG on the tiny configuration, the report, figure regeneration
without refitting, an interrupted run that is resumed, and run-to-run determinism; a
clean log (no warnings but those about the data), progress lines, provenance in every
result, and reruns that follow the library code each rule uses.

The tiny run happens once per test session (about 2–4 minutes on 2 cores) in a scratch
copy of the workflow; every test below reads its results.  The rerun tests change a copy
of the library and ask Snakemake (dry run) what it would run again.
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

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import neurodyn

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# The library the runs import: the one this test session imports (a checkout, or the
# installed package), so that a copy of it with one change differs from it in that change.
LIBRARY = Path(neurodyn.__file__).resolve().parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(LIBRARY.parent), os.environ.get("PYTHONPATH")]))}
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


def _snakemake(workdir: Path, *args: str, timeout: int = 1200, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *ARGS, *args], cwd=workdir, capture_output=True, text=True, timeout=timeout,
                          env=env or ENV)


def _job_counts(output: str) -> Counter:
    """Jobs per rule from the 'Job stats' table that snakemake prints."""
    block = output.split("Job stats:", 1)[-1].split("\n\n", 1)[0] if "Job stats:" in output else ""
    return Counter({m.group(1): int(m.group(2)) for m in re.finditer(r"^([a-z_0-9]+)\s+(\d+)\s*$", block, re.M)
                    if m.group(1) not in {"total", "job"}})


def _rules_run(output: str) -> set[str]:
    """Rule names from the 'Job stats' table that snakemake prints."""
    return set(_job_counts(output))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    work = _scratch(tmp_path_factory.mktemp("tiny") / "wf")
    out = _snakemake(work)
    (work / "snakemake.log").write_text(out.stdout + out.stderr)
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]
    return work


@pytest.fixture(scope="session")
def tiny_report(tiny_run) -> str:
    """The HTML report of the tiny run; its Snakemake output is kept in report.log."""
    out = _snakemake(tiny_run, "--report", "results/report.html", timeout=600)
    (tiny_run / "report.log").write_text(out.stdout + out.stderr)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return (tiny_run / "results/report.html").read_text(errors="replace")


def test_whole_dag_runs_and_leaves_nothing_to_do(tiny_run):
    again = _snakemake(tiny_run, "-n", timeout=300)
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


def test_report_is_a_browsable_page(tiny_report):
    html = tiny_report
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
    env = {**ENV, "OMP_NUM_THREADS": "1"}
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
    subprocess.run([SNAKEMAKE, *ARGS, "--unlock"], cwd=work, capture_output=True, timeout=120, check=True, env=env)
    out = subprocess.run([SNAKEMAKE, *ARGS, target], cwd=work, capture_output=True, text=True, timeout=1200,
                         env=env)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert (work / target).is_file()
    problems = [p for p in compare(tiny_run / "results", work / "results", rtol=1e-6, atol=1e-9)
                if not p.startswith("only in A:")]
    assert not problems, "\n".join(problems[:30])


# -- a quiet, talkative run ----------------------------------------------------------------
# A warning in a log is a line that says so: Python's warnings (RuntimeWarning: ...),
# logging's WARNING lines, docutils' (WARNING/2) and (ERROR/3) from the report's captions.
WARNING_LINE = re.compile(r"\w*Warning: |\bWARNING\b|\((?:WARNING|ERROR)/\d\)|never awaited")
# Warnings about the user's data, which a clean run may give: the tiny sweep (ranks 1-2)
# is too short for the planted communities on purpose.
DATA_WARNINGS = ("is the largest of the sweep",)


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if WARNING_LINE.search(line) and not any(w in line for w in DATA_WARNINGS)]


def test_a_clean_run_logs_no_warnings_but_about_the_data(tiny_run, tiny_report):
    logs = {"snakemake": (tiny_run / "snakemake.log").read_text(), "report": (tiny_run / "report.log").read_text()}
    logs.update({str(p.relative_to(tiny_run)): p.read_text(errors="replace")
                 for p in sorted((tiny_run / "results/logs").rglob("*.log"))})
    assert len(logs) > 40
    found = {name: _warnings(text) for name, text in logs.items()}
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, "\n".join(f"{name}: {lines[:3]}" for name, lines in found.items())
    # the data warning the tiny sweep gives is there (the check above would see others)
    assert any(w in text for text in logs.values() for w in DATA_WARNINGS)


def test_the_warning_check_sees_warnings():
    assert _warnings("x.py:3: RuntimeWarning: coroutine 'sizes' was never awaited\nfine")
    assert _warnings("WARNING:neurodyn:something") and _warnings("<string>:1: (ERROR/3) Undefined substitution")
    assert not _warnings("WARNING:root:the rank chosen, 2, is the largest of the sweep [1, 2]")
    assert not _warnings("rank  best_error  chosen warning")  # a table column named warning


# -- provenance --------------------------------------------------------------------------
VERSION_KEYS = ("neurodyn_version", "numpy_version", "scipy_version", "tensorly_version", "scikit_learn_version",
                "xarray_version", "snakemake_version")


def _git_commit() -> str | None:
    out = subprocess.run(["git", "-C", str(LIBRARY), "rev-parse", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def _is_commit(sha: str) -> bool:
    """A commit of the library's repository (the one checked out when the file was written:
    HEAD, unless someone committed while the tests ran)."""
    return bool(re.fullmatch(r"[0-9a-f]{40}", sha)) and subprocess.run(
        ["git", "-C", str(LIBRARY), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True).returncode == 0


def test_every_result_records_where_it_came_from(tiny_run, tiny_report):
    from neurodyn.io import read_provenance, sidecar_path

    commit = _git_commit()
    results = tiny_run / "results"
    ncs = [p for p in results.rglob("*.nc") if ".part" not in p.name]
    csvs = [p for p in results.rglob("*.csv") if ".part" not in p.name]
    assert len(ncs) > 20 and len(csvs) > 20
    for path in ncs + csvs:
        if path.suffix == ".csv":
            assert sidecar_path(path).is_file(), path
        prov = read_provenance(path)
        missing = [k for k in (*VERSION_KEYS, "config_hash") if k not in prov]
        assert not missing, (path, missing)
        if commit is not None:
            assert _is_commit(prov["git_commit"]) and int(prov["git_dirty"]) in (0, 1), path
        else:
            assert "git_commit" not in prov
    # the steps that draw random numbers record their seed
    for rel in ("synthetic/truth.nc", "synthetic/connectome/ranks/rank1_restart0.nc",
                "tables/connectome/synthetic_communities.csv", "simulations/states/benchmark_repeat0.csv"):
        assert isinstance(read_provenance(results / rel).get("seed"), int), rel
    # a rule's results name its code version
    assert read_provenance(results / "synthetic/connectome/ntf.nc")["code_version"].startswith(neurodyn.__version__)
    # the report says what it was built from
    if commit:
        built_from = re.search(r"git commit[^<]{0,12}<tt[^>]*>([0-9a-f]{40})<", tiny_report)
        assert built_from and _is_commit(built_from.group(1)), "the report names no commit"
    else:
        assert "not a git checkout" in tiny_report
    assert "numpy" in tiny_report and "config hash" in tiny_report


def test_inspect_prints_the_provenance_of_a_result(tiny_run):
    for rel in ("results/synthetic/connectome/ntf.nc", "results/tables/connectome/synthetic_components.csv"):
        out = subprocess.run([sys.executable, "-m", "neurodyn", "inspect", rel], cwd=tiny_run, capture_output=True,
                             text=True, timeout=120, env=ENV)
        assert out.returncode == 0, out.stderr
        for key in ("neurodyn_version", "numpy_version", "scikit_learn_version", "config_hash", "code_version"):
            assert key in out.stdout, (rel, key, out.stdout)
        if _git_commit():
            assert _is_commit(re.search(r"git_commit\s+(\S+)", out.stdout).group(1))
    out = subprocess.run([sys.executable, "-m", "neurodyn", "inspect", "--json",
                          "results/tables/connectome/synthetic_components.csv"], cwd=tiny_run, capture_output=True,
                         text=True, timeout=120, env=ENV)
    summary = json.loads(out.stdout)
    assert "component" in summary["columns"] and summary["provenance"]["config_hash"]


# -- reruns follow the code each rule uses ---------------------------------------------------
INGEST = {"synthesize", "ingest", "cohort"}
COMMUNITIES_AND_AFTER = {"connectome_communities", "connectome_recovery", "connectome_figure_communities",
                         "connectome_figure_components", "connectome_figure_recovery", "tables_markdown", "all"}


def _rerun_after_a_change(tiny_run: Path, tmp_path: Path, module: str) -> Counter:
    """Jobs a dry run schedules on the finished tiny run when ``module`` (a path under the
    library) has one more line, in a copy of the library (the checkout is not touched)."""
    lib = tmp_path / "lib"
    shutil.copytree(LIBRARY, lib / "neurodyn", ignore=shutil.ignore_patterns("__pycache__"))
    path = lib / "neurodyn" / module
    path.write_text(path.read_text() + "\n# a change\n")
    out = _snakemake(tiny_run, "-n", timeout=300, env={**os.environ, "PYTHONPATH": str(lib)})
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    counts = _job_counts(out.stdout + out.stderr)
    print(f"\nafter a change to neurodyn/{module}: {sum(counts.values())} jobs: {dict(sorted(counts.items()))}")
    return counts


def test_a_plotting_change_redraws_and_refits_nothing(tiny_run, tmp_path):
    counts = _rerun_after_a_change(tiny_run, tmp_path, "plots/style.py")
    drawing = {rule for rule in counts if "figure" in rule}
    assert len(drawing) >= 10, counts
    assert set(counts) - drawing == {"all"}, counts


def test_a_community_search_change_reruns_communities_and_what_follows_only(tiny_run, tmp_path):
    counts = _rerun_after_a_change(tiny_run, tmp_path, "connectome/sbm/search.py")
    assert "connectome_communities" in counts
    assert set(counts) <= COMMUNITIES_AND_AFTER, set(counts) - COMMUNITIES_AND_AFTER
    assert counts["connectome_communities"] == sum(1 for _ in (tiny_run / "results").glob("*/connectome/ntf.nc"))


def test_a_brain_state_change_leaves_connectome_and_circuits_alone(tiny_run, tmp_path):
    counts = _rerun_after_a_change(tiny_run, tmp_path, "states/model.py")
    assert {"states_benchmark_repeat", "states_fit_real"} <= set(counts), counts
    others = [r for r in counts if r.startswith(("connectome_", "gain_control_", "rich_lazy_", "qc_")) or r in INGEST]
    assert not others, counts


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
