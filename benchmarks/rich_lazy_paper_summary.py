"""Summarise the paper-size rich/lazy rank sweep (Liu et al., ICLR 2024) seed by seed.

Reads the single runs written by ``snakemake --configfile config/rich_lazy_paper.yaml
results/tables/rich_lazy/paper/rank_sweep.csv`` (one NetCDF per task, normalisation, rank
and seed) and writes

- ``<out>_per_seed.csv``: one row per run (task, normalisation, rank, seed) with kernel
  alignment (KA), representation alignment (RA), relative weight change, final accuracy,
  the init's top singular value and leading eigenvalue;
- ``<out>.md``: KA by rank as mean ± s.d. [min, max] over seeds, per task and
  normalisation, and the accuracy range, i.e. the per-seed spread the tables report.

    PYTHONPATH=. python benchmarks/rich_lazy_paper_summary.py \
        --runs results/simulations/rich_lazy/paper/sweep \
        --out benchmarks/results/rich_lazy_paper_rank_sweep
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from neurodyn.circuits.rich_lazy import collect_runs
from neurodyn.io import read_netcdf

COLUMNS = {
    "kernel_alignment": "KA",
    "representation_alignment": "RA",
    "weight_change": "relative_weight_change",
    "final_accuracy": "final_accuracy",
    "init_sigma1": "init_sigma1",
    "init_leading_eigenvalue": "init_leading_eigenvalue",
}


def per_seed(runs_dir: Path, normalisations) -> pd.DataFrame:
    paths = sorted(p for norm in normalisations for p in runs_dir.glob(f"*/{norm}/rank*_seed*.nc"))
    if not paths:
        raise SystemExit(f"no runs under {runs_dir}")
    ds = collect_runs(read_netcdf(p) for p in paths)
    names = [m for m in COLUMNS if m in ds]
    frame = ds[names].to_dataframe().reset_index()
    keys = [k for k in ("task", "normalisation", "rank", "replicate") if k in frame.columns]
    frame = frame[[*keys, *names]].dropna(subset=names, how="all").drop_duplicates(keys)
    return frame.rename(columns={**COLUMNS, "replicate": "seed"}).sort_values(
        ["task", "normalisation", "rank", "seed"]).reset_index(drop=True)


def markdown(frame: pd.DataFrame) -> str:
    ranks = sorted(frame["rank"].unique())
    lines = ["| task | normalisation | " + " | ".join(f"rank {r}" for r in ranks)
             + " | final accuracy (range over runs) | seeds |",
             "|---" * (len(ranks) + 4) + "|"]
    for (task, norm), g in frame.groupby(["task", "normalisation"], sort=True):
        cells = []
        for r in ranks:
            ka = g.loc[g["rank"] == r, "KA"].dropna().to_numpy()
            cells.append("—" if ka.size == 0 else
                         f"{ka.mean():.2f} ± {ka.std(ddof=1) if ka.size > 1 else 0:.2f} "
                         f"[{ka.min():.2f}, {ka.max():.2f}]")
        acc = g["final_accuracy"].to_numpy()
        seeds = g.groupby("rank")["seed"].nunique()
        lines.append(f"| {task} | {norm} | " + " | ".join(cells)
                     + f" | {np.nanmin(acc):.2f}–{np.nanmax(acc):.2f} | {seeds.min()}–{seeds.max()} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=Path("results/simulations/rich_lazy/paper/sweep"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/rich_lazy_paper_rank_sweep"))
    ap.add_argument("--normalisations", nargs="+", default=["frobenius", "spectral"],
                    help="the normalisations of config/rich_lazy_paper.yaml's sweep")
    args = ap.parse_args()
    frame = per_seed(args.runs, args.normalisations)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(f"{args.out}_per_seed.csv", index=False, float_format="%.6g")
    text = markdown(frame)
    Path(f"{args.out}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
