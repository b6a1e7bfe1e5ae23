"""Estimate the run time of the paper-size rich/lazy sweep (config/rich_lazy_paper.yaml) from a short timed run.

Times one paper-size run (N = 300, float32, CXT, full rank) with 0 and ``--iters`` SGD
iterations, in CPU seconds of this process and wall seconds, and extrapolates to 10 000
iterations and to the number of runs of the paper configuration.  On a shared machine the
wall time depends on the load (recorded, from ``os.getloadavg``).

    PYTHONPATH=. OMP_NUM_THREADS=1 nice -n 5 python benchmarks/rich_lazy_paper_timing.py \\
        --out benchmarks/results/rich_lazy_paper_timing.json
"""

from __future__ import annotations

import argparse
import json
import os
import time

import yaml

from neurodyn.circuits.rich_lazy import rank_sweep_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--config", default="config/rich_lazy_paper.yaml")
    ap.add_argument("--out", default="benchmarks/results/rich_lazy_paper_timing.json")
    args = ap.parse_args()
    cfg = yaml.safe_load(open(args.config))["rich_lazy"]
    timing = {}
    for iters in (0, args.iters):
        wall, cpu = time.time(), time.process_time()
        rank_sweep_run("CXT", cfg["n_hidden"], 0, n_hidden=cfg["n_hidden"], dtype=cfg["dtype"],
                       probe_batch=cfg["probe_batch"], kernel_probe_batch=cfg["kernel_probe_batch"],
                       train_kwargs=dict(max_iter=iters, lr=cfg["train"]["lr"]))
        timing[iters] = (time.time() - wall, time.process_time() - cpu)
    n_iter = cfg["train"]["max_iter"]
    per_iter = [(timing[args.iters][k] - timing[0][k]) / args.iters for k in (0, 1)]
    per_run = [timing[0][k] + n_iter * per_iter[k] for k in (0, 1)]
    n_sweep = len(cfg["tasks"]) * len(cfg["ranks"]) * len(cfg["normalisations"]) * cfg["n_seeds"]
    n_inits = len(cfg["inits"]["kinds"]) * len(cfg["inits"]["normalisations"]) * cfg["inits"]["n_seeds"]
    out = {
        "config": args.config, "timed_iterations": args.iters, "load_average_1min": os.getloadavg()[0],
        "wall_s_per_iteration": per_iter[0], "cpu_s_per_iteration": per_iter[1],
        "wall_s_setup_and_metrics": timing[0][0], "cpu_s_setup_and_metrics": timing[0][1],
        "max_iter": n_iter, "wall_s_per_run": per_run[0], "cpu_s_per_run": per_run[1],
        "n_sweep_runs": n_sweep, "n_init_runs": n_inits,
        "cpu_hours_total": (n_sweep + n_inits) * per_run[1] / 3600,
        "wall_hours_total_2_jobs_at_this_load": (n_sweep + n_inits) * per_run[0] / 2 / 3600,
        "wall_hours_sweep_only_2_jobs_at_this_load": n_sweep * per_run[0] / 2 / 3600,
    }
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
