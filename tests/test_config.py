"""Configuration: the schema documents every key, and bad configs fail at parse time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def _walk(node, path=""):
    for key, sub in node.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from _walk(sub, f"{path}{key}.")
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _walk(extra, f"{path}<name>.")


def test_every_schema_key_has_a_description():
    missing = [p for p, sub in _walk(SCHEMA) if not str(sub.get("description", "")).strip()]
    assert not missing, f"schema keys without a description: {missing}"


def test_config_readme_is_generated_from_the_schema():
    out = subprocess.run([sys.executable, str(REPO / "config/make_readme.py"), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr


def test_default_config_validates():
    jsonschema = pytest.importorskip("jsonschema")
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    jsonschema.validate(config, SCHEMA)
    for extra in sorted((REPO / "config").glob("*.yaml")):
        merged = {**config, **yaml.safe_load(extra.read_text())}
        jsonschema.validate(merged, SCHEMA)


def _dry_run(*args):
    return subprocess.run([str(SNAKEMAKE), "-n", "--cores", "1", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.workflow
@pytest.mark.parametrize(
    "override, message",
    [
        (["--config", "sed=1"], "'sed' was unexpected"),
        (["--config", "seed=minus"], "'minus' is not of type 'integer'"),
        (["--config", "backend=jax"], "'jax' is not one of"),
    ],
)
def test_bad_config_fails_before_any_job(override, message):
    out = _dry_run(*override)
    assert out.returncode != 0
    assert message in out.stderr + out.stdout
    assert "Job stats" not in out.stdout


RENAMED = yaml.safe_load((REPO / "workflow/schemas/renamed_keys.yaml").read_text())


def _schema_has(dotted):
    node = SCHEMA
    for part in dotted.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return False
    return True


def test_every_renamed_key_points_at_a_schema_key():
    assert RENAMED
    missing = [new for new in RENAMED.values() if not _schema_has(new)]
    assert not missing, f"renamed keys whose new key is not in the schema: {missing}"
    readme = (REPO / "config/README.md").read_text()
    assert all(f"| `{old}` | `{new}` |" in readme for old, new in RENAMED.items())


@pytest.mark.workflow
@pytest.mark.parametrize("old, value", [("connectome.affinity", "windowed_cosine"), ("connectome.rank", 3),
                                        ("connectome.restarts", 2)])
def test_an_old_key_fails_naming_the_new_one(tmp_path, old, value):
    section, key = old.split(".")
    mine = tmp_path / "old.yaml"
    mine.write_text(yaml.safe_dump({section: {key: value}}))
    out = _dry_run("--configfile", str(mine))
    assert out.returncode != 0
    text = out.stderr + out.stdout
    assert f"{old} -> {RENAMED[old]}" in text
    assert "Job stats" not in out.stdout


@pytest.mark.workflow
def test_unknown_reader_fails_at_parse_time(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"datasets": {"worms": {"reader": "matlab", "files": ["x.mat"]}}}))
    out = _dry_run("--configfile", str(bad))
    assert out.returncode != 0
    assert "{'worms': 'matlab'} name readers that are not registered" in out.stderr + out.stdout


@pytest.mark.workflow
def test_cuda_config_requests_a_gpu_for_backend_rules_only():
    out = _dry_run("--config", "device=cuda", "backend=torch", "--forceall")
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    blocks = text.split("\nrule ")
    gpu_rules = {b.split(":", 1)[0] for b in blocks if "gpu=1" in b}
    assert {"connectome_rank_fit", "connectome_ntf", "gain_control_simulate", "rich_lazy_rank_run",
            "rich_lazy_init_run"} <= gpu_rules
    assert not any("figure" in r or r.startswith("qc") for r in gpu_rules)
    default = _dry_run("--forceall")
    assert "gpu=1" not in default.stdout + default.stderr
