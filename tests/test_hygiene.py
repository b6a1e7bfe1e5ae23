"""Security and layering hygiene over the whole source tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p for d in ("neurodyn", "workflow", "benchmarks", "data") for p in (REPO / d).rglob("*")
    if p.suffix in {".py", ".smk"} and ".venv" not in p.parts
) + [REPO / "Snakefile"]

FORBIDDEN = {
    r"\bimport pickle\b|\bfrom pickle\b|\bcPickle\b|\bdill\b": "pickle loads arbitrary code",
    r"allow_pickle\s*=\s*True": "pickled arrays load arbitrary code",
    r"(?<![\w.])eval\(|(?<![\w.])exec\(": "eval/exec of data",
    r"yaml\.load\((?![^)]*SafeLoader)": "YAML must be read with yaml.safe_load",
    r"shell\s*=\s*True|os\.system\(": "shell commands built from data",
}


@pytest.mark.parametrize("pattern, why", FORBIDDEN.items())
def test_no_unsafe_constructs(pattern, why):
    hits = []
    for path in SOURCES:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line) and not line.lstrip().startswith("#"):
                hits.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, f"{why}:\n" + "\n".join(hits)


def test_library_never_imports_snakemake_or_names_result_paths():
    offenders = []
    for path in (REPO / "neurodyn").rglob("*.py"):
        text = path.read_text()
        if re.search(r"^\s*(import|from)\s+snakemake", text, re.M) or re.search(r"['\"]results/", text):
            offenders.append(str(path.relative_to(REPO)))
    assert not offenders


def test_np_load_always_refuses_pickles():
    for path in SOURCES:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bnp\.load\(", line):
                assert "allow_pickle=False" in line, f"{path}:{i} np.load without allow_pickle=False"
