"""Workflow: the rich/lazy branch's DAG for the quick and the paper-size configuration."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TABLES = ("rank_sweep", "init_comparison", "init_spectra", "linear_theory")
FIGURES = ("rank_sweep", "loss_curves", "init_spectra", "init_comparison", "linear_theory", "rank_vs_alignment")

pytestmark = pytest.mark.workflow


def _targets(run: str) -> list[str]:
    return ([f"results/tables/rich_lazy/{run}/{t}.csv" for t in TABLES]
            + [f"results/figures/rich_lazy/{run}/{f}.png" for f in FIGURES])


def _job_counts(*extra: str, run: str) -> dict[str, int]:
    out = subprocess.run([str(SNAKEMAKE), "-n", "--forceall", "--nolock", "--cores", "1", *_targets(run), *extra],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(rich_lazy_\w+)\s+(\d+)$", out.stdout, re.M)}


def test_quick_and_paper_dags():
    quick = _job_counts(run="quick")
    assert quick["rich_lazy_rank_run"] == 3 * 3 * 2 * 2  # tasks x ranks x normalisations x seeds, one job each
    assert quick["rich_lazy_init_run"] == 12 * 2 * 2    # inits x normalisations x seeds
    assert quick["rich_lazy_linear_theory"] == 1 and quick["rich_lazy_spectra"] == 1
    paper = _job_counts("--configfile", "config/rich_lazy_paper.yaml", run="paper")
    assert paper["rich_lazy_rank_run"] == 3 * 6 * 2 * 3  # tasks x ranks x (frobenius, spectral) x seeds
    assert paper["rich_lazy_init_run"] == 12 * 3 * 3
