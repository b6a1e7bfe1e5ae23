"""Brain states of real worms, leave-one-worm-out over every worm available.

Worms: the five published recordings of Dag et al. (Cell 2023) in
``$NEURODYN_SHARED/data/flavell2023`` (default ``../shared`` beside the repository), read
from their HDF5 files with the NeuroPAL labels. The two bundled worms
(``data/flavell2023/*.nc``) are two of these five (same uids), so they are not added a
second time: a duplicate would put a held-out worm's own recording in its training set.
Without the shared folder the benchmark falls back to the two bundled worms.

Runs :func:`neurodyn.states.real.analyse_cohort` (HMM-GLM across worms, settings chosen
by held-out likelihood on the training worms of each fold; Gaussian HMM and k-means
baselines; anatomy AUROCs with neuron-label permutation p-values) and writes

- ``<out>_behaviour.csv`` — AMI with reversals per held-out worm and model,
- ``<out>_anatomy.csv`` — AUROC and p-value per connectome, synapse kind and score,
- ``<out>_selection.csv`` — held-out log-likelihood of every candidate, per fold,
- ``<out>.md`` — the summary tables, ``<out>.json`` — settings, worms, timing.

Usage (single-threaded, niced; about an hour on a shared 2-core machine)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/states_real_worms.py
    .venv/bin/python benchmarks/states_real_worms.py --quick --out /tmp/quick   # a reduced check
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from neurodyn.data import build_cohort, read_recording
from neurodyn.states.real import analyse_cohort, summary_markdown

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "states_real_worms"


def load_worms(shared: Path):
    """Recordings of every distinct worm: the shared HDF5 files, else the bundled two."""
    folder = shared / "data" / "flavell2023"
    files = sorted((folder / "recordings").glob("*-data.h5"))
    if files:
        labels = folder / "neuropal_labels.json"
        recs = [read_recording(f, labels=labels) for f in files]
        return recs, "shared", [str(f) for f in files]
    files = sorted((REPO / "data" / "flavell2023").glob("*.nc"))
    return [read_recording(f) for f in files], "bundled", [str(f) for f in files]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("NEURODYN_SHARED", REPO.parent / "shared")))
    ap.add_argument("--out", type=Path, default=RESULTS, help="output prefix")
    ap.add_argument("--quick", action="store_true", help="reduced check: few iterations, small grid, 3 worms")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
    recs, source, files = load_worms(args.shared)
    settings = {}  # library defaults
    if args.quick:
        recs = recs[:3]
        settings = {"representations": ["derivative"], "l1": [0.1], "n_states_range": [2], "max_iter": 5,
                    "m_step_iter": 10, "n_permutations": 200}
    cohort = build_cohort(recs, min_animals=1)
    t0 = time.perf_counter()
    out = analyse_cohort(cohort, random_state=args.seed, **settings)
    wall = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/states_real_worms.py" + (
        " " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    out["behaviour"].to_csv(f"{args.out}_behaviour.csv", index=False, float_format="%.6g")
    out["anatomy"].to_csv(f"{args.out}_anatomy.csv", index=False, float_format="%.6g")
    out["selection"].to_csv(f"{args.out}_selection.csv", index=False, float_format="%.6g")
    Path(f"{args.out}.md").write_text(summary_markdown(out["behaviour"], out["anatomy"], command))
    fit = out["fit"]
    meta = {"command": command, "source": source, "files": files, "worms": [str(a) for a in cohort["animal"].values],
            "n_neurons": int(fit.sizes["neuron"]), "neurons": [str(n) for n in fit["neuron"].values],
            "final_fit": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in fit.attrs.items()},
            "settings": settings or "library defaults", "seed": args.seed, "wall_s": round(wall, 1),
            "machine": platform.platform(), "python": platform.python_version()}
    Path(f"{args.out}.json").write_text(json.dumps(meta, indent=1, default=str))
    print(Path(f"{args.out}.md").read_text())
    print(f"wall {wall:.0f} s")


if __name__ == "__main__":
    main()
