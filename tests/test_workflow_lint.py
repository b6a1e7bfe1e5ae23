"""Workflow hygiene: `snakemake --lint` and `snakefmt --check`.

One lint is accepted on purpose: "Specify a conda environment or container for each
rule". Every rule runs in the project's own virtual environment, installed with pinned
versions from constraints.txt by the README's commands, so a per-rule conda environment
would duplicate (and could drift from) that single environment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ACCEPTED = {"Specify a conda environment or container for each rule."}

pytestmark = pytest.mark.workflow


def test_snakemake_lint_reports_nothing_else():
    out = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    titles = re.findall(r"^\s{4}\* (.+?):?$", text, flags=re.M)
    assert titles or out.returncode == 0, text[-2000:]
    unexpected = sorted({t.rstrip(":") for t in titles} - ACCEPTED)
    assert not unexpected, f"snakemake --lint: {unexpected}\n{text[-3000:]}"


def test_snakefmt_check_passes():
    snakefmt = BIN / "snakefmt"
    if not snakefmt.exists():
        snakefmt = shutil.which("snakefmt")
    # snakefmt is part of the test extra, so a missing one is a broken install, not a skip.
    assert snakefmt, "snakefmt is not installed (pip install -e '.[test]')"
    out = subprocess.run([str(snakefmt), "--check", "Snakefile", "workflow/"], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
