"""The README's "Your own data" examples work as written."""

from __future__ import annotations

import copy
import importlib.metadata
import re
import tomllib
from pathlib import Path

import numpy as np
import yaml

from neurodyn.data import read_recording
from neurodyn.data.readers import ENTRY_POINT_GROUP, reader_options

REPO = Path(__file__).resolve().parents[1]


def own_data_blocks() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Your own data"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def test_yaml_examples_validate_against_the_schema():
    from snakemake.utils import validate

    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    blocks = [yaml.safe_load(code) for lang, code in own_data_blocks() if lang == "yaml"]
    assert {r for b in blocks for r in (d["reader"] for d in b["datasets"].values())} == {"suite2p", "caiman"}
    for block in blocks:
        config = copy.deepcopy(base)
        config["datasets"] = block["datasets"]
        validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def test_plugin_example_reads_through_its_entry_point(tmp_path, monkeypatch):
    blocks = own_data_blocks()
    module = next(code for lang, code in blocks if lang == "python" and "READER = Reader(" in code)
    toml = next(code for lang, code in blocks if lang == "toml")
    package = tmp_path / "mylab_neurodyn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "reader.py").write_text(module)
    monkeypatch.syspath_prepend(str(tmp_path))
    table = tomllib.loads(toml)["project"]["entry-points"][ENTRY_POINT_GROUP]
    eps = importlib.metadata.EntryPoints(
        [importlib.metadata.EntryPoint(name=n, value=v, group=ENTRY_POINT_GROUP) for n, v in table.items()])
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **p: eps if p.get("group") == ENTRY_POINT_GROUP else real(**p))
    path = tmp_path / "fish3.mylab"
    path.write_text("5.0\n1 2 3\n4 5 6\n")
    options = reader_options("mylab", {"reader": "mylab", "files": [str(path)], "gain": 2.0, "min_animals": 1,
                                       "neuropil_coefficient": 0.7})
    assert options == {"gain": 2.0}
    rec = read_recording(path, **options)
    np.testing.assert_array_equal(rec["traces"].values, [[2, 4, 6], [8, 10, 12]])
    np.testing.assert_allclose(rec["time"].values, [0.0, 0.2])
    assert rec.attrs["animal"] == "fish3" and list(rec["neuron"].values) == ["roi_000", "roi_001", "roi_002"]
