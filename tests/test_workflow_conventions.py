"""Snakemake conventions of the workflow.

- ``profiles/default`` beside the Snakefile is read by a bare ``snakemake``;
- per-analysis targets (``qc``, ``connectome``, ``states``, ``gain_control``,
  ``rich_lazy``) build one analysis each and together everything ``all`` builds;
- ``run_datasets`` selects which declared datasets run;
- the code-version parameter of each rule hashes the library code its script imports
  (neurodyn.imports), so a library change re-runs the rules that use it (and nothing
  else does);
- every rule that only draws or tabulates is a ``localrule``; the heavy rules have a
  ``benchmark:`` file; the report has a landing page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import neurodyn

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
ANALYSES = ["qc", "connectome", "states", "gain_control", "rich_lazy"]
INGEST_RULES = {"synthesize", "ingest", "cohort"}
# Rules that compute (fit, simulate, train, factorize): each writes a benchmark file.
HEAVY = {"connectome_affinity", "connectome_rank_fit", "connectome_communities", "states_benchmark_repeat",
         "states_fit_real", "gain_control_simulate", "gain_control_tradeoff", "rich_lazy_rank_run",
         "rich_lazy_init_run"}
TINY_DATASET = {"reader": "synthetic", "min_animals": 1,
                "synthetic": {"generator": "calcium", "n_animals": 1, "n_neurons": 4, "n_time": 40,
                              "sampling_rate_hz": 2.0}}

pytestmark = pytest.mark.workflow


def _env(pythonpath: Path = REPO) -> dict:
    return {**os.environ, "PYTHONPATH": str(pythonpath)}


def _snakemake(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: int = 300):
    return subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or _env())


def _jobs(text: str) -> list[dict]:
    """Jobs of a dry run: rule name, outputs and reason of each printed job block."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", text):
        head = re.match(r"(?:local)?rule (\w+):\n", block)
        if not head:
            continue
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.M))
        outputs = [o.strip() for o in fields.get("output", "").split(",") if o.strip()]
        jobs.append({"rule": head.group(1), "output": outputs, "reason": fields.get("reason", "")})
    return jobs


def _dry_run_jobs(*args: str, **kw) -> list[dict]:
    out = _snakemake("-n", "--cores", "1", *args, **kw)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return _jobs(out.stdout + out.stderr)


@pytest.fixture(scope="module")
def full_dag() -> str:
    """Dry run of every target (all, figures and the analysis targets), printed jobs."""
    out = _snakemake("-n", "--cores", "1", "--forceall", "all", "figures", *ANALYSES)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return out.stdout + out.stderr


def test_profiles_default_is_picked_up_by_a_bare_snakemake():
    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert isinstance(profile["cores"], int) and profile["cores"] >= 1
    comment = (REPO / "profiles/default/config.yaml").read_text().split("\ncores:")[0]
    # the comment says what keep-going does with the value it is set to
    assert profile["keep-going"] is False and "keep-going is off" in comment
    assert not (REPO / "workflow/profiles/default").exists()
    out = _snakemake("-n")  # no --cores, no --profile
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Using workflow specific profile profiles/default" in out.stderr + out.stdout


def test_slurm_profile_is_used_instead_of_the_default_one():
    assert yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())["executor"] == "slurm"
    for doc in ("README.md", "tests/cluster/run.sh", "profiles/slurm/config.yaml"):
        assert "--workflow-profile profiles/slurm" in (REPO / doc).read_text(), doc
    # (the README is checked in tests/test_packaging_readme.py)
    for path in [REPO / "Makefile", REPO / "tests/cluster/run.sh", REPO / "Snakefile", *(REPO / "config").glob("*.yaml")]:
        assert "workflow/profiles" not in path.read_text(), path


def test_each_analysis_target_builds_its_own_analysis_only(full_dag):
    everything = {o for j in _jobs(full_dag) for o in j["output"]}
    union = set()
    for analysis in ANALYSES:
        jobs = _dry_run_jobs("--forceall", analysis)
        rules = {j["rule"] for j in jobs} - INGEST_RULES - {analysis}
        assert rules, analysis
        # qc's rules are named qc_*, the others <analysis>_*
        assert all(r.startswith(analysis) for r in rules), (analysis, sorted(rules))
        union |= {o for j in jobs for o in j["output"]}
    # the five analyses together build everything `all` builds except the Markdown tables
    missing = {o for o in everything - union if not o.endswith(".md")}
    assert not missing, sorted(missing)[:10]


def test_run_datasets_runs_only_the_selected_dataset(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"datasets": {"mine": TINY_DATASET}, "run_datasets": ["mine"]}))
    jobs = _dry_run_jobs("--forceall", "qc", "connectome", "states", "--configfile", str(mine))
    outputs = [o for j in jobs for o in j["output"]]
    assert any("results/mine/cohort.nc" == o for o in outputs)
    # the datasets of config/config.yaml (merged in by --configfile) do not run
    per_dataset = [o for o in outputs if "synthetic_benchmark" not in o]  # the states benchmark is no dataset
    for other in ("flavell2023", "synthetic"):
        assert not [o for o in per_dataset if f"/{other}/" in o or f"/{other}_" in o or f"/{other}." in o], other
    # nor does the recorded-worm brain-state branch of a dataset that is not selected
    assert "states_fit_real" not in {j["rule"] for j in jobs}
    assert "states_benchmark_repeat" in {j["rule"] for j in jobs}
    # without run_datasets every declared dataset runs
    del_selection = tmp_path / "all.yaml"
    del_selection.write_text(yaml.safe_dump({"datasets": {"mine": TINY_DATASET}}))
    outputs = [o for j in _dry_run_jobs("--forceall", "qc", "--configfile", str(del_selection)) for o in j["output"]]
    assert {"results/mine/cohort.nc", "results/flavell2023/cohort.nc", "results/synthetic/cohort.nc"} <= set(outputs)


