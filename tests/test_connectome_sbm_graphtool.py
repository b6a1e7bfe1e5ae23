"""The description length against graph-tool's entropy on fixed partitions.

graph-tool is not a dependency: where a system Python imports it (Debian's
``python3-graph-tool``; ``$NEURODYN_GRAPHTOOL_PYTHON`` names another interpreter), the
script ``tests/graphtool_entropy.py`` computes ``BlockState``/``NestedBlockState``
entropies of the same graph and partitions in a subprocess; elsewhere the comparison is
skipped.  Conventions matched (graph-tool defaults unless said):

- flat: ``BlockState(g, b, recs=[x], rec_types=[...], deg_corr=...).entropy()`` — sparse
  microcanonical adjacency, ``ln N`` in the partition prior, flat edge-count prior,
  microcanonical covariates with ``recs_dl`` (the pair sums as one group above);
- nested: the sum of ``NestedBlockState.level_entropy(l)`` over levels, level 0 taken with
  ``recs_dl=False``: graph-tool's level 0 describes its block-pair sums once more as one
  flat group although level 1 already describes them; the library counts them once (the
  difference is exactly that flat term, checked).  ``entropy()`` adds, for ``real-normal``
  covariates only, a term for the precision of the residual variances
  (``_Lrecdx_entropy``) that the library leaves out; for ``real-exponential`` the sum of
  levels equals ``entropy()`` (checked);
- degree-corrected fits are compared with ``degree_dl_kind="uniform"``: graph-tool 2.45's
  table of ``q(m, n)`` (integer partitions, used by the "distributed" degree prior) gives,
  e.g., ``q(4, 2) = 2`` where the partitions of 4 into at most 2 parts are {4, 3+1, 2+2};
  the library's exact ``q`` is checked against enumeration below instead;
- log-normal = graph-tool's ``real-normal`` on ``log w`` plus the Jacobian ``Σ ln w``;
- planted partition: ``PPBlockState(g, b).entropy(degree_dl_kind="uniform")`` (unweighted).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from neurodyn.connectome.sbm import objective as ob

SCRIPT = Path(__file__).with_name("graphtool_entropy.py")


@lru_cache(maxsize=1)
def graphtool_python() -> str | None:
    """A Python interpreter that imports graph_tool, or None."""
    for cand in (os.environ.get("NEURODYN_GRAPHTOOL_PYTHON"), "/usr/bin/python3", shutil.which("python3")):
        if not cand or not Path(cand).exists():
            continue
        try:
            ok = subprocess.run([cand, "-c", "import graph_tool.all"], capture_output=True, timeout=120).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return cand
    return None


def _graph(seed=0, n=40):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 3, n)
    adj = np.triu(rng.random((n, n)) < np.where(groups[:, None] == groups[None, :], 0.4, 0.1), 1)
    w = np.where(adj, rng.exponential(1.5, (n, n)), 0.0)
    return w + w.T


def _hierarchies(rng, n):
    out = [[np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)]]
    for b0, b1 in ((3, 2), (5, 2), (6, 3), (8, 4)):
        lab0 = np.unique(rng.integers(0, b0, n), return_inverse=True)[1].reshape(-1)
        lab1 = np.unique(rng.integers(0, b1, lab0.max() + 1), return_inverse=True)[1].reshape(-1)
        h = [lab0, lab1]
        if lab1.max() > 0:
            h.append(np.zeros(lab1.max() + 1, dtype=np.int64))
        h.append(np.zeros(1, dtype=np.int64))
        out.append(h)
    return out


CASES = [(wm, v) for wm in ("exponential", "normal", "lognormal", "none") for v in ("plain", "degree_corrected")]


@pytest.fixture(scope="module")
def graphtool_rows(tmp_path_factory):
    """graph-tool's entropies for every case, from one subprocess."""
    python = graphtool_python()
    if python is None:
        pytest.skip("graph-tool is not importable by any system Python (apt-get install python3-graph-tool)")
    tmp = tmp_path_factory.mktemp("graphtool")
    args, outs = [], {}
    for wm, variant in CASES:
        graph = ob.make_graph(_graph(seed=1), wm)
        data = dict(n=graph.n, i=graph.i, j=graph.j, x=graph.x, rec_type=REC_TYPES[wm],
                    deg_corr=variant == "degree_corrected")
        for k, h in enumerate(_hierarchies(np.random.default_rng(2), graph.n)):
            data[f"levels_{k}"] = np.concatenate(h)
            data[f"sizes_{k}"] = [len(x) for x in h]
        src, dst = tmp / f"{wm}_{variant}.npz", tmp / f"{wm}_{variant}.json"
        np.savez(src, **data)
        args += [str(src), str(dst)]
        outs[wm, variant] = dst
    subprocess.run([python, str(SCRIPT), *args], check=True, timeout=600)
    return {key: json.loads(path.read_text()) for key, path in outs.items()}


