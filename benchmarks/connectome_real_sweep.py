"""How far the rank sweep goes on real worms: the held-out curve over ranks 1–12.

Reads a cohort the workflow built (default: the five worms of Dag et al. 2023,
``results/flavell2023_all/cohort.nc``), builds the affinity tensor at the library's
defaults, and runs the cross-validated sweep two ways at the defaults otherwise
(3 replicates, guarded held-out blocks, one-SE rule):

- ``default``: ranks 1–6, widening itself up to ``max_rank`` 12 when the top is chosen
  (what :func:`neurodyn.connectome.chain.connectome` does);
- ``full``: every rank 1–12, to show whether the held-out error plateaus.

The paper's affinity (``differential``, no chance level) is run beside it for reference.

    snakemake --cores 2 --configfile config/ingest_shared.yaml -- results/flavell2023_all/cohort.nc
    OMP_NUM_THREADS=1 nice python benchmarks/connectome_real_sweep.py

Writes ``benchmarks/results/connectome_real_sweep.csv`` (per affinity, sweep and rank:
train and held-out error, its standard error, similarity, chosen) and ``….json``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from neurodyn.connectome.crossval import RankSweepWarning, affinity_arrays, rank_sweep
from neurodyn.connectome.ntf import is_signed
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.io import read_netcdf, write_csv, write_json

OUT = Path(__file__).resolve().parent / "results" / "connectome_real_sweep"
AFFINITIES = {"default (windowed_cosine, independent)": {},
              "paper (differential, none)": {"method": "differential", "chance": "none"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohort", type=Path, default=Path("results/flavell2023_all/cohort.nc"))
    ap.add_argument("--max-rank", type=int, default=12)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    cohort = read_netcdf(args.cohort)
    rows, summary, t0 = [], [], time.time()
    for name, kw in AFFINITIES.items():
        aff = affinity_tensor(cohort, **kw)
        x, observed = affinity_arrays(aff)
        mask = None if observed.all() else observed
        for sweep, ranks, max_rank in (("default", range(1, 7), args.max_rank),
                                       ("full", range(1, args.max_rank + 1), None)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RankSweepWarning)
                res = rank_sweep(x, ranks=ranks, mask=mask, max_rank=max_rank, signed=is_signed(aff),
                                 random_state=0)
            s = res.summary
            for _, r in s.iterrows():
                rows.append({"affinity": name, "sweep": sweep, "rank": int(r["rank"]),
                             "train_error": r["train_error"], "test_error": r["test_error"],
                             "test_se": r["test_se"], "similarity": r["similarity"], "chosen": bool(r["chosen"])})
            best = int(s.loc[s["test_error"].idxmin(), "rank"])
            summary.append({"affinity": name, "sweep": sweep, "ranks_fitted": s["rank"].tolist(),
                            "chosen": int(res.rank), "lowest_heldout_rank": best,
                            "warning": res.warning or "", "shape": list(x.shape),
                            "observed": float(observed.mean())})
            print(f"{time.time() - t0:5.0f}s {name} {sweep}: chosen {res.rank}, lowest held-out error at rank {best}; "
                  + " ".join(f"{e:.3f}" for e in s["test_error"]), flush=True)
    write_csv(pd.DataFrame(rows), args.out.with_suffix(".csv"))
    write_json({"command": "python benchmarks/connectome_real_sweep.py " + " ".join(argv or sys.argv[1:]),
                "cohort": str(args.cohort), "summary": summary, "wall_s": round(time.time() - t0, 1)},
               args.out.with_suffix(".json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
