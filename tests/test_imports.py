"""neurodyn.imports: the library code a script uses, read from its imports.

A made-up package under tmp_path covers each form of import; the real workflow scripts
check the separations the per-rule code versions rely on (plotting apart from fitting,
the community search apart from the NTF, brain states apart from connectome and circuits).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

import neurodyn
from neurodyn.imports import ModuleGraph, code_hash, library_modules, module_files

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"

PACKAGE = {
    "pkg/__init__.py": '"""Top."""\n',
    "pkg/core.py": "import numpy as np\nfrom pkg.util import helper\n\ndef run():\n    return helper()\n",
    "pkg/util.py": "def helper():\n    return 1\n",
    "pkg/heavy.py": "from pkg.deep import slow\n\ndef search():\n    return slow()\n",
    "pkg/deep.py": "def slow():\n    return 2\n",
    "pkg/lazy.py": "def later():\n    from pkg.deep import slow\n    return slow()\n",
    "pkg/mixed.py": textwrap.dedent("""\
        from pkg.heavy import search
        from pkg.util import helper

        LIMIT = 3

        def light():
            return helper() + LIMIT

        def _inner():
            return search()

        def uses_inner():
            return _inner()
        """),
    "pkg/sub/__init__.py": textwrap.dedent("""\
        from pkg.sub.alpha import a
        from pkg.sub.beta import b
        from .gamma import *
        """),
    "pkg/sub/alpha.py": "from .. import util\n\ndef a():\n    return util.helper()\n",
    "pkg/sub/beta.py": "from ..heavy import search\n\ndef b():\n    return search()\n",
    "pkg/sub/gamma.py": "def g():\n    return 3\n",
    "pkg/guarded.py": textwrap.dedent("""\
        try:
            from pkg.util import helper
        except ImportError:
            helper = None

        def use():
            return helper()
        """),
    "pkg/named.py": 'TABLE = "pkg.deep:slow"\n',
    "pkg/tables.py": 'from pathlib import Path\n\nDATA = Path(__file__).parent / "bundled"\n',
    "pkg/bundled/t.csv": "a,b\n1,2\n",
    "pkg/bundled/notes.txt": "not read\n",
}


@pytest.fixture
def tree(tmp_path) -> Path:
    for rel, text in PACKAGE.items():
        path = tmp_path / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "src"


def _modules(tree: Path, code: str) -> list[str]:
    script = tree.parent / "script.py"
    script.write_text(textwrap.dedent(code))
    return ModuleGraph("pkg", tree).modules_of(script)


def test_direct_and_transitive_imports_are_followed(tree):
    assert _modules(tree, "from pkg.core import run\n") == ["pkg", "pkg.core", "pkg.util"]
    assert _modules(tree, "import pkg.core\n") == ["pkg", "pkg.core", "pkg.util"]
    assert _modules(tree, "import pkg.core as c\n") == ["pkg", "pkg.core", "pkg.util"]
    assert _modules(tree, "from pkg import core\n") == ["pkg", "pkg.core", "pkg.util"]
    # other packages (numpy) are not followed
    assert _modules(tree, "import numpy\nimport os\n") == []


def test_lazy_imports_inside_functions_count(tree):
    assert _modules(tree, "from pkg.lazy import later\n") == ["pkg", "pkg.deep", "pkg.lazy"]
    assert _modules(tree, "def f():\n    import pkg.util\n") == ["pkg", "pkg.util"]


def test_a_name_follows_only_what_its_definition_needs(tree):
    # light() uses helper and LIMIT, not search: pkg.heavy is not followed
    assert _modules(tree, "from pkg.mixed import light\n") == ["pkg", "pkg.mixed", "pkg.util"]
    # uses_inner -> _inner -> search: followed through the module's own definitions
    assert _modules(tree, "from pkg.mixed import uses_inner\n") == [
        "pkg", "pkg.deep", "pkg.heavy", "pkg.mixed"]
    # a name that is not defined there: the whole module
    assert _modules(tree, "from pkg.mixed import missing\n") == [
        "pkg", "pkg.deep", "pkg.heavy", "pkg.mixed", "pkg.util"]


def test_a_package_reexport_follows_the_one_binding(tree):
    # sub/__init__ re-exports a (alpha -> util) and b (beta -> heavy -> deep)
    assert _modules(tree, "from pkg.sub import a\n") == ["pkg", "pkg.sub", "pkg.sub.alpha", "pkg.util"]
    assert _modules(tree, "from pkg.sub import b\n") == [
        "pkg", "pkg.deep", "pkg.heavy", "pkg.sub", "pkg.sub.beta"]
    # importing a submodule runs the package __init__ (its text counts) but not its re-exports
    assert _modules(tree, "import pkg.sub.alpha\n") == ["pkg", "pkg.sub", "pkg.sub.alpha", "pkg.util"]
    # a name from the star import: not bound by name, so the whole package
    assert "pkg.sub.gamma" in _modules(tree, "from pkg.sub import g\n")


def test_relative_imports_resolve_against_their_package(tree):
    graph = ModuleGraph("pkg", tree)
    assert graph.modules_of(tree / "pkg/sub/alpha.py") == ["pkg", "pkg.sub", "pkg.sub.alpha", "pkg.util"]
    assert graph.modules_of(tree / "pkg/sub/beta.py") == ["pkg", "pkg.deep", "pkg.heavy", "pkg.sub", "pkg.sub.beta"]


def test_guarded_imports_and_module_names_in_strings(tree):
    assert _modules(tree, "from pkg.guarded import use\n") == ["pkg", "pkg.guarded", "pkg.util"]
    assert _modules(tree, 'import importlib\nm = importlib.import_module("pkg.deep")\n') == ["pkg", "pkg.deep"]
    assert _modules(tree, "from pkg.named import TABLE\n") == ["pkg", "pkg.deep", "pkg.named"]


def test_named_data_files_are_hashed_with_their_module(tree):
    script = tree.parent / "script.py"
    script.write_text("from pkg.tables import DATA\n")
    files = ModuleGraph("pkg", tree).files_of(script)
    assert tree / "pkg/bundled/t.csv" in files
    assert tree / "pkg/bundled/notes.txt" not in files
    before = ModuleGraph("pkg", tree).code_hash(script)
    (tree / "pkg/bundled/t.csv").write_text("a,b\n1,3\n")
    assert ModuleGraph("pkg", tree).code_hash(script) != before


def test_hash_changes_with_the_used_code_only_and_not_with_location(tree, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from pkg.mixed import light\n")
    h = ModuleGraph("pkg", tree).code_hash(script)
    assert len(h) == 64
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    assert ModuleGraph("pkg", copy).code_hash(script) == h
    (tree / "pkg/deep.py").write_text("def slow():\n    return 99\n")  # not used by light()
    assert ModuleGraph("pkg", tree).code_hash(script) == h
    (tree / "pkg/util.py").write_text("def helper():\n    return 5\n")
    assert ModuleGraph("pkg", tree).code_hash(script) != h
    (tree / "pkg/__pycache__").mkdir()
    (tree / "pkg/__pycache__/util.cpython-311.pyc").write_bytes(b"\0")
    assert "pkg/__pycache__" not in " ".join(map(str, ModuleGraph("pkg", tree).files_of(script)))


def test_the_installed_library_is_the_default(tmp_path):
    script = SCRIPTS / "qc_figure.py"
    root = Path(neurodyn.__file__).resolve().parents[1]
    assert library_modules(script) == ModuleGraph("neurodyn", root).modules_of(script)
    assert code_hash(script) == ModuleGraph("neurodyn", root).code_hash(script)
    assert all(p.is_file() for p in module_files(script))


# -- the workflow's scripts ------------------------------------------------------------
def _uses(script: str) -> list[str]:
    return library_modules(SCRIPTS / script)


def test_every_script_resolves_and_fits_or_simulates_without_plots():
    graph = ModuleGraph("neurodyn")
    for script in sorted(SCRIPTS.glob("*.py")):
        modules = graph.modules_of(script)
        drawing = "figure" in script.stem
        if not drawing:
            assert not [m for m in modules if m.startswith("neurodyn.plots")], script.name


def test_only_the_community_step_uses_the_sbm():
    sbm = {s.name for s in SCRIPTS.glob("*.py") if any(m.startswith("neurodyn.connectome.sbm") for m in _uses(s.name))}
    assert sbm == {"connectome_communities.py"}, sorted(sbm)


def test_brain_states_are_apart_from_connectome_and_circuits():
    for script in SCRIPTS.glob("*.py"):
        modules = _uses(script.name)
        if script.name.startswith(("connectome_", "gain_control_", "rich_lazy_")) or script.name in {
                "synthesize.py", "ingest_recording.py", "cohort.py"}:
            assert not [m for m in modules if m.startswith("neurodyn.states")], script.name
