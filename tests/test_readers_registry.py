"""The reader registry: built-ins and third-party formats through the entry-point group."""

from __future__ import annotations

import importlib.metadata
import logging
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurodyn.data import FORMATS, read_recording
from neurodyn.data.readers import (
    BUILTIN_READERS,
    ENTRY_POINT_GROUP,
    Reader,
    available_readers,
    detect_format,
    get_reader,
    reader_options,
)
from neurodyn.errors import InvalidInputError

REPO = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""A toy lab format: a text file of whitespace-separated rows, first line the rate in Hz."""
import numpy as np
from neurodyn.data import make_recording
from neurodyn.data.readers import Reader


def read_toy(path, *, animal=None, scale=1.0):
    lines = path.read_text().split("\\n")
    rate = float(lines[0])
    values = np.loadtxt(lines[1:], ndmin=2) * scale
    return make_recording(values, np.arange(len(values)) / rate, [f"roi_{i:03d}" for i in range(values.shape[1])],
                          animal=animal or path.stem, source=str(path), units="toy")


NOT_A_READER = 42

READER = Reader(read=read_toy, suffixes=(".toy",), description="toy text format")


def read_plain(path, **options):
    return read_toy(path, **options)
'''


def fake_entry_points(monkeypatch, tmp_path, entries: dict[str, str]):
    """Install ``toy_plugin`` on sys.path and make ``entry_points`` list ``entries`` in our group."""
    (tmp_path / "toy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [importlib.metadata.EntryPoint(name=n, value=v, group=ENTRY_POINT_GROUP) for n, v in entries.items()]
    real = importlib.metadata.entry_points

    def entry_points(**params):
        if params.get("group") == ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints(eps)
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def write_toy(path: Path) -> Path:
    path.write_text("4.0\n1 2\n3 4\n5 6\n")
    return path


def test_a_plugin_reader_is_found_through_its_entry_point(monkeypatch, tmp_path):
    fake_entry_points(monkeypatch, tmp_path, {"toy": "toy_plugin:READER", "toy_plain": "toy_plugin:read_plain"})
    path = write_toy(tmp_path / "a1.toy")
    assert detect_format(path) == "toy" and "toy" in FORMATS and "toy_plain" in available_readers()
    rec = read_recording(path, scale=2.0)
    np.testing.assert_array_equal(rec["traces"].values, [[2, 4], [6, 8], [10, 12]])
    np.testing.assert_allclose(rec["time"].values, [0, 0.25, 0.5])
    assert rec.attrs["animal"] == "a1" and rec.attrs["units"] == "toy"
    with pytest.raises(InvalidInputError, match="field 'colour'"):
        read_recording(path, colour="red")
    # a plain callable plugin: used by name, takes any option the dataset gives it
    plain = read_recording(tmp_path / "a1.toy", format="toy_plain")
    np.testing.assert_array_equal(plain["traces"].values, [[1, 2], [3, 4], [5, 6]])
    assert reader_options("toy_plain", {"reader": "toy_plain", "files": ["a1.toy"], "scale": 3.0, "trace": "C+YrA",
                                        "neuropil_coefficient": 0.7, "sampling_rate_hz": 2.0}) == {
        "scale": 3.0, "sampling_rate_hz": 2.0}
    assert reader_options("toy", {"reader": "toy", "scale": 3.0, "neuropil_coefficient": 0.7}) == {"scale": 3.0}
    # the built-ins are still there
    assert set(BUILTIN_READERS) <= set(FORMATS)


def test_broken_and_clashing_plugins(monkeypatch, tmp_path, caplog):
    fake_entry_points(monkeypatch, tmp_path, {"broken": "no_such_module_xyz:READER",
                                              "csv": "toy_plugin:READER",
                                              "notareader": "toy_plugin:NOT_A_READER"})
    with caplog.at_level(logging.WARNING, logger="neurodyn.data"):
        readers = available_readers()
    assert "broken" not in readers and "no_such_module_xyz" in caplog.text
    assert readers["csv"].read.__module__ == "neurodyn.data.readers.arrays"  # a built-in name keeps its reader
    assert "reuses a built-in reader name" in caplog.text
    path = write_toy(tmp_path / "x.toy")
    with pytest.raises(InvalidInputError, match="field 'format'") as info:
        read_recording(path, format="broken")
    assert "no_such_module_xyz" in str(info.value) and str(path) in str(info.value)
    with pytest.raises(InvalidInputError, match="expected a neurodyn.data.readers.Reader"):
        get_reader("notareader")
    with pytest.raises(InvalidInputError, match="unknown format 'nope'"):
        read_recording(path, format="nope")


def test_builtin_table_equals_the_pyproject_entry_points():
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert table == BUILTIN_READERS
    for name in BUILTIN_READERS:
        reader = get_reader(name)
        assert isinstance(reader, Reader) and reader.description


def test_installed_metadata_if_reinstalled_points_to_the_same_objects():
    # an editable install made before a reader existed lacks its entry point: the fallback table covers it
    listed = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name, value in listed.items():
        if name in BUILTIN_READERS:
            assert value == BUILTIN_READERS[name]


def test_schema_names_every_builtin_reader_and_its_defaults():
    from defaults_sync import SCHEMA, library_defaults

    from neurodyn.data.readers import read_caiman, read_suite2p

    dataset = SCHEMA["properties"]["datasets"]["additionalProperties"]["properties"]
    description = dataset["reader"]["description"]
    for name in BUILTIN_READERS:
        assert name in description
    assert "synthetic" in description
    for func, keys in ((read_suite2p, ("neuropil_coefficient", "baseline_percentile", "baseline_window_s")),
                       (read_caiman, ("trace",))):
        lib = library_defaults(func)
        for key in keys:
            assert dataset[key]["default"] == lib[key], key
    assert dataset["trace"]["enum"] == list(importlib.import_module("neurodyn.data.readers.caiman").TRACES)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert all(d["reader"] in set(BUILTIN_READERS) | {"synthetic"} for d in config["datasets"].values())
