"""Where the one-hot HMM-GLM's fit spends its time, on the authors' demo protocol.

Data as in ``benchmarks/hmmglm_vs_authors.py`` (their generator, imported at run time from
``--authors-repo``; S = 5, N = 20, bounded-sigmoid Poisson, T = 2000 per sequence), then
``HMMGLM(5, prior="onehot", link="sigmoid")`` with library defaults (``--kw`` overrides
them, as JSON) under cProfile, one thread. Reported: wall time per stage (the
single-state initialisation and each EM stage, with its EM iterations), cumulative time
and call counts of the functions that carry the cost (L-BFGS, objective evaluations, the
Gauss–Hermite expected log-likelihood, the KL term, E-step log-likelihoods,
forward–backward), and the held-out scores of ``hmmglm_vs_authors.score``. cProfile adds
overhead and the machine is shared: compare shares within one run, not seconds across runs.

Run it on an older commit by putting that commit's package first on ``PYTHONPATH``::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hmmglm_profile.py \\
        --authors-repo /work/.mirror/JerrySoybean+onehot-hmmglm/repo --seed 0 --quick \\
        --out benchmarks/results/hmmglm_profile_quick_seed0.json
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Functions whose cumulative time and call counts are reported (by name, whichever module).
FUNCTIONS = ("_glm_init", "_run_em", "_e_step", "prior_log_likelihood", "forward_backward", "_m_step", "minimize",
             "m_step_objective", "moment_expected_log_likelihood", "blocks_expected_log_likelihood",
             "expected_log_likelihood", "log_prior", "concrete_log_ratio", "_kl_terms", "update_hyper",
             "_preconditioner", "_exact_m_objective")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authors-repo", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="8 training + 4 held-out sequences (else 30 + 20)")
    ap.add_argument("--kw", default="{}", help="HMMGLM arguments other than the defaults, as JSON")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    import hmmglm_vs_authors as bench
    import neurodyn
    import neurodyn.states.model as model

    torch.set_num_threads(1)
    A, source = bench.load_authors(args.authors_repo)
    n_train, n_test = (8, 4) if args.quick else (30, 20)
    S, N = 5, 20
    _, spikes, _, states, truth = bench.generate(A, args.seed, S, N, n_train + n_test, 2000)
    x = [s.double().numpy() for s in spikes]
    z = [s.numpy() for s in states]
    kw = json.loads(args.kw)

    stages = []
    run_em = model._run_em

    def timed_run_em(*a, **k):
        t0 = time.perf_counter()
        p = run_em(*a, **k)
        stages.append({"prior": a[1].name, "seconds": time.perf_counter() - t0, "em_iterations": int(p.n_iter),
                       "converged": bool(p.converged), "m_steps": dict(p.m_steps)})
        return p

    model._run_em = timed_run_em
    m = model.HMMGLM(S, prior="onehot", link="sigmoid", random_state=args.seed, log_every=0, **kw)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    m.fit(x[:n_train])
    prof.disable()
    seconds = time.perf_counter() - t0
    model._run_em = run_em

    st = pstats.Stats(prof).stats
    funcs = {}
    for (file, _, name), (cc, nc, tt, ct, _) in st.items():
        if name in FUNCTIONS and ("neurodyn" in file or name == "minimize"):
            f = funcs.setdefault(name, {"calls": 0, "cumulative_seconds": 0.0})
            f["calls"] += nc
            f["cumulative_seconds"] += ct
    for f in funcs.values():
        f["share_of_fit"] = f["cumulative_seconds"] / seconds
    fitted = {"weights": m.weights_, "types": m.types_, "bias": m.bias_, "log_transmat": m.params_.log_transmat,
              "log_initial": m.params_.log_initial, "prior_types": m.prior_adjacency_}
    res = {
        "data": {"seed": args.seed, "n_train": n_train, "n_test": n_test, "n_time": 2000, "n_states": S,
                 "n_neurons": N},
        "authors_code": source,
        "neurodyn": {"path": os.path.dirname(neurodyn.__file__), "hmmglm_kwargs": kw},
        "fit_seconds_under_profiler": seconds,
        "converged": bool(m.converged_),
        "n_iter": int(m.n_iter_),
        "final_objective_per_bin": float(m.history_[-1]) / sum(len(s) for s in x[:n_train]),
        "stages": stages,
        "initialisation_seconds": seconds - sum(s["seconds"] for s in stages),
        "functions": dict(sorted(funcs.items(), key=lambda kv: -kv[1]["cumulative_seconds"])),
        "scores": {k: v for k, v in bench.score(fitted, x[n_train:], z[n_train:], truth, S).items()},
        "load_average_at_end": os.getloadavg(),
    }
    print(json.dumps(res, indent=1, default=float))
    if args.out:
        from neurodyn.io import write_json

        write_json(res, Path(args.out))


if __name__ == "__main__":
    main()
