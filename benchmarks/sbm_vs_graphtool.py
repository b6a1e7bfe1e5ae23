"""The nested weighted SBM against graph-tool's on weighted LFR graphs: time, description length, NMI.

Graphs: topology from ``networkx.LFR_benchmark_graph`` (τ1 = 2.5, τ2 = 1.5, mean degree 15;
120 nodes with communities of 10–40, 1000 nodes with communities of 20–100), weights
exponential with mean 2 inside communities and 1 across (the weights carry community
signal of their own).  Both fits use the paper's setting: nested, degree-corrected,
real-exponential weights.

- ours: ``weighted_sbm(W, weight_model="exponential", variants=("degree_corrected",))``,
  and, on the 120-node graphs, the library default (``weight_model="auto"``, both
  variants: 6 searches) for reference;
- graph-tool: ``minimize_nested_blockmodel_dl(g, state_args=dict(recs=[w],
  rec_types=["real-exponential"], deg_corr=True))`` in a system Python that imports
  graph-tool (timed inside that process, import excluded).

Reported per graph: wall times and their ratio (ours / graph-tool), the description
length of each result under the *same* objective — ours (``nested_dl`` of each side's own
hierarchy) and graph-tool's (``NestedBlockState(...).entropy()`` of each side's
hierarchy) — the number of blocks, and NMI to the planted partition; plus the realised
topological mixing.  Run single-threaded and niced:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        python benchmarks/sbm_vs_graphtool.py            # → benchmarks/results/sbm_vs_graphtool.{csv,json}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score as nmi

from neurodyn.connectome.communities import leiden, leiden_available, louvain, weighted_sbm
from neurodyn.connectome.sbm import objective as ob
from neurodyn.io import write_csv, write_json

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"

GT_SCRIPT = r'''
import json, sys, time
import numpy as np
import graph_tool.all as gt
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = np.load(src, allow_pickle=False)
n = int(d["n"])
g = gt.Graph(directed=False)
g.add_vertex(n)
g.add_edge_list(np.c_[d["i"], d["j"]])
w = g.new_ep("double")
w.a = d["w"]
args = dict(recs=[w], rec_types=["real-exponential"], deg_corr=True)
gt.seed_rng(seed)
np.random.seed(seed)
t = time.perf_counter()
state = gt.minimize_nested_blockmodel_dl(g, state_args=args)
elapsed = time.perf_counter() - t
bs = [np.asarray(b, dtype=np.int64) for b in state.get_bs()]
# keep levels down to (and including) the first with one group
keep = []
for b in bs:
    keep.append(b)
    if len(set(b.tolist())) == 1:
        break
ours = [np.asarray(d[f"ours_{k}"], dtype=np.int64) for k in range(int(d["ours_levels"]))]
ours_state = gt.NestedBlockState(g, bs=ours, state_args=args)
json.dump({"time_s": elapsed, "entropy": state.entropy(), "bs": [b.tolist() for b in keep],
           "entropy_of_ours": ours_state.entropy()}, open(dst, "w"))
'''


def graphtool_python() -> str | None:
    for cand in (os.environ.get("NEURODYN_GRAPHTOOL_PYTHON"), "/usr/bin/python3"):
        if cand and Path(cand).exists() and subprocess.run([cand, "-c", "import graph_tool.all"],
                                                          capture_output=True).returncode == 0:
            return cand
    return None


def lfr_graph(n: int, mu: float, seed: int):
    """LFR topology (networkx) with exponential weights, mean 2 inside communities, 1 across."""
    small = n < 500
    kw = dict(average_degree=15, max_degree=40 if small else 50, min_community=10 if small else 20,
              max_community=40 if small else 100)
    for s in range(seed, seed + 200):
        try:
            g = nx.LFR_benchmark_graph(n, 2.5, 1.5, mu, seed=s, **kw)
            break
        except nx.ExceededMaxIterations:
            continue
    truth = np.zeros(n, dtype=np.int64)
    for c, members in enumerate(sorted({frozenset(g.nodes[v]["community"]) for v in g}, key=min)):
        truth[list(members)] = c
    rng = np.random.default_rng(seed)
    w = np.zeros((n, n))
    for a, b in g.edges():
        if a != b:
            w[a, b] = w[b, a] = rng.exponential(2.0 if truth[a] == truth[b] else 1.0)
    i, j = np.nonzero(np.triu(w, 1))
    mixing = float(np.mean(truth[i] != truth[j]))
    return w, truth, mixing, s


def from_graphtool(bs):
    """graph-tool's ``bs`` (raw block ids, empty blocks included) as contiguous labels:
    level-0 labels and the upper levels over the occupied blocks only."""
    used, lab = np.unique(np.asarray(bs[0]), return_inverse=True)
    levels = [lab.reshape(-1)]
    for b in bs[1:]:
        used, lab = np.unique(np.asarray(b)[used], return_inverse=True)
        levels.append(lab.reshape(-1))
    if levels[-1].size > 1 or len(levels) == 1:
        levels.append(np.zeros(1, dtype=np.int64))
    return levels


def full_hierarchy(labels, hierarchy):
    """Hierarchy as graph-tool's ``bs``: level-0 labels, then each upper level."""
    return [np.asarray(labels)] + [np.asarray(h) for h in hierarchy]


