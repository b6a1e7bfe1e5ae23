"""Large-cohort benchmark of the connectome branch: memory plan first, then time and peak memory per stage.

A synthetic cohort (default 30 animals × 300 neurons × 2000 frames, planted communities)
runs through affinity tensor (float32, built one animal at a time) → NTF rank sweep
(the best restart of the chosen rank is the final model) → weighted-SBM communities of
every component.  The memory
plan (:func:`neurodyn.connectome.memory.connectome_memory_plan`) is printed and checked
against ``--max-memory-gb`` before anything large is allocated; an over-budget
configuration stops there with ``MemoryBudgetError``.

Per stage it records wall time, the tracemalloc peak (numpy allocations are traced) and
the process's ``ru_maxrss`` after the stage (cumulative peak), and writes them to
``benchmarks/results/large_cohort.json``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/large_cohort.py              # full size
    .venv/bin/python benchmarks/large_cohort.py --animals 3 --neurons 40 --frames 400 --out /tmp/small.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from neurodyn.connectome import (affinity_tensor, component_communities, fit_affinity, ntf_to_dataset,
                                 planted_community_cohort)
from neurodyn.connectome.memory import GIB, check_connectome_memory, connectome_memory_plan, format_plan
from neurodyn.connectome.rank import select_from_fits
from neurodyn.data import build_cohort

RESULTS = Path(__file__).resolve().parent / "results" / "large_cohort.json"


def _gib(value) -> str:
    return "      -" if value is None else f"{value:7.3f}"


def _maxrss_gib() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


class Stages:
    """Times and memory peaks of consecutive stages."""

    def __init__(self):
        self.rows: list[dict] = []

    def run(self, name, fn, *args, trace: bool = True, **kwargs):
        # tracemalloc (started once, so a stage's peak includes the arrays it inherits) slows
        # Python-heavy stages such as the SBM's node moves several-fold: those run untraced
        # and report only the process peak.
        if not trace and tracemalloc.is_tracing():
            tracemalloc.stop()
        if trace:
            tracemalloc.reset_peak()
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        wall = time.perf_counter() - t0
        current, peak = tracemalloc.get_traced_memory() if trace else (None, None)
        row = {"stage": name, "wall_s": round(wall, 2), "traced": trace,
               "traced_peak_gib": None if peak is None else round(peak / GIB, 3),
               "traced_after_gib": None if current is None else round(current / GIB, 3),
               "maxrss_gib": round(_maxrss_gib(), 3)}
        self.rows.append(row)
        print(f"  {name:<14s} {row['wall_s']:8.1f} s  traced peak {_gib(row['traced_peak_gib'])} GiB  "
              f"maxrss {row['maxrss_gib']:7.3f} GiB", flush=True)
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--animals", type=int, default=30)
    ap.add_argument("--neurons", type=int, default=300)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=2.0, help="sampling rate, Hz")
    ap.add_argument("--window-s", type=float, default=40.0)
    ap.add_argument("--stride-s", type=float, default=20.0)
    ap.add_argument("--components", type=int, default=4, help="planted components")
    ap.add_argument("--ranks", default="3,4,5", help="rank sweep, comma separated")
    ap.add_argument("--restarts", type=int, default=2)
    ap.add_argument("--n-iter-max", type=int, default=150, help="cap on NTF iterations per fit")
    ap.add_argument("--max-blocks", type=int, default=6, help="largest number of SBM blocks tried")
    ap.add_argument("--community-method", default="sbm", choices=["sbm", "louvain", "leiden"])
    ap.add_argument("--max-memory-gb", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    ranks = [int(r) for r in args.ranks.split(",")]

    # 1. The plan, printed and checked before anything large exists.
    plan = connectome_memory_plan(args.animals, args.frames, args.neurons, sampling_rate_hz=args.rate,
                                  window_s=args.window_s, stride_s=args.stride_s, rank=max(ranks),
                                  masked=True)
    print(f"memory plan ({args.animals} animals × {args.neurons} neurons × {args.frames} frames, float32):")
    print(format_plan(plan), flush=True)
    check_connectome_memory(plan, args.max_memory_gb)
    print(f"within budget {args.max_memory_gb:g} GiB", flush=True)

    tracemalloc.start()
    stages = Stages()
    print("stages:")
    recs, truth = stages.run("synthesize", planted_community_cohort, args.animals, args.neurons, args.frames,
                             args.rate, args.seed, n_components=args.components, n_communities=2,
                             community_size=min(20, args.neurons // 4), n_epochs=2 * args.components,
                             n_missing=min(10, args.neurons // 10))
    cohort = stages.run("cohort", build_cohort, recs, min_animals=1)
    del recs
    aff = stages.run("affinity", affinity_tensor, cohort, window_s=args.window_s, stride_s=args.stride_s,
                     dtype=np.float32, max_memory_gb=args.max_memory_gb)
    del cohort

    def sweep():
        fits = {}
        for rank in ranks:
            for k in range(args.restarts):
                res = fit_affinity(aff, rank, max_iter=args.n_iter_max, random_state=args.seed + 1000 * rank + k)
                fits[(rank, k)] = res
        return fits

    fits = stages.run("ntf_sweep", sweep)
    metrics, summary, rank = select_from_fits({k: (v.rel_error, v.factors) for k, v in fits.items()},
                                              selection="elbow")  # full-data fits only (no held-out error)
    # the best restart of the chosen rank is the final model (as in the workflow)
    best = int(metrics[metrics["selected"]]["restart"].iloc[0])
    final = fits[(rank, best)]
    ntf = ntf_to_dataset(final, aff)
    table = stages.run("communities", component_communities, ntf, method=args.community_method, seed=args.seed,
                       max_blocks=args.max_blocks, trace=False)
    print(f"  (rank sweep {ranks} × {args.restarts} restarts, ≤ {args.n_iter_max} iterations each; chosen rank {rank})",
          flush=True)

    measured_peak = max(r["traced_peak_gib"] for r in stages.rows if r["traced"])
    result = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "plan_gib": {k: (round(v / GIB, 3) if k not in ("n_windows", "n_pairs") else v) for k, v in plan.items()},
        "tracemalloc_note": "tracemalloc (it traces numpy buffers) runs from the first stage, so a stage's "
                            "traced peak includes the arrays alive when it starts; the last stage, communities, "
                            "runs untraced because tracing slows its Python loops several-fold",
        "stages": stages.rows,
        "total_wall_s": round(sum(r["wall_s"] for r in stages.rows), 1),
        "traced_peak_gib": measured_peak,
        "maxrss_gib": round(_maxrss_gib(), 3),
        "masked_pairs_fraction": round(float(1 - np.asarray(aff["mask"].values).mean()), 4),
        "rank_sweep": {f"{r}/{k}": {"rel_error": round(float(v.rel_error), 5), "n_iter": int(v.n_iter),
                                    "converged": bool(v.converged)} for (r, k), v in sorted(fits.items())},
        "chosen_rank": int(rank),
        "final_rel_error": round(float(final.rel_error), 5),
        "final_n_iter": int(final.n_iter),
        "final_converged": bool(final.converged),
        "n_communities": {int(k): int(g["n_communities"].iloc[0]) for k, g in table.groupby("component")},
        "machine": {"python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print()
    print(f"{'stage':<14s}{'wall s':>9s}{'traced peak GiB':>17s}{'maxrss GiB':>12s}{'plan GiB':>10s}")
    planned = {"synthesize": plan["cohort"], "cohort": plan["cohort"], "affinity": plan["affinity"],
               "ntf_sweep": plan["ntf"], "communities": plan["communities"]}
    for r in stages.rows:
        print(f"{r['stage']:<14s}{r['wall_s']:9.1f}{_gib(r['traced_peak_gib']):>17s}{r['maxrss_gib']:12.3f}"
              f"{planned[r['stage']] / GIB:10.3f}")
    print(f"{'total':<14s}{result['total_wall_s']:9.1f}{measured_peak:17.3f}{result['maxrss_gib']:12.3f}")
    print(f"plan peak {plan['peak'] / GIB:.3f} GiB (ntf stage {plan['ntf'] / GIB:.3f}); chosen rank {rank}, "
          f"final rel. error {final.rel_error:.4f} after {final.n_iter} iterations; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
