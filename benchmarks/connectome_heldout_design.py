"""Which held-out design lets the cross-validated rank rule find the planted rank from traces.

Affinity windows overlap (40-s windows every 20 s), so a hidden entry shares frames with
its neighbours of the same (animal, pair) fibre.  For each cohort, affinity (the default
``windowed_cosine`` with ``chance='independent'``, and the paper's ``differential`` with
``none``) and held-out design, the rank sweep 1–6 (3 replicates, one-SE rule, no
widening) is run and the chosen rank compared with the planted one:

``entries``   single entries held out (the earlier design);
``blocks``    blocks of 4 windows of one fibre, without a guard;
``guarded``   blocks of 4 windows and 1 guard window either side left out of training
              (:func:`neurodyn.connectome.crossval.heldout_design` of 40/20 s: the default).

Cohorts: ``planted`` (the project's generator, 3 components) and ``ou`` (the generator
of ``connectome_affinity_recovery.py``, written apart from it, 3 components).

    OMP_NUM_THREADS=1 nice python benchmarks/connectome_heldout_design.py --seeds 10

Writes ``benchmarks/results/connectome_heldout_design.csv`` (one row per cohort, seed,
affinity and design) and ``….json`` (share of seeds at the planted rank, and the ranks).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from connectome_affinity_recovery import ou_cohort, planted_cohort  # noqa: E402

from neurodyn.connectome.crossval import affinity_arrays, rank_sweep  # noqa: E402
from neurodyn.connectome.ntf import is_signed  # noqa: E402
from neurodyn.connectome.tensor import affinity_tensor  # noqa: E402
from neurodyn.io import write_csv, write_json  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "connectome_heldout_design"
DESIGNS = {"entries": (1, 0), "blocks": (4, 0), "guarded": (4, 1)}
AFFINITIES = {"windowed_cosine/independent": ("windowed_cosine", "independent"),
              "differential/none": ("differential", "none")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--cohorts", nargs="+", default=["planted", "ou"])
    args = parser.parse_args(argv)
    rows, t0 = [], time.time()
    for cohort_name in args.cohorts:
        for seed in range(args.seeds):
            cohort, truth = planted_cohort(seed) if cohort_name == "planted" else ou_cohort(seed)
            planted = truth.sizes["component"]
            for aff_name, (method, chance) in AFFINITIES.items():
                aff = affinity_tensor(cohort, method=method, chance=chance)
                x, observed = affinity_arrays(aff)
                for design, (block, guard) in DESIGNS.items():
                    res = rank_sweep(x, ranks=range(1, 7), mask=None if observed.all() else observed, restarts=3,
                                     heldout_block=block, heldout_guard=guard, max_rank=None,
                                     signed=is_signed(aff), random_state=seed)
                    rows.append({"cohort": cohort_name, "seed": seed, "affinity": aff_name, "design": design,
                                 "planted": planted, "chosen": res.rank,
                                 "test_error": " ".join(f"{e:.4f}" for e in res.summary["test_error"])})
                    print(f"{time.time() - t0:6.0f}s {cohort_name} seed {seed} {aff_name} {design}: "
                          f"rank {res.rank} (planted {planted})", flush=True)
    df = pd.DataFrame(rows)
    write_csv(df, OUT.with_suffix(".csv"))
    summary = (df.assign(hit=df["chosen"] == df["planted"])
               .groupby(["cohort", "affinity", "design"])
               .agg(planted=("planted", "first"), seeds=("seed", "size"), at_planted=("hit", "mean"),
                    ranks=("chosen", lambda r: " ".join(map(str, r))))
               .reset_index())
    print(summary.to_string(index=False))
    write_json({"command": "OMP_NUM_THREADS=1 nice python benchmarks/connectome_heldout_design.py "
                           + " ".join(argv if argv is not None else sys.argv[1:]),
                "summary": summary.to_dict(orient="records"), "wall_s": round(time.time() - t0, 1)},
               OUT.with_suffix(".json"))


if __name__ == "__main__":
    main()
