"""Community detection on weighted LFR benchmark graphs and on a no-structure control.

Graphs from :func:`neurodyn.connectome.synthetic.weighted_lfr_graph` (Lancichinetti,
Fortunato & Radicchi 2008 topology from networkx, weighted-LFR strengths of Lancichinetti &
Fortunato 2009): degree exponent τ1 = 2, community-size exponent τ2 = 1.5, strength
exponent β = 1.5;

- 120 nodes: mean degree 15, maximum degree 30, communities of 10–40 nodes;
- 1000 nodes: mean degree 20, maximum degree 50, communities of 20–100 nodes (the "big
  communities" setting of Lancichinetti et al. 2008);
- topological mixing μ_t ∈ {0.1, 0.3, 0.5}, each with weight mixing μ_w = μ_t / 2 (internal
  edges on average heavier: the weights carry community signal) and μ_w = μ_t (no weight
  signal beyond the topology);
- the no-structure control: for every size and seed, a configuration-model graph with the
  degree sequence of the μ_t = 0.3 graph and weights drawn i.i.d. from its weights
  (:func:`~neurodyn.connectome.synthetic.lfr_null_graph`), and a complete graph with i.i.d.
  exponential weights (the shape of a pair-factor graph; :func:`complete_null_graph`);
  the right answer is one group.

Methods, each with its public entry point and the graph's seed as ``random_state``:

- ``ours``: the default, :func:`neurodyn.connectome.communities.leiden_dl` (Leiden's
  partition, its coarser hierarchy levels or one group, by nested-SBM description length);
- ``sbm``: the paper's model, :class:`neurodyn.connectome.communities.WeightedSBM`
  (description length), ``max_blocks`` 16 at 120 nodes and 30 at 1000 (``--max-blocks``),
  other settings default;
- ``louvain`` and ``leiden`` from :mod:`neurodyn.connectome.communities` (modularity);
- ``graph-tool``: graph-tool's nested SBM, degree-corrected, with real-exponential edge
  weights (``benchmarks/graph_tool_nested_sbm.py``, run by the system interpreter that has
  ``python3-graph-tool``; skipped when graph-tool does not import there).

Every row of ``benchmarks/results/community_lfr.csv`` is one (graph, method): the asked and
realised μ_t, μ_w and mean degree, the planted and found number of groups, the NMI
(scikit-learn's, arithmetic normalisation) with the planted partition — on the control,
with the planted partition of the LFR graph it was derived from, which it does not carry —
and the method's wall time.  ``community_lfr.json`` holds the settings, the summary (mean
± SD over seeds per size, μ_t, μ_w and method) and whether the goals are met: ours ≥ Leiden
in mean NMI at μ_t ≤ 0.3, and one group on every control graph.  Rows are written after
every graph, so an interrupted run keeps what it finished.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        .venv/bin/python benchmarks/community_lfr.py              # full run
    .venv/bin/python benchmarks/community_lfr.py --quick          # 120 nodes, 1 seed, ~2 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

from neurodyn.connectome.communities import WeightedSBM, leiden, leiden_available, leiden_dl, louvain
from neurodyn.connectome.synthetic import lfr_mixing, lfr_null_graph, weighted_lfr_graph
from neurodyn.io import write_csv, write_json

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "community_lfr"
GRAPH_TOOL_SCRIPT = HERE / "graph_tool_nested_sbm.py"
SYSTEM_PYTHON = "/usr/bin/python3"

SIZES = {
    120: dict(avg_degree=15.0, max_degree=30, min_community=10, max_community=40),
    1000: dict(avg_degree=20.0, max_degree=50, min_community=20, max_community=100),
}
SHAPE = dict(degree_exponent=2.0, community_exponent=1.5, strength_exponent=1.5)
MAX_BLOCKS = {120: 16, 1000: 30}
NULL_MU = 0.3  # the control takes the degree sequence of this mixing level's graph
COMPLETE_GRAPH_TOOL_MAX = 120  # graph-tool on complete graphs only up to this size (500k edges at 1000 nodes)


def complete_null_graph(nodes: int, seed: int) -> np.ndarray:
    """A complete graph with i.i.d. exponential weights (the structure of a pair factor, no
    communities): the right answer is one group."""
    rng = np.random.default_rng([seed, nodes, 7])
    w = np.triu(rng.exponential(1.0, (nodes, nodes)), 1)
    return w + w.T


def graph_tool_version(python: str = SYSTEM_PYTHON) -> str | None:
    """graph-tool's version under ``python``, or None when it does not import there."""
    try:
        run = subprocess.run([python, str(GRAPH_TOOL_SCRIPT), "--check"], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": ""})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def graph_tool_nested(w: np.ndarray, seed: int, python: str = SYSTEM_PYTHON) -> tuple[np.ndarray, float, dict]:
    """Labels of graph-tool's nested SBM (level 0), its fit time, and details."""
    i, j = np.nonzero(np.triu(w, 1))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "graph.npz", Path(tmp) / "out.npz"
        np.savez(src, edges=np.stack([i, j], 1), weights=w[i, j], n_nodes=w.shape[0])
        env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
        subprocess.run([python, str(GRAPH_TOOL_SCRIPT), str(src), str(dst), str(seed)], check=True, env=env,
                       capture_output=True, timeout=3600)
        out = np.load(dst, allow_pickle=False)
        return (out["labels"], float(out["time_s"]),
                {"groups_per_level": out["groups_per_level"].tolist(),
                 "description_length": float(out["description_length"])})


def run_methods(w: np.ndarray, seed: int, nodes: int, methods: list[str], max_blocks: dict) -> list[dict]:
    """Every method on one graph: labels, wall time and, for ours, the search's convergence."""
    out = []
    for method in methods:
        extra = {}
        t0 = time.perf_counter()
        if method == "ours":
            fit = leiden_dl(w, random_state=seed)
            labels = fit.labels
            extra = {"detail": fit.variant}
        elif method == "sbm":
            fit = WeightedSBM(max_blocks=max_blocks[nodes], random_state=seed).fit(w)
            labels = fit.labels_
            extra = {"converged": bool(fit.converged_), "detail": fit.variant_}
        elif method == "louvain":
            labels = louvain(w, random_state=seed)
        elif method == "leiden":
            labels = leiden(w, random_state=seed)
        elif method == "graph-tool":
            labels, fit_time, detail = graph_tool_nested(w, seed)
            extra = {"detail": json.dumps(detail), "fit_time_s": fit_time}
        else:
            raise ValueError(method)
        elapsed = time.perf_counter() - t0
        out.append({"method": method, "labels": np.asarray(labels), "time_s": elapsed, **extra})
    return out


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    keys = ["nodes", "graph", "mu_t", "mu_w", "method"]
    return (raw.groupby(keys, sort=True)
            .agg(graphs=("seed", "count"), nmi_mean=("nmi", "mean"), nmi_sd=("nmi", "std"),
                 groups_mean=("groups_found", "mean"), groups_sd=("groups_found", "std"),
                 one_group=("groups_found", lambda s: int((s == 1).sum())),
                 groups_planted=("groups_planted", "mean"),
                 mu_t_realised=("mu_t_realised", "mean"), mu_w_realised=("mu_w_realised", "mean"),
                 mean_degree=("mean_degree", "mean"), time_s_mean=("time_s", "mean"), time_s_sd=("time_s", "std"))
            .reset_index())


def goals(summary: pd.DataFrame) -> dict:
    """Ours ≥ Leiden (mean NMI) at μ_t ≤ 0.3; one group on every control graph."""
    lfr = summary[summary["graph"] == "lfr"].set_index(["nodes", "mu_t", "mu_w", "method"])["nmi_mean"]
    versus = []
    for (nodes, mu_t, mu_w, method), value in lfr.items():
        if method != "ours" or mu_t > 0.3 + 1e-9 or (nodes, mu_t, mu_w, "leiden") not in lfr.index:
            continue
        theirs = lfr[(nodes, mu_t, mu_w, "leiden")]
        versus.append({"nodes": nodes, "mu_t": mu_t, "mu_w": mu_w, "ours": value, "leiden": theirs,
                       "met": bool(value >= theirs)})
    control = summary[summary["graph"].isin(["null", "complete_null"]) & (summary["method"] == "ours")]
    null = [{"nodes": int(r.nodes), "graph": r.graph, "graphs": int(r.graphs), "one_group": int(r.one_group),
             "groups_mean": float(r.groups_mean), "met": bool(r.one_group == r.graphs)}
            for r in control.itertuples()]
    return {"ours_ge_leiden_at_mu_t_le_0.3": versus, "ours_one_group_on_control": null,
            "all_met": bool(all(v["met"] for v in versus) and all(v["met"] for v in null)) if versus or null else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 nodes, one seed, μ_w = μ_t / 2 only")
    parser.add_argument("--nodes", type=int, nargs="+", default=[120, 1000], choices=sorted(SIZES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 2],
                        help="graphs (seeds 0, 1, …) per setting, one number per --nodes entry")
    parser.add_argument("--sbm-seeds", type=int, nargs="+", default=None,
                        help="how many of those seeds sbm runs on, per --nodes entry (default: all); "
                             "the other methods run on all")
    parser.add_argument("--mu", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--mu-weight-ratio", type=float, nargs="+", default=[0.5, 1.0], help="μ_w / μ_t")
    parser.add_argument("--methods", nargs="+", default=["ours", "sbm", "louvain", "leiden", "graph-tool"])
    parser.add_argument("--max-blocks", type=int, nargs="+", default=None,
                        help="sbm's max_blocks per --nodes entry (default 16 at 120 nodes, 30 at 1000)")
    parser.add_argument("--sbm-mu", type=float, nargs="+", default=None,
                        help="the μ_t at which sbm runs (default: all); the other methods run at all")
    parser.add_argument("--sbm-mu-weight-ratio", type=float, nargs="+", default=None,
                        help="the μ_w / μ_t at which sbm runs (default: all)")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="combine the .csv/.json of earlier runs (path stems) into --out and exit")
    parser.add_argument("--out", type=Path, default=OUT, help="path stem of the .csv and .json")
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    if args.quick:
        args.nodes, args.seeds, args.mu_weight_ratio = [120], [1], [0.5]
        if args.out == OUT:
            args.out = Path(tempfile.gettempdir()) / "community_lfr_quick"
    if len(args.seeds) != len(args.nodes):
        parser.error("--seeds needs one number per --nodes entry")
    ours_seeds = dict(zip(args.nodes, args.sbm_seeds or args.seeds))
    max_blocks = {**MAX_BLOCKS, **dict(zip(args.nodes, args.max_blocks or []))}
    methods = list(args.methods)
    gt_version = graph_tool_version() if "graph-tool" in methods else None
    if "graph-tool" in methods and gt_version is None:
        print(f"graph-tool does not import under {SYSTEM_PYTHON}: skipped", flush=True)
        methods.remove("graph-tool")
    if "leiden" in methods and not leiden_available():
        print("leidenalg is not installed: skipped", flush=True)
        methods.remove("leiden")
    settings = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "sizes": {n: SIZES[n] for n in args.nodes},
                "shape": SHAPE, "mu_t": args.mu, "mu_w_over_mu_t": args.mu_weight_ratio,
                "seeds": dict(zip(args.nodes, args.seeds)), "sbm_seeds": ours_seeds,
                "ours": {"function": "leiden_dl"},
                "sbm": {"estimator": "WeightedSBM", "max_blocks": {n: max_blocks[n] for n in args.nodes}},
                "methods": methods, "graph_tool": gt_version, "null_control_degrees_from_mu_t": NULL_MU,
                "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                            "threads": os.environ.get("OMP_NUM_THREADS")}}

    rows: list[dict] = []

    def record(kind, nodes, seed, mu_t, mu_w, g, w, results):
        mu_t_r, mu_w_r, degree = lfr_mixing(w, g.labels)
        for r in results:
            rows.append({"nodes": nodes, "graph": kind, "mu_t": mu_t, "mu_w": mu_w, "seed": seed,
                         "method": r["method"], "nmi": normalized_mutual_info_score(g.labels, r["labels"]),
                         "groups_found": int(np.unique(r["labels"]).size),
                         "groups_planted": 1 if kind != "lfr" else g.n_communities,
                         "mu_t_realised": mu_t_r, "mu_w_realised": mu_w_r, "mean_degree": degree,
                         "time_s": r["time_s"], "converged": r.get("converged"), "detail": r.get("detail"),
                         "lfr_networkx_seed": g.seed})
            print(f"{nodes:5d} {kind:4s} mu_t={mu_t:.2f} mu_w={mu_w:.3f} seed={seed} {r['method']:10s} "
                  f"nmi={rows[-1]['nmi']:.3f} groups={rows[-1]['groups_found']:3d}/{rows[-1]['groups_planted']:3d} "
                  f"realised mu_t={mu_t_r:.3f} mu_w={mu_w_r:.3f} k={degree:.2f} {r['time_s']:.2f}s", flush=True)
        raw = pd.DataFrame(rows)
        write_csv(raw, args.out.with_suffix(".csv"), index=False, float_format="%.5g")
        summary = summarise(raw)
        write_json({"settings": settings, "summary": summary.to_dict(orient="records"), "goals": goals(summary)},
                   args.out.with_suffix(".json"))

    for nodes, n_seeds in zip(args.nodes, args.seeds):
        for seed in range(n_seeds):
            for mu_t in args.mu:
                for ratio in args.mu_weight_ratio:
                    use = [m for m in methods if m != "sbm" or (
                        seed < ours_seeds[nodes] and (args.sbm_mu is None or mu_t in args.sbm_mu)
                        and (args.sbm_mu_weight_ratio is None or ratio in args.sbm_mu_weight_ratio))]
                    mu_w = round(ratio * mu_t, 6)
                    g = weighted_lfr_graph(nodes, mu=mu_t, mu_weight=mu_w, random_state=seed, **SIZES[nodes], **SHAPE)
                    record("lfr", nodes, seed, mu_t, mu_w, g, g.weights, run_methods(g.weights, seed, nodes, use,
                                                                                    max_blocks))
                    if abs(mu_t - NULL_MU) < 1e-9 and ratio == args.mu_weight_ratio[0]:
                        null = lfr_null_graph(g, random_state=seed)
                        record("null", nodes, seed, mu_t, mu_w, g, null, run_methods(null, seed, nodes, use,
                                                                                    max_blocks))
                        full = complete_null_graph(nodes, seed)
                        record("complete_null", nodes, seed, mu_t, mu_w, g, full,
                               run_methods(full, seed, nodes, [m for m in use if m != "graph-tool"
                                                               or nodes <= COMPLETE_GRAPH_TOOL_MAX], max_blocks))
    report(pd.DataFrame(rows))
    print(f"written to {args.out.with_suffix('.csv')} and .json")


def merge(stems: list[Path], out: Path) -> None:
    """One results pair from several runs: rows concatenated, summary and goals recomputed."""
    raw = pd.concat([pd.read_csv(s.with_suffix(".csv"), keep_default_na=False, na_values=[""]) for s in stems], ignore_index=True)
    # A (graph, method) run in two of them (same graph and seed, so the same labels): the first wins.
    raw = raw.drop_duplicates(["nodes", "graph", "mu_t", "mu_w", "seed", "method"], keep="first")
    settings = [json.loads(s.with_suffix(".json").read_text())["settings"] for s in stems]
    write_csv(raw, out.with_suffix(".csv"), index=False, float_format="%.5g")
    summary = summarise(raw)
    write_json({"settings": settings, "summary": summary.to_dict(orient="records"), "goals": goals(summary)},
               out.with_suffix(".json"))
    report(raw)
    print(f"written to {out.with_suffix('.csv')} and .json")


def report(raw: pd.DataFrame) -> None:
    summary = summarise(raw)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary.drop(columns=["time_s_sd"]).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(json.dumps(goals(summary), indent=1))
    print(markdown(summary))


def _pm(mean, sd, digits=2):
    if pd.isna(mean):
        return "–"
    return f"{mean:.{digits}f}" if pd.isna(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown(summary: pd.DataFrame) -> str:
    """The summary as two Markdown tables: NMI per method, then groups found and wall time."""
    methods = [m for m in ("ours", "sbm", "leiden", "louvain", "graph-tool") if m in set(summary["method"])]
    lines = ["| nodes | graph | μ_t asked → realised | μ_w asked → realised | mean degree | graphs | "
             + " | ".join(f"NMI {m}" for m in methods) + " |",
             "|" + " --- |" * (6 + len(methods))]
    groups = ["| nodes | graph | μ_t | μ_w | planted | " + " | ".join(f"groups {m}" for m in methods) + " | "
              + " | ".join(f"time {m} (s)" for m in methods) + " |",
              "|" + " --- |" * (5 + 2 * len(methods))]
    for (nodes, graph, mu_t, mu_w), block in summary.groupby(["nodes", "graph", "mu_t", "mu_w"], sort=True):
        by = block.set_index("method")
        first = block.iloc[0]
        n = "/".join(str(int(by.loc[m, "graphs"])) if m in by.index else "0" for m in methods)
        if graph != "lfr":
            mixing = f"– → {first.mu_t_realised:.3f} | – → {first.mu_w_realised:.3f}"
        else:
            mixing = f"{mu_t:g} → {first.mu_t_realised:.3f} | {mu_w:g} → {first.mu_w_realised:.3f}"
        cells = [_pm(by.loc[m, "nmi_mean"], by.loc[m, "nmi_sd"]) if m in by.index else "–" for m in methods]
        lines.append(f"| {nodes} | {graph} | {mixing} | {first.mean_degree:.2f} | {n} | " + " | ".join(cells) + " |")
        g = [_pm(by.loc[m, "groups_mean"], by.loc[m, "groups_sd"], 1) if m in by.index else "–" for m in methods]
        t = [_pm(by.loc[m, "time_s_mean"], by.loc[m, "time_s_sd"], 2 if m in ("leiden", "louvain") else 1)
             if m in by.index else "–" for m in methods]
        groups.append(f"| {nodes} | {graph} | {'–' if graph != 'lfr' else f'{mu_t:g}'} | "
                      f"{'–' if graph != 'lfr' else f'{mu_w:g}'} | {first.groups_planted:.1f} | "
                      + " | ".join(g) + " | " + " | ".join(t) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(groups)


if __name__ == "__main__":
    main()
