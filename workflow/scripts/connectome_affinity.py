"""Cohort -> window x animal x pair affinity tensor (with its per-window mask)."""

import logging
import sys

from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.io import provenance, read_netcdf, rule_provenance, write_netcdf
from neurodyn.progress import STEP_EVERY_S, Progress

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

cfg = dict(snakemake.params.affinity)
cohort = read_netcdf(snakemake.input.cohort)
logging.info("affinity tensor of %s", dict(cohort["traces"].sizes))
with Progress(1, "affinity tensor", every_s=STEP_EVERY_S, heartbeat=True):  # says it is running, and for how long
    ds = affinity_tensor(cohort, **cfg)
ds.attrs.update(provenance(config=cfg))
write_netcdf(ds, snakemake.output[0], provenance=PROVENANCE)
logging.info("affinity tensor %s (%s, chance %s): %.1f%% of (animal, pair) present, %.1f%% of "
             "(window, animal, pair) entries observed (min_coverage %s)", dict(ds["affinity"].sizes),
             ds.attrs["method"], ds.attrs["chance"], 100 * float(ds["pair_present"].mean()),
             100 * float(ds["mask"].mean()), ds.attrs["min_coverage"])