def run(n: int, mu: float, seed: int, python: str, auto_max_n: int = 200) -> dict:
    w, truth, mixing, lfr_seed = lfr_graph(n, mu, seed)
    t = time.perf_counter()
    fit = weighted_sbm(w, weight_model="exponential", variants=("degree_corrected",), random_state=seed)
    t_ours = time.perf_counter() - t
    auto, t_auto = None, float("nan")
    if n <= auto_max_n:
        t = time.perf_counter()
        auto = weighted_sbm(w, random_state=seed)
        t_auto = time.perf_counter() - t
    graph = ob.make_graph(w, "exponential")
    ours_bs = full_hierarchy(fit.labels, fit.hierarchy)
    i, j = np.nonzero(np.triu(w, 1))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, script = Path(tmp) / "g.npz", Path(tmp) / "out.json", Path(tmp) / "fit.py"
        np.savez(src, n=n, i=i, j=j, w=w[i, j], ours_levels=len(ours_bs),
                 **{f"ours_{k}": b for k, b in enumerate(ours_bs)})
        script.write_text(GT_SCRIPT)
        subprocess.run([python, str(script), str(src), str(dst), str(seed)], check=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
        gt = json.loads(dst.read_text())
    gt_bs = from_graphtool(gt["bs"])
    with np.errstate(all="ignore"):
        gt_dl_ours = ob.nested_dl(graph, gt_bs[0], gt_bs[1:], "degree_corrected")
    return {"n": n, "mu": mu, "seed": seed, "lfr_seed": lfr_seed, "realised_mu": mixing,
            "n_edges": int(i.size), "planted_blocks": int(truth.max() + 1),
            "time_ours_s": t_ours, "time_graphtool_s": gt["time_s"], "time_ratio": t_ours / gt["time_s"],
            "time_ours_auto_s": t_auto,
            "dl_ours": fit.description_length, "dl_graphtool_in_our_objective": gt_dl_ours,
            "entropy_graphtool": gt["entropy"], "entropy_graphtool_of_ours": gt["entropy_of_ours"],
            "blocks_ours": fit.n_blocks, "blocks_graphtool": int(gt_bs[0].max() + 1),
            "blocks_ours_auto": auto.n_blocks if auto else None,
            "weight_model_auto": auto.weight_model if auto else None, "variant_auto": auto.variant if auto else None,
            "nmi_ours": nmi(truth, fit.labels), "nmi_graphtool": nmi(truth, gt_bs[0]),
            "nmi_ours_auto": nmi(truth, auto.labels) if auto else float("nan"),
            "nmi_louvain": nmi(truth, louvain(w, random_state=seed)),
            "nmi_leiden": nmi(truth, leiden(w, random_state=seed)) if leiden_available() else float("nan")}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", type=int, nargs="*", default=[0, 1], help="seeds of the 120-node graphs")
    p.add_argument("--large", type=int, nargs="*", default=[0], help="seeds of the 1000-node graphs")
    p.add_argument("--mus", type=float, nargs="*", default=[0.1, 0.3, 0.5])
    p.add_argument("--large-mus", type=float, nargs="*", default=[0.3])
    p.add_argument("--out", default=str(OUT / "sbm_vs_graphtool"))
    args = p.parse_args(argv)
    python = graphtool_python()
    if python is None:
        sys.exit("graph-tool is not importable by a system Python (apt-get install python3-graph-tool)")
    rows = []
    jobs = [(120, mu, s) for mu in args.mus for s in args.small] + [(1000, mu, s) for mu in args.large_mus
                                                                     for s in args.large]
    for n, mu, seed in jobs:
        row = run(n, mu, seed, python)
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    df = pd.DataFrame(rows)
    cols = ["time_ours_s", "time_graphtool_s", "time_ratio", "time_ours_auto_s", "nmi_ours", "nmi_graphtool",
            "nmi_ours_auto", "nmi_louvain", "nmi_leiden"]
    summary = df.groupby("n")[cols].median().reset_index()
    version = subprocess.run([python, "-c", "import graph_tool; print(graph_tool.__version__)"], capture_output=True,
                             text=True).stdout.strip()
    out = Path(args.out)
    write_csv(df, out.with_suffix(".csv"), index=False)
    given = " ".join(argv if argv is not None else sys.argv[1:])
    write_json({"command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 "
                           "python benchmarks/sbm_vs_graphtool.py " + given,
                "graph_tool_version": version, "median_by_n": summary.to_dict(orient="records"),
                "max_time_ratio": float(df["time_ratio"].max()), "rows": rows}, out.with_suffix(".json"))
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
