"""The built wheel works on its own: bundled tables, console script, licence, citation.

The wheel is built from a copy of the sources (so the checkout is left untouched),
installed into a fresh virtual environment outside the repository, and used from a
third directory with no PYTHONPATH: the anatomy loaders and the biological RNN inits must
find their tables as package data.  The new environment reaches the already installed
dependencies (numpy, pandas, ...) through a ``.pth`` line, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
BUNDLED = REPO / "neurodyn" / "data" / "bundled"

CHECK = r"""
import json, sys
from pathlib import Path
import neurodyn
from neurodyn.data import anatomy
from neurodyn.circuits import inits

out = {"file": neurodyn.__file__, "version": neurodyn.__version__, "data_dir": str(anatomy.bundled_data_dir()),
       "edges": {n: len(anatomy.load_connectome(n)) for n in anatomy.CONNECTOMES},
       "v1": list(anatomy.load_v1_pmax().shape)}
out["connectome_neurons"] = len(anatomy.connectome_neurons("witvliet_2020_8"))
def weights(result):  # the inits return W, or (W, labels)
    return result[0] if isinstance(result, tuple) else result
W, names = inits.celegans_init("witvliet_2020_8")
out["celegans_init"] = [list(W.shape), len(names)]
out["v1_init"] = list(weights(inits.v1_init(30)).shape)
print(json.dumps(out))
"""


# no PYTHONPATH (a source checkout on it would shadow, and to pip satisfy, the wheel)
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "NEURODYN_DATA", "PYTHONHOME"}}


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("env", CLEAN_ENV)
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "neurodyn", src / "neurodyn", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    # --no-build-isolation: build with the setuptools already installed (works offline)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", dist, src])
    (whl,) = dist.glob("neurodyn-*.whl")
    return whl


def test_wheel_contains_the_bundled_tables_and_the_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"neurodyn/data/bundled/{p.relative_to(BUNDLED).as_posix()}" for p in BUNDLED.rglob("*.csv")}
    assert len(expected) == 4
    assert expected <= names, sorted(expected - names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "neurodyn = neurodyn.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_in_a_fresh_venv_loads_connectomes_and_v1_from_anywhere(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "--quiet", wheel])
    # dependencies only: the shared site-packages as a plain path (its .pth files, such as
    # an editable neurodyn, are not processed, so the only neurodyn is the wheel's)
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "shared_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = json.loads(_run([py, "-c", CHECK], cwd=elsewhere).stdout)
    print(json.dumps(out, indent=2))  # shown with -s
    assert Path(out["file"]).is_relative_to(site), out["file"]
    assert Path(out["data_dir"]).is_relative_to(site)
    assert out["version"] == PYPROJECT["project"]["version"]
    # the same tables as in the source tree
    for name, n in out["edges"].items():
        assert n == len(pd.read_csv(BUNDLED / "connectome" / f"{name}.csv")), name
    assert out["v1"] == [19, 19]
    n = out["connectome_neurons"]
    assert n > 100  # the adult head connectome
    assert out["celegans_init"] == [[n, n], n]
    assert out["v1_init"] == [30, 30]
    script = _run([venv / "bin" / "neurodyn", "info"], cwd=elsewhere)
    assert script.stdout.startswith(f"neurodyn  {out['version']}")


def test_licence_is_the_declared_bsd_3_clause():
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder nor the names of its" in text


def test_console_script_is_declared():
    # project.urls stays out until the project has a public address: no invented links
    assert all("neurodyn/neurodyn" not in u for u in PYPROJECT["project"].get("urls", {}).values())
    assert PYPROJECT["project"]["scripts"] == {"neurodyn": "neurodyn.cli:main"}


def test_citation_cff_is_valid_cff_1_2():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    # required keys of CFF 1.2.0 and the software's own metadata
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"].strip() and cff["title"].strip() and cff["type"] == "software"
    assert cff["version"] == PYPROJECT["project"]["version"]
    assert cff["license"] == PYPROJECT["project"]["license"]
    _check_authors(cff["authors"])
    titles = {r["title"] for r in cff["references"]}
    for method in ("functional connectome", "One-hot generalized linear model", "gain control",
                   "rich and lazy learning"):
        assert any(method in t for t in titles), method
    for ref in cff["references"]:
        assert ref["type"] in {"article", "conference-paper", "software", "data"}, ref["type"]
        assert isinstance(ref["year"], int) and 1900 < ref["year"] < 2100
        _check_authors(ref["authors"])
        if ref["type"] == "conference-paper":
            assert ref["conference"]["name"]


def _check_authors(authors):
    assert authors, "CFF needs at least one author"
    for a in authors:
        assert set(a) <= {"family-names", "given-names", "name", "orcid", "affiliation", "email"}, a
        assert a.get("family-names") or a.get("name"), a


def test_import_neurodyn_is_a_front_door():
    code = ("import sys, neurodyn; assert 'neurodyn.connectome' not in sys.modules; "
            "assert neurodyn.connectome.connectome and neurodyn.states and neurodyn.data.read_recording; "
            "assert set(neurodyn.SUBPACKAGES) <= set(dir(neurodyn)); "
            "import pytest; pytest.raises(AttributeError, getattr, neurodyn, 'nope')")
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", code], check=True)