def test_run_datasets_naming_an_undeclared_dataset_fails_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"run_datasets": ["my_mice"]}))
    out = _snakemake("-n", "--configfile", str(bad))
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "run_datasets" in text and "my_mice" in text and "not declared" in text
    assert "Job stats" not in text


def test_source_hash_follows_the_code_and_nothing_else(tmp_path):
    lib = tmp_path / "a" / "neurodyn"
    shutil.copytree(Path(neurodyn.__file__).parent, lib, ignore=shutil.ignore_patterns("__pycache__"))
    h = neurodyn.source_hash(lib)
    assert h == neurodyn.source_hash()  # the copy hashes like the original: location does not matter
    assert len(h) == 64 and int(h, 16) >= 0
    (lib / "__pycache__").mkdir(exist_ok=True)
    (lib / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    os.utime(lib / "io.py", (0, 0))
    (lib / "notes.txt").write_text("not code")
    assert neurodyn.source_hash(lib) == h
    target = lib / "connectome" / "ntf.py"
    target.write_text(target.read_text() + "\n# a comment\n")
    changed = neurodyn.source_hash(lib)
    assert changed != h
    (lib / "data" / "bundled" / "allen_v1" / "pmax_matrix_v1dd.csv").write_text("changed table\n")
    assert neurodyn.source_hash(lib) not in {h, changed}


@pytest.mark.slow
def test_a_library_change_reruns_the_rules(tmp_path):
    """Run a rule with a copy of the library, change one line of the library: the rule is
    scheduled again because its code-version parameter changed, and only then."""
    work = tmp_path / "wf"
    work.mkdir()
    for name in ("Snakefile", "workflow", "profiles", "config", "data"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    lib = tmp_path / "lib"
    shutil.copytree(Path(neurodyn.__file__).parent, lib / "neurodyn", ignore=shutil.ignore_patterns("__pycache__"))
    env = _env(lib)
    cfg = work / "mine.yaml"
    cfg.write_text(yaml.safe_dump({"datasets": {"mine": TINY_DATASET}, "run_datasets": ["mine"]}))
    target = "results/mine/truth.nc"
    run = _snakemake("--cores", "1", target, "--configfile", str(cfg), cwd=work, env=env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert _dry_run_jobs(target, "--configfile", str(cfg), cwd=work, env=env) == []
    source = lib / "neurodyn" / "data" / "synthetic.py"
    source.write_text(source.read_text() + "\n# a change to the library\n")
    jobs = _dry_run_jobs(target, "--configfile", str(cfg), cwd=work, env=env)
    assert [j["rule"] for j in jobs] == ["synthesize"]
    assert "params" in jobs[0]["reason"].lower(), jobs[0]["reason"]


def test_every_rule_hashes_the_code_of_its_own_script():
    """Each rule with a script passes ``version=code_version("<its script>")``: the hash
    of the library code that script imports."""
    checked = 0
    for path in sorted((REPO / "workflow/rules").glob("*.smk")):
        text = path.read_text()
        for block in re.split(r"\n(?=\S)|\n(?=    rule:)", text):
            script = re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', block)
            if not script:
                continue
            versions = re.findall(r'version=code_version\("(\w+\.py)"\)', block)
            assert versions == [script.group(1)], (path.name, script.group(1), versions)
            assert (REPO / "workflow/scripts" / script.group(1)).is_file()
            checked += 1
    assert checked >= 35
    assert "VERSION" not in "".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))


def _localrules() -> set[str]:
    names = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]:
        for block in re.findall(r"^localrules:\n((?:    \w+,?\n)+)", path.read_text(), flags=re.M):
            names |= set(re.findall(r"\w+", block))
    return names


def test_localrules_are_exactly_the_rules_that_only_draw_or_tabulate(full_dag):
    jobs = _jobs(full_dag)
    outputs: dict[str, set[str]] = {}
    for j in jobs:
        outputs.setdefault(j["rule"], set()).update(j["output"])
    drawing = {r for r, outs in outputs.items()
               if all(o.startswith(("results/figures/", "results/tables/")) for o in outs)}
    assert {"all", "figures", "qc_figure", "tables_markdown", *ANALYSES} <= drawing
    assert not drawing & HEAVY
    local = _localrules()
    assert local - set(outputs) == set(), f"localrules that are not rules: {local - set(outputs)}"
    assert drawing - local == set(), f"should run locally: {sorted(drawing - local)}"
    assert local - drawing == set(), f"compute rules marked local: {sorted(local - drawing)}"


def test_heavy_rules_write_benchmarks(full_dag):
    ran = {j["rule"] for j in _jobs(full_dag)}
    assert HEAVY <= ran
    text = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    for rule in HEAVY:
        block = text.split(f"\nrule {rule}:\n", 1)[1].split("\nrule ", 1)[0]
        assert re.search(r"^    benchmark:\n\s+f?\"results/benchmarks/", block, flags=re.M), rule
    benchmarks = re.findall(r"^    benchmark: (\S+)", full_dag, flags=re.M)
    assert len(benchmarks) == len(set(benchmarks)) >= len(HEAVY)


def test_report_has_a_landing_page():
    snakefile = (REPO / "Snakefile").read_text()
    match = re.search(r'^report: "([^"]+)"', snakefile, flags=re.M)
    assert match, "no report: directive"
    page = REPO / match.group(1)
    assert page.is_file()
    text = page.read_text()
    for category in ("Quality control", "Connectome", "Brain states", "Gain control", "Rich vs. lazy"):
        assert category in text
