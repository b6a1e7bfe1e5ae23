"""The rich/lazy init comparison and rank-1 vs full-rank runs with the library *as it was*
before the normalisation/control changes, at the reduced-sweep settings, for before/after tables.

Runs against whichever ``neurodyn`` is first on the path, using only calls that existed
before (``init_comparison_run``/``rank_sweep_run`` with the paper's Frobenius
normalisation, 32 probe trials):

    git archive 211d93f | tar -x -C /tmp/neurodyn_before
    PYTHONPATH=/tmp/neurodyn_before OMP_NUM_THREADS=1 python benchmarks/rich_lazy_before.py \\
        --out benchmarks/results/rich_lazy_before.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

import neurodyn
from neurodyn.circuits.rich_lazy import init_comparison_run, rank_sweep_run
from neurodyn.io import write_csv

KINDS = ("gaussian", "rank_1", "celegans", "celegans_gaussian", "celegans_shuffled", "v1", "v1_gaussian",
         "v1_shuffled")
METRICS = ("kernel_alignment", "representation_alignment", "weight_change", "weight_change_abs", "final_accuracy",
           "init_effective_rank", "init_participation_ratio")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-hidden", type=int, default=100)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--out", default="benchmarks/results/rich_lazy_before.csv")
    args = ap.parse_args()
    print("neurodyn from", neurodyn.__file__, flush=True)
    train = dict(max_iter=args.max_iter, lr=args.lr)
    rows = []
    for k in range(args.replicates):
        for kind in KINDS:
            ds = init_comparison_run(kind, "2AF", k, random_state=0, n_hidden=args.n_hidden, train_kwargs=train)
            rows.append({"experiment": "init", "init": kind, "task": "2AF", "replicate": k,
                         **{m: float(ds[m].values.ravel()[0]) for m in METRICS}})
            print(rows[-1], flush=True)
        for task in ("2AF", "DMS", "CXT"):
            for rank in (1, args.n_hidden):
                ds = rank_sweep_run(task, rank, k, random_state=0, n_hidden=args.n_hidden, train_kwargs=train)
                rows.append({"experiment": "rank", "init": f"rank_{rank}", "task": task, "replicate": k,
                             **{m: float(ds[m].values.ravel()[0]) for m in METRICS}})
                print(rows[-1], flush=True)
    write_csv(pd.DataFrame(rows), args.out, float_format="%.6g")


if __name__ == "__main__":
    main()
