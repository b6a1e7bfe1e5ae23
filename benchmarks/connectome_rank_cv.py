"""Which rank each rank-selection rule picks: cross-validated (default) vs training-error elbow.

Cohorts (made here, apart from the unit tests' generator and from
``neurodyn.connectome.synthetic``):

- **planted**: non-negative CP tensors of rank 2 or 3 shaped like the pipeline's default
  tensor (14 windows × 3 animals × 435 pairs of 30 neurons).  Each component is a
  community configuration: a partition of a random subset of neurons into two
  communities (pairs inside a community load 1, other pairs a floor of 0.05), active in
  its own epochs of the recording (smoothed square waves on a floor of 0.1, so the
  configurations switch over time), present in every animal with log-normal loadings
  (s.d. 0.3).  The noise is mean-one log-normal and multiplicative, with the s.d. ``σ``
  chosen so that the noise alone leaves a relative error ``ρ = √(1 − e^{−σ²})`` at the
  true rank (``--noise``: 0.45, 0.55, 0.65; the fit at the true rank absorbs a little, so
  its relative error is ≥ 0.4 at every level);
- **no structure**: two animals of 30 independent Gaussian random walks (300 s at 4 Hz),
  through :func:`neurodyn.connectome.tensor.affinity_tensor` with the pipeline's defaults.

Each cohort goes through :func:`neurodyn.connectome.crossval.rank_sweep` with the
pipeline's defaults (ranks 1–6, 3 replicates, 10 % held out, 300 iterations, tol 1e-6);
both rules read the same sweep (the elbow reads the best full-data error per rank).
One row per cohort goes to ``benchmarks/results/connectome_rank_cv.csv``; the run's
settings, the pick counts per rule and every per-rank summary to ``….json``.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        python benchmarks/connectome_rank_cv.py --seeds 10

The no-structure control through the workflow itself: ``--write-walks DIR`` writes two
``.csv`` recordings of 30 independent random walks (1200 frames at 4 Hz) and a config that
declares them as dataset ``walks`` (reader ``csv``), then exits; run the workflow on it and
keep its rank and community tables::

    python benchmarks/connectome_rank_cv.py --write-walks /tmp/walks
    snakemake results/tables/connectome/walks_communities.csv --cores 1 --configfile /tmp/walks/config.yaml
    cp results/tables/connectome/walks_rank_metrics.csv benchmarks/results/connectome_rank_cv_walks_rank_metrics.csv
    cp results/tables/connectome/walks_community_methods.csv \\
        benchmarks/results/connectome_rank_cv_walks_community_methods.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.connectome.crossval import affinity_arrays, rank_sweep
from neurodyn.connectome.rank import select_rank
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.io import write_csv, write_json

RESULTS = Path(__file__).resolve().parent / "results"


def planted_cohort(rank: int, noise: float, seed: int, n_windows: int = 14, n_animals: int = 3,
                   n_neurons: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """``(noisy, truth)``: a rank-``rank`` tensor of switching community configurations."""
    rng = np.random.default_rng(seed)
    # Time: epochs of equal length, configuration k active in epochs k, k + rank, ...
    n_epochs = 2 * rank
    epoch = np.minimum((np.arange(n_windows) * n_epochs) // n_windows, n_epochs - 1)
    kernel = np.array([0.25, 0.5, 0.25])
    time = np.stack([0.1 + np.convolve((epoch % rank == k).astype(float), kernel, mode="same")
                     for k in range(rank)], axis=1)
    animals = np.exp(0.3 * rng.standard_normal((n_animals, rank)))
    iu = np.triu_indices(n_neurons, 1)
    pairs = []
    for _ in range(rank):
        members = rng.permutation(n_neurons)[: 2 * n_neurons // 3]
        label = np.full(n_neurons, -1)
        label[members] = rng.integers(0, 2, size=members.size)
        same = (label[:, None] == label[None, :]) & (label[:, None] >= 0)
        pairs.append(np.where(same, 1.0, 0.05)[iu])
    truth = np.einsum("ir,jr,kr->ijk", time, animals, np.stack(pairs, axis=1))
    sigma = np.sqrt(-np.log(1.0 - noise**2))
    noisy = truth * np.exp(sigma * rng.standard_normal(truth.shape) - sigma**2 / 2)
    return noisy, truth


def random_walk_tensor(seed: int, n_animals: int = 2, n_neurons: int = 30, duration_s: float = 300.0,
                       rate: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """``(tensor, observed)`` of the affinity of independent random walks (no structure)."""
    rng = np.random.default_rng(seed)
    n_time = int(duration_s * rate)
    x = np.cumsum(rng.standard_normal((n_animals, n_time, n_neurons)), axis=1).astype(np.float32)
    cohort = xr.Dataset({"traces": (("animal", "time", "neuron"), x)},
                        coords={"animal": [f"walk{i}" for i in range(n_animals)],
                                "time": np.arange(n_time) / rate, "neuron": [f"n{i:02d}" for i in range(n_neurons)]},
                        attrs={"sampling_rate_hz": rate})
    return affinity_arrays(affinity_tensor(cohort))


def write_walks(folder: Path, n_animals: int = 2, n_neurons: int = 30, n_time: int = 1200,
                rate: float = 4.0) -> Path:
    """Two ``.csv`` recordings of independent random walks and a config declaring them."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for a in range(n_animals):
        rng = np.random.default_rng(100 + a)
        x = np.cumsum(rng.standard_normal((n_time, n_neurons)), axis=0)
        df = pd.DataFrame(x, columns=[f"N{i:02d}" for i in range(n_neurons)])
        df.insert(0, "time", np.arange(n_time) / rate)
        files.append(folder.resolve() / f"walk{a}.csv")
        df.to_csv(files[-1], index=False)
    config = folder / "config.yaml"
    config.write_text("datasets:\n  walks:\n    reader: csv\n    files: [" + ", ".join(map(str, files))
                      + "]\nrun_datasets: [walks]\n")
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="cohorts per (rank, noise) and no-structure controls")
    parser.add_argument("--ranks", type=int, nargs="+", default=[2, 3], help="planted ranks")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.45, 0.55, 0.65],
                        help="relative noise ρ of the planted cohorts")
    parser.add_argument("--sweep", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6], help="ranks of the sweep")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--heldout-fraction", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=RESULTS / "connectome_rank_cv.csv")
    parser.add_argument("--write-walks", type=Path, default=None, metavar="DIR",
                        help="write the random-walk recordings and their config to DIR, then exit")
    args = parser.parse_args(argv)
    if args.write_walks is not None:
        print(write_walks(args.write_walks))
        return
    cases = [("planted", r, rho, s) for r in args.ranks for rho in args.noise for s in range(args.seeds)]
    cases += [("no structure", 1, float("nan"), s) for s in range(args.seeds)]
    rows, summaries = [], []
    for kind, true_rank, rho, seed in cases:
        if kind == "planted":
            x, truth = planted_cohort(true_rank, rho, seed)
            mask = None
            noise_rel = float(np.linalg.norm(x - truth) / np.linalg.norm(x))
        else:
            x, mask = random_walk_tensor(seed)
            noise_rel = float("nan")
        t0 = time.perf_counter()
        res = rank_sweep(x, ranks=args.sweep, mask=mask, restarts=args.restarts,
                         heldout_fraction=args.heldout_fraction, random_state=seed)
        wall = time.perf_counter() - t0
        s = res.summary.set_index("rank")
        row = {"cohort": kind, "true_rank": true_rank, "noise": rho, "seed": seed,
               "shape": "x".join(map(str, x.shape)), "noise_rel_error": noise_rel,
               "rel_error_at_true_rank": float(s.loc[true_rank, "best_error"]),
               "cv_rank": res.rank, "elbow_rank": select_rank(res.summary, selection="elbow"),
               "sweep_wall_s": round(wall, 2)}
        rows.append(row)
        summaries.append({**{k: row[k] for k in ("cohort", "true_rank", "noise", "seed")},
                          "summary": res.summary.drop(columns=["selection"]).round(5).to_dict(orient="list")})
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    picks = []
    for (kind, true_rank, rho), g in table.groupby(["cohort", "true_rank", "noise"], dropna=False):
        for rule in ("cv", "elbow"):
            picked = g[f"{rule}_rank"]
            picks.append({"cohort": kind, "true_rank": int(true_rank), "noise": None if np.isnan(rho) else rho,
                          "rule": rule, "n": len(g), "n_correct": int((picked == true_rank).sum()),
                          "picked": {int(k): int(v) for k, v in picked.value_counts().sort_index().items()},
                          "rel_error_at_true_rank_mean": round(float(g["rel_error_at_true_rank"].mean()), 4)})
    write_csv(table, args.out)
    write_json({"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "picks": picks, "sweeps": summaries}, args.out.with_suffix(".json"))
    print(pd.DataFrame(picks).to_string())


if __name__ == "__main__":
    main()
