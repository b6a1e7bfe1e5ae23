"""States of a recorded cohort: leave-one-worm-out HMM-GLM and baselines, final fit, anatomy AUROCs;
one animal or no identities: validated in time, skipped steps stated (analyse_cohort dispatches)."""

import logging
import sys

from neurodyn.io import provenance, read_netcdf, rule_provenance, write_csv, write_netcdf
from neurodyn.states.real import analyse_cohort

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

cfg = dict(snakemake.params.real)  # the keyword arguments of analyse_cohort
cohort = read_netcdf(snakemake.input.cohort).load()
out = analyse_cohort(cohort, random_state=int(snakemake.params.seed), **cfg)
fit = out["fit"]
fit.attrs.update(provenance(random_state=int(snakemake.params.seed), config=cfg))
write_netcdf(fit, snakemake.output.fit, provenance=PROVENANCE)
write_csv(out["selection"], snakemake.output.selection, index=False, float_format="%.6g", provenance=PROVENANCE)
write_csv(out["behaviour"], snakemake.output.behaviour, index=False, float_format="%.6g", provenance=PROVENANCE)
write_csv(out["anatomy"], snakemake.output.anatomy, index=False, float_format="%.6g", provenance=PROVENANCE)