REC_TYPES = {"exponential": "real-exponential", "normal": "real-normal", "lognormal": "real-normal",
             "none": "none"}


@pytest.mark.parametrize("weight_model, variant", CASES)
def test_description_length_equals_graphtool_entropy(graphtool_rows, weight_model, variant):
    graph = ob.make_graph(_graph(seed=1), weight_model)
    hierarchies = _hierarchies(np.random.default_rng(2), graph.n)
    dc = variant == "degree_corrected"
    rows = graphtool_rows[weight_model, variant]
    log_q = ob.LogQ(int(graph.degree.sum()), graph.n)
    for h, row in zip(hierarchies, rows):
        sums = ob.block_sums(graph, h[0], None, ob._degree_classes(graph) if dc else None)
        terms = ob.level0_dl(graph, sums, variant, log_q)
        # degree prior swapped for the uniform one (see the module doc)
        swap = (ob.degree_dl(sums, None, "uniform") - terms["degrees"]) if dc else 0.0
        flat = ob.flat_dl(graph, sums, variant, log_q) + swap - graph.jacobian
        assert flat == pytest.approx(row["flat_uniform"], rel=1e-10, abs=1e-8)
        assert terms["adjacency"] == pytest.approx(row["adjacency"], rel=1e-10, abs=1e-8)
        assert terms["partition"] == pytest.approx(row["partition"], rel=1e-10, abs=1e-8)
        assert terms["weights"] - graph.jacobian == pytest.approx(row["weights"], rel=1e-10, abs=1e-8)
        nested, nterms = ob.nested_dl(graph, h[0], h[1:], variant, log_q, terms=True)
        nested += (ob.degree_dl(sums, None, "uniform") - nterms["degrees"] if dc else 0.0) - graph.jacobian
        assert nested == pytest.approx(row["levels_uniform_once"], rel=1e-10, abs=1e-8)
        # graph-tool's own total adds the level-0 pair sums once more (flat, as in
        # ``recs_dl``) and, for real-normal, the variance-precision term.
        occ = ob._upper(sums.edges) > 0
        again = ob.sums_dl(ob._upper(sums.weight)[occ], weight_model)
        assert nested + again == pytest.approx(row["levels_uniform"], rel=1e-10, abs=1e-8)
        if weight_model in ("exponential", "none"):
            assert nested + again == pytest.approx(row["nested_uniform"], rel=1e-10, abs=1e-8)
        if weight_model == "none" and dc:
            pp, pterms = ob.planted_partition_dl(graph, h[0], log_q, terms=True)
            pp += ob.degree_dl(sums, None, "uniform") - pterms["degrees"]
            assert pp == pytest.approx(row["planted_partition_uniform"], rel=1e-10, abs=1e-8)


def _partitions(m, largest):
    """All partitions of m into parts ≤ largest (for counting)."""
    if m == 0:
        yield ()
        return
    for first in range(min(m, largest), 0, -1):
        for rest in _partitions(m - first, first):
            yield (first,) + rest


def test_log_q_counts_integer_partitions():
    log_q = ob.LogQ(30, 12)
    for m in range(0, 31):
        parts = list(_partitions(m, m))
        for n in range(1, 13):
            count = sum(1 for p in parts if len(p) <= n)
            assert np.exp(log_q(m, n)) == pytest.approx(count, rel=1e-9), (m, n)
    # Szekeres' asymptotic form, used beyond the exact table, is within 1 % (log scale).
    table = ob._log_q_table(3000, 300)
    for m, n in ((2000, 100), (3000, 300), (1000, 5), (278, 40)):
        assert ob._log_q_approx(np.array([m * 1.0]), np.array([n * 1.0]))[0] == pytest.approx(table[m, n], rel=0.01)
