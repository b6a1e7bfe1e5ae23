"""The whole default connectome chain, from calcium traces to communities, on planted cohorts.

Cohorts come from the trace-level generators of :mod:`neurodyn.connectome.synthetic`
(communities planted in the dynamics, not in the tensor), each at two noise levels:

``switching``     configurations of communities taking turns (:func:`switching_cohort`);
``rate_network``  a rectified rate network whose block coupling switches on and off
                  (:func:`rate_network_cohort`);
``global_drive``  switching communities under a brain-wide slow drive shared by 85 % of
                  the neurons, planted as a background component (:func:`global_drive_cohort`).

Default size: 3 animals, 80 neurons, 15 min at 2 Hz, 2 planted community components of
3 communities of 10 (plus the background component of ``global_drive``).

The chain (:func:`run_chain`) is what a user gets at the library's defaults,
:func:`neurodyn.connectome.chain.connectome`: the affinity tensor
(:func:`~neurodyn.connectome.tensor.affinity_tensor`), the guarded held-out rank sweep
(:func:`~neurodyn.connectome.crossval.rank_sweep`, one-SE rule, widening up to rank 12),
the final NTF, background components flagged (pair spread ≥ 0.5) and the communities of
the others by the default method (``ours``: :func:`~neurodyn.connectome.communities.leiden_dl`),
with the paper's nested SBM (``sbm``), Louvain, Leiden and, where ``/usr/bin/python3
benchmarks/graph_tool_nested_sbm.py --check`` succeeds, graph-tool's nested SBM on the same
component graphs.

Per run it records the planted rank (community components, the background excluded),
the chosen number of community components (the chosen rank less the flagged background
components) and the chosen rank, how many components were flagged, the matched
congruence of every planted component (:func:`~neurodyn.connectome.synthetic.planted_recovery`,
Hungarian on the product of factor cosines, over all fitted components) and the NMI of each
method's communities against the planted ones over the planted component's members (NaN
where the matched component was flagged as background).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        python benchmarks/connectome_from_traces.py --seeds 10
    python benchmarks/connectome_from_traces.py --seeds 10 --affinity method=windowed_cosine chance=median \\
        --out benchmarks/results/connectome_from_traces_windowed_cosine_median
    python benchmarks/connectome_from_traces.py --calibrate     # relative error at rank 5 only

Writes ``<out>.csv`` (one row per run and planted component) and ``<out>.json`` (the
settings and the summary per generator and noise level), both atomically.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from neurodyn.connectome.chain import connectome
from neurodyn.connectome.communities import component_graph
from neurodyn.connectome.ntf import fit_affinity
from neurodyn.connectome.synthetic import GENERATORS, NOISE_LEVELS, planted_recovery
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.data.cohort import build_cohort
from neurodyn.io import write_csv, write_json

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "connectome_from_traces"
GRAPH_TOOL_SCRIPT = HERE / "graph_tool_nested_sbm.py"
SYSTEM_PYTHON = "/usr/bin/python3"
BASELINES = ("sbm", "louvain", "leiden")


def graph_tool_version(python: str = SYSTEM_PYTHON) -> str | None:
    """graph-tool's version under ``python``, or None when it does not import there."""
    try:
        run = subprocess.run([python, str(GRAPH_TOOL_SCRIPT), "--check"], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": ""})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def graph_tool_communities(ntf, seed: int, python: str = SYSTEM_PYTHON) -> pd.DataFrame:
    """graph-tool's nested SBM (level 0) on every component graph, as a community table."""
    neurons = [str(n) for n in ntf["neuron"].values]
    rows = []
    for k in ntf["component"].values.tolist():
        w = component_graph(ntf, k)
        w = w / w.max() if w.max() > 0 else w
        i, j = np.nonzero(np.triu(w, 1))
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "graph.npz", Path(tmp) / "out.npz"
            np.savez(src, edges=np.stack([i, j], 1), weights=w[i, j], n_nodes=w.shape[0])
            env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
            subprocess.run([python, str(GRAPH_TOOL_SCRIPT), str(src), str(dst), str(seed)], check=True, env=env,
                           capture_output=True, timeout=3600)
            labels = np.load(dst, allow_pickle=False)["labels"]
        rows += [{"component": int(k), "neuron": n, "community": int(lab), "method": "graph-tool"}
                 for n, lab in zip(neurons, labels)]
    return pd.DataFrame(rows)


def run_chain(cohort, seed: int, *, affinity: dict | None = None, sweep: dict | None = None,
              communities: dict | None = None, baselines=BASELINES, graph_tool: bool = False):
    """The default chain on one cohort, :func:`neurodyn.connectome.chain.connectome`.

    ``affinity``, ``sweep`` and ``communities`` override keywords of
    :func:`affinity_tensor`, :func:`rank_sweep` and :func:`component_communities`; nothing
    else departs from the library defaults.  Returns a namespace with ``affinity`` (the
    tensor Dataset), ``sweep`` (:class:`RankSweepResult`), ``ntf`` (the final NTF Dataset
    without its background components), ``rank`` (community components: the chosen rank
    less the flagged background), ``communities`` (method → community table; the default
    method under ``"ours"``) and ``background`` (the flagged components).
    """
    res = connectome(cohort, affinity=affinity, rank=sweep, communities=communities, baselines=baselines,
                     random_state=seed)
    tables = {"ours": res.communities, **res.baselines}
    if graph_tool and res.n_community_components:
        tables["graph-tool"] = graph_tool_communities(res.ntf.isel(component=np.flatnonzero(~res.background)), seed)
    return SimpleNamespace(affinity=res.affinity, sweep=res.sweep, ntf=res.ntf, rank=res.n_community_components,
                           total_rank=res.rank, communities=tables,
                           background=[int(c) for c in res.ntf["component"].values[res.background]])


def score_run(truth, result) -> list[dict]:
    """One row per planted component: its match, congruence and each method's NMI."""
    rec = planted_recovery(truth, result.ntf)
    nmi = {m: planted_recovery(truth, result.ntf, tab).set_index("planted")["nmi"]
           for m, tab in result.communities.items()}
    background = np.asarray(truth["background"].values, dtype=bool)
    flagged = None if result.background is None else {int(c) for c in np.atleast_1d(result.background)}
    rows = []
    for _, r in rec.iterrows():
        k = int(r["planted"])
        row = {"planted_component": k, "background": bool(background[k]), "fitted": int(r["fitted"]),
               "congruence": r["congruence"], "congruence_time": r["congruence_time"],
               "congruence_animal": r["congruence_animal"], "congruence_pair": r["congruence_pair"],
               "fitted_flagged_background": (np.nan if flagged is None else int(r["fitted"]) in flagged)}
        for m, series in nmi.items():
            row[f"nmi_{m}"] = float(series.get(k, np.nan))
        rows.append(row)
    # Planted components left unmatched (chosen rank below the planted one).
    for k in sorted(set(range(background.size)) - {int(p) for p in rec["planted"]}):
        rows.append({"planted_component": k, "background": bool(background[k]), "fitted": -1, "congruence": 0.0,
                     "fitted_flagged_background": np.nan, **{f"nmi_{m}": np.nan for m in nmi}})
    return rows


def rank5_error(cohort, affinity: dict | None = None, restarts: int = 3) -> float:
    """Best relative error of ``restarts`` rank-5 fits of the cohort's affinity tensor."""
    aff = affinity_tensor(cohort, **(affinity or {}))
    return float(min(fit_affinity(aff, 5, random_state=s).rel_error for s in range(restarts)))


def summarize(df: pd.DataFrame, methods: list[str]) -> list[dict]:
    out = []
    for (gen, noise), g in df.groupby(["generator", "noise"], sort=False):
        runs = g.drop_duplicates("seed")
        planted = g[~g["background"]]
        row = {"generator": gen, "noise": noise, "n_seeds": int(runs.shape[0]),
               "planted_rank": int(runs["planted_rank"].iloc[0]),
               "chosen_rank_counts": {int(k): int(v) for k, v in runs["chosen_rank"].value_counts().sort_index().items()},
               "chosen_equals_planted": int((runs["chosen_rank"] == runs["planted_rank"]).sum()),
               "total_rank_counts": ({int(k): int(v) for k, v in runs["total_rank"].value_counts().sort_index().items()}
                                     if "total_rank" in runs else None),
               "rank5_error_mean": float(runs["rank5_error"].mean()),
               "congruence_mean": float(planted["congruence"].mean()),
               "congruence_min": float(planted["congruence"].min()),
               "components_congruence_ge_0.9": f"{int((planted['congruence'] >= 0.9).sum())}/{planted.shape[0]}",
               "chain_s_mean": float(runs["chain_s"].mean())}
        for m in methods:
            col = planted[f"nmi_{m}"]
            row[f"nmi_{m}_mean"] = float(col.mean()) if col.notna().any() else None
            row[f"nmi_{m}_ge_0.95"] = f"{int((col >= 0.95).sum())}/{planted.shape[0]}"
        bg = g[g["background"]]
        if not bg.empty:
            row["background_congruence_mean"] = float(bg["congruence"].mean())
            row["background_flagged"] = (None if bg["fitted_flagged_background"].isna().all()
                                         else int(bg["fitted_flagged_background"].fillna(False).astype(bool).sum()))
        out.append(row)
    return out


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not _:
            raise SystemExit(f"--affinity {item!r}: expected key=value")
        for conv in (int, float):
            try:
                value = conv(value)
                break
            except ValueError:
                pass
        out[key] = None if value in ("null", "None") else value
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0 … N−1 per generator and noise level")
    ap.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=list(GENERATORS))
    ap.add_argument("--noise", nargs="+", default=["low", "high"], choices=["low", "high"])
    ap.add_argument("--affinity", nargs="*", default=[], metavar="KEY=VALUE",
                    help="affinity_tensor overrides, e.g. method=windowed_cosine chance=median")
    ap.add_argument("--restarts", type=int, default=None, help="rank-sweep restarts (default: the library's)")
    ap.add_argument("--no-graph-tool", action="store_true", help="skip graph-tool even where it imports")
    ap.add_argument("--calibrate", action="store_true", help="only the rank-5 relative error of each cohort")
    ap.add_argument("--out", type=Path, default=None, help="output path without extension")
    args = ap.parse_args(argv)
    affinity = _parse_overrides(args.affinity)
    sweep = {} if args.restarts is None else {"restarts": args.restarts}
    out = args.out or (OUT.with_name(OUT.name + "_calibration") if args.calibrate else OUT)
    gt_version = None if args.no_graph_tool or args.calibrate else graph_tool_version()
    methods = ["ours", *BASELINES] + (["graph-tool"] if gt_version else [])
    print(f"graph-tool: {gt_version or 'not available'}; affinity overrides {affinity or 'none'}", flush=True)
    rows, t_start = [], time.perf_counter()
    for gen in args.generators:
        for noise in args.noise:
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                recordings, truth = GENERATORS[gen](random_state=seed, noise=noise)
                cohort = build_cohort(recordings)
                err5 = rank5_error(cohort, affinity)
                base = {"generator": gen, "noise": noise, "seed": seed,
                        "planted_rank": int(truth.attrs["n_planted"]),
                        "n_neurons": int(cohort.sizes["neuron"]), "n_animals": int(cohort.sizes["animal"]),
                        "n_time": int(cohort.sizes["time"]), "rank5_error": err5}
                if args.calibrate:
                    rows.append(base)
                    print(f"{gen:12s} {noise:4s} seed {seed}: rank-5 relative error {err5:.3f}", flush=True)
                    continue
                result = run_chain(cohort, seed, affinity=affinity, sweep=sweep, graph_tool=bool(gt_version))
                chain_s = time.perf_counter() - t0
                base.update(chosen_rank=result.rank, total_rank=result.total_rank, chain_s=chain_s,
                            background_flagged=(np.nan if result.background is None
                                                else len(np.atleast_1d(result.background))))
                scored = score_run(truth, result)
                rows += [{**base, **r} for r in scored]
                planted = [r for r in scored if not r["background"]]
                print(f"{gen:12s} {noise:4s} seed {seed}: rank {result.rank} (planted {base['planted_rank']}), "
                      "congruence " + " ".join(f"{r['congruence']:.2f}" for r in planted) + ", "
                      + ", ".join(f"NMI {m} {np.nanmean([r[f'nmi_{m}'] for r in planted]):.2f}" for m in methods)
                      + f"; {chain_s:.0f} s (total {time.perf_counter() - t_start:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    write_csv(df, out.with_suffix(".csv"))
    settings = {"command": " ".join(["python", *sys.argv]), "seeds": args.seeds, "generators": args.generators,
                "noise": args.noise, "noise_levels": {g: NOISE_LEVELS[g] for g in args.generators},
                "affinity_overrides": affinity, "sweep_overrides": sweep, "graph_tool": gt_version,
                "methods": methods, "wall_s": time.perf_counter() - t_start}
    if args.calibrate:
        summary = (df.groupby(["generator", "noise"], sort=False)["rank5_error"]
                   .agg(["mean", "min", "max"]).reset_index().to_dict("records"))
    else:
        summary = summarize(df, methods)
    write_json({"settings": settings, "summary": summary}, out.with_suffix(".json"))
    print(pd.DataFrame(summary).to_string(index=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
