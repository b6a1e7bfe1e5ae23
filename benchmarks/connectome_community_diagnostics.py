"""Two diagnostics quoted in docs/connectome.md, with their numbers written to a results file.

1. Why the paper's nested SBM over-splits: on the 120-node weighted LFR graph at
   μ_t = μ_w = 0.3 (seed 0, the settings of ``community_lfr.py``), the description length of
   the planted partition against that of the search's fit, per weight model.
2. Where the ``rate_network`` pair factor goes: on seed 0 at low noise, through the default
   chain, the share of the matched fitted pair factor's mass outside the planted blocks and
   its cosine with the planted indicator restricted to the planted support.

    OMP_NUM_THREADS=1 python benchmarks/connectome_community_diagnostics.py

Writes ``benchmarks/results/connectome_community_diagnostics.json`` atomically.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi

from neurodyn.connectome.chain import connectome
from neurodyn.connectome.communities import description_length, weighted_sbm
from neurodyn.connectome.ntf import dataset_factors
from neurodyn.connectome.synthetic import GENERATORS, planted_factors, weighted_lfr_graph
from neurodyn.data.cohort import build_cohort
from neurodyn.io import write_json

OUT = Path(__file__).resolve().parent / "results" / "connectome_community_diagnostics.json"
LFR = dict(avg_degree=15.0, max_degree=30, min_community=10, max_community=40,
           degree_exponent=2.0, community_exponent=1.5, strength_exponent=1.5)


def sbm_overfit() -> list[dict]:
    g = weighted_lfr_graph(120, mu=0.3, mu_weight=0.3, random_state=0, **LFR)
    rows = []
    for wm in ("exponential", "lognormal", "normal"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = weighted_sbm(g.weights, weight_model=wm, random_state=0)
            except Exception as err:  # tied weights keep the normal models out
                rows.append({"weight_model": wm, "skipped": str(err)})
                continue
        planted = min(description_length(g.weights, g.labels, v, weight_model=wm)
                      for v in ("plain", "degree_corrected"))
        rows.append({"weight_model": wm, "planted_groups": int(g.labels.max()) + 1, "planted_dl": planted,
                     "fit_groups": fit.n_blocks, "fit_dl": fit.description_length,
                     "fit_nmi": float(nmi(g.labels, fit.labels))})
    return rows


def rate_network_pair_factor() -> list[dict]:
    recordings, truth = GENERATORS["rate_network"](random_state=0, noise="low")
    res = connectome(build_cohort(recordings), random_state=0, baselines=())
    planted, fitted = planted_factors(truth, res.ntf)[2], dataset_factors(res.ntf)[2]
    rows = []
    for k in range(planted.shape[1]):
        p = planted[:, k]
        cos = fitted.T @ p / np.linalg.norm(fitted, axis=0) / np.linalg.norm(p)
        f = fitted[:, int(np.argmax(cos))]
        inside = p > 0
        rows.append({"planted": k, "pair_cosine": float(cos.max()),
                     "mass_outside_planted_blocks": float(f[~inside].sum() / f.sum()),
                     "cosine_on_planted_support": float(np.linalg.norm(f[inside]) / np.linalg.norm(f))})
    return rows


def main() -> int:
    out = {"command": " ".join(["python", *sys.argv]), "sbm_overfit_lfr120_mu0.3": sbm_overfit(),
           "rate_network_seed0_low_pair_factor": rate_network_pair_factor()}
    write_json(out, OUT)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
