"""The README's instructions match the repository: commands, links, the CI entry point,
the example configuration and the extras that `make` installs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
# "Your own data" documents the readers and is maintained with them; checked elsewhere.
SECTIONS = {m.group(1): m.group(2) for m in re.finditer(r"^## (.+?)\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)}
CHECKED = "\n".join(body for title, body in SECTIONS.items() if title != "Your own data")


def _code_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_every_doc_is_linked():
    docs = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md"))
    assert docs
    missing = [d for d in docs if f"]({d})" not in README]
    assert not missing, f"README does not link {missing}"
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (REPO / target).exists(), f"README links a missing file: {target}"


def test_shell_commands_are_exact():
    """Every command in the README's shell blocks is `make ...` or a `.venv/bin/` program."""
    lines = [line.split("#", 1)[0].strip() for block in _code_blocks(CHECKED, "bash") for line in block.splitlines()]
    commands = [line for line in lines if line]
    assert len(commands) >= 8
    bad = [c for c in commands if not (c.startswith("make ") or c.startswith(".venv/bin/"))]
    assert not bad, bad
    for program in {c.split()[0] for c in commands if c.startswith(".venv/bin/")}:
        assert program.removeprefix(".venv/bin/") in {"snakemake", "python", "pip", "neurodyn"}, program
    assert "workflow/profiles" not in CHECKED


def test_ci_runs_the_readme_test_command():
    two_commands = _code_blocks(SECTIONS["Two commands"], "bash")[0]
    assert re.search(r"^make test\b", two_commands, flags=re.M)
    assert re.search(r"^make run\b", two_commands, flags=re.M)
    ci = (REPO / ".ci/run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: .*\n\t\$\(PY\) -m pytest -q$", makefile, flags=re.M)


def test_make_installs_the_community_extra():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["community"]
    assert {re.split(r"[<>=]", r)[0] for r in extra} == {"leidenalg", "igraph"}
    pins = (REPO / "constraints.txt").read_text()
    assert re.search(r"^leidenalg==", pins, flags=re.M) and re.search(r"^igraph==", pins, flags=re.M)
    makefile = (REPO / "Makefile").read_text()
    install = re.search(r"pip install .*-e '\.\[([a-z,]+)\]'", makefile)
    assert install and {"test", "community"} <= set(install.group(1).split(","))


def test_own_dataset_example_validates_and_selects_it():
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    (example,) = [b for b in _code_blocks(SECTIONS["Run only your own dataset"], "yaml")]
    own = yaml.safe_load(example)
    assert own["run_datasets"] == list(own["datasets"])
    merged = {**yaml.safe_load((REPO / "config/config.yaml").read_text())}
    merged["datasets"] = {**merged["datasets"], **own["datasets"]}
    merged["run_datasets"] = own["run_datasets"]
    jsonschema.validate(merged, schema)


def test_readme_states_measured_run_times_and_the_gpu_switch():
    two = SECTIONS["Two commands"]
    for command in ("make run", "make test"):
        assert re.search(rf"^\| `{command}`.*\| [\d.]+ min \|", two, flags=re.M), command
    assert "shared" in two and "benchmarks/results/make_timings.json" in two
    assert (REPO / "benchmarks/results/make_timings.json").is_file()
    assert "--config backend=torch device=cuda" in SECTIONS["GPU"]
