"""Collect the connectome branch's results on real worms into ``benchmarks/results``.

Run the branch first (every worm of Dag et al. 2023 in ``../shared/data``, read by the
``flavell2023_all`` dataset of ``config/ingest_shared.yaml``; the two bundled worms are two
of those five):

    snakemake --cores 2 --configfile config/ingest_shared.yaml -- connectome
    PYTHONPATH=. python benchmarks/connectome_real_summary.py --dataset flavell2023_all

It copies the rank metrics, components and community tables of the dataset and writes
``connectome_real_<dataset>.json``: the tensor's shape and observed share, the chosen rank,
the held-out curve, the number of communities per component for the SBM, Louvain and
Leiden, and each job's wall time, CPU time and peak memory (Snakemake's ``benchmark:``
files), with their sums and maximum.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd
import xarray as xr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="flavell2023_all")
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    ds, res, out = args.dataset, args.results, args.out
    tables = res / "tables" / "connectome"
    for name in ("rank_metrics", "components", "communities", "community_methods"):
        shutil.copyfile(tables / f"{ds}_{name}.csv", out / f"connectome_real_{ds}_{name}.csv")

    with xr.open_dataset(res / ds / "connectome" / "affinity.nc") as aff:
        shape = {k: int(v) for k, v in aff["affinity"].sizes.items()}
        mask = aff["mask"].broadcast_like(aff["affinity"]) if "mask" in aff else None
        observed = float(mask.mean()) if mask is not None else 1.0
        attrs = {k: str(v) for k, v in aff.attrs.items() if k in ("method", "window_s", "stride_s", "chance")}
    metrics = pd.read_csv(tables / f"{ds}_rank_metrics.csv")
    curve = metrics.groupby("rank")[["train_error", "test_error", "similarity"]].mean().round(4)
    chosen = int(metrics.loc[metrics["chosen"], "rank"].iloc[0])
    methods = pd.read_csv(tables / f"{ds}_community_methods.csv")

    jobs = []
    for tsv in sorted((res / "benchmarks" / "connectome" / ds).glob("*.tsv")):
        row = pd.read_csv(tsv, sep="\t").iloc[-1]
        jobs.append({"job": tsv.stem, "wall_s": float(row["s"]), "cpu_s": float(row["cpu_time"]),
                     "max_rss_mb": float(row["max_rss"])})
    summary = {
        "command": "snakemake --cores 2 --configfile config/ingest_shared.yaml -- connectome",
        "dataset": ds,
        "tensor_shape": shape,
        "observed_share": observed,
        "affinity_attrs": attrs,
        "chosen_rank": chosen,
        "rank_curve": {int(r): row.to_dict() for r, row in curve.iterrows()},
        "communities": methods[["component", "n_communities_sbm", "n_communities_louvain",
                                "n_communities_leiden", "nmi_sbm_vs_leiden"]].to_dict(orient="records"),
        "jobs": jobs,
        "job_wall_s_sum": round(sum(j["wall_s"] for j in jobs), 1),
        "job_cpu_s_sum": round(sum(j["cpu_s"] for j in jobs), 1),
        "job_max_rss_mb": max(j["max_rss_mb"] for j in jobs),
    }
    path = out / f"connectome_real_{ds}.json"
    path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "jobs"}, indent=2, default=float))


if __name__ == "__main__":
    main()
