"""States of a recorded cohort: model selection over S and the final HMM-GLM fit."""

import logging
import sys

from neurodyn.data.anatomy import connectome_neurons
from neurodyn.data.cohort import has_identities
from neurodyn.io import provenance, read_netcdf, write_csv, write_netcdf
from neurodyn.states.real import fit_brain_states

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")

cfg = dict(snakemake.params.real)
cohort = read_netcdf(snakemake.input.cohort).load()
result, selection = fit_brain_states(
    cohort,
    n_neurons=int(cfg.get("n_neurons", 16)),
    n_states_range=cfg.get("n_states_range", [1, 2, 3]),
    n_states=cfg.get("n_states"),
    representation=cfg.get("representation", "zscore"),
    smooth_s=float(cfg.get("smooth_s", 1.0)),
    prior=cfg.get("prior", "onehot"),
    prior_kwargs={"tau": float(cfg.get("tau", 0.2))} if cfg.get("prior", "onehot") == "onehot" else None,
    test_fraction=float(cfg.get("test_fraction", 0.25)),
    # ROIs without identity (one-animal datasets) are never in a connectome: no candidate list then
    neurons=connectome_neurons(cfg.get("connectome", "witvliet_2020_8")) if has_identities(cohort) else None,
    fit={k: int(cfg[k]) for k in ("max_iter", "m_step_iter", "polish_iter") if k in cfg},
    seed=int(snakemake.params.seed),
)
result.attrs.update(provenance(random_state=int(snakemake.params.seed), config=cfg))
write_netcdf(result, snakemake.output.fit)
write_csv(selection, snakemake.output.selection, index=False, float_format="%.6g")
