"""The library leaves the user's matplotlib alone.

Importing ``neurodyn`` or ``neurodyn.plots`` must not switch the backend (a
``matplotlib.use("Agg")`` at import breaks inline plotting in notebooks), and drawing a
neurodyn figure must neither create pyplot figures nor change the global rcParams.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PLOT_MODULES = sorted(p.stem for p in (REPO / "neurodyn" / "plots").glob("*.py") if p.stem != "__init__")

IMPORT_CHECK = r"""
import importlib, json, sys
import matplotlib
matplotlib.use("svg")                      # a user's choice, not neurodyn's default
before_backend = matplotlib.get_backend()
before_rc = {k: repr(v) for k, v in matplotlib.rcParams.items()}
import neurodyn, neurodyn.plots
for name in sys.argv[1:]:
    importlib.import_module("neurodyn.plots." + name)
changed = sorted(k for k, v in matplotlib.rcParams.items() if repr(v) != before_rc[k])
print(json.dumps({"before": before_backend, "after": matplotlib.get_backend(), "rc_changed": changed,
                  "pyplot_imported": "matplotlib.pyplot" in sys.modules}))
"""


def test_importing_neurodyn_and_its_plots_keeps_the_backend_and_rcparams():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("MPLBACKEND", None)
    out = subprocess.run([sys.executable, "-c", IMPORT_CHECK, *PLOT_MODULES], capture_output=True, text=True,
                         timeout=120, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["before"] == "svg"
    assert result["after"] == "svg"
    assert result["rc_changed"] == []
    assert not result["pyplot_imported"]


def test_no_backend_switch_or_pyplot_in_the_library():
    offenders = []
    for path in sorted((REPO / "neurodyn").rglob("*.py")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"matplotlib\.use\(|import\s+matplotlib\.pyplot|from\s+matplotlib\s+import\s+pyplot|"
                         r"\bplt\.(figure|subplots|gcf|gca|close|rc)", code):
                offenders.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_figures_are_explicit_objects_styled_without_touching_global_state(tmp_path):
    import matplotlib
    from matplotlib.figure import Figure

    from neurodyn.data import make_recording
    from neurodyn.plots import style
    from neurodyn.plots.qc import plot_recording_qc

    rng = np.random.default_rng(0)
    rec = make_recording(rng.normal(size=(120, 5)), np.arange(120) / 2.0, ["AVAL", "AVAR", "roi_002", "RIML", "SMDV"],
                         animal="w1", behavior={"velocity": rng.normal(size=120)})
    before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
    with matplotlib.rc_context({"font.size": 17.0}):  # a user's own style stays theirs
        fig = plot_recording_qc(rec, max_neurons=5)
        assert matplotlib.rcParams["font.size"] == 17.0
    assert type(fig) is Figure
    assert fig.canvas.manager is None  # not a pyplot-managed figure
    assert {k for k, v in matplotlib.rcParams.items() if repr(v) != before[k]} == set()
    # ... yet drawn in the project's style
    heat = fig.axes[0]
    assert heat.xaxis.label.get_fontsize() == style.RC["axes.labelsize"] or heat.yaxis.label.get_fontsize() == 8
    assert not heat.spines["top"].get_visible()
    written = style.save(fig, tmp_path / "qc")
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in written)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
