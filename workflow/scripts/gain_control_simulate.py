"""Simulate one adaptation experiment (one model, one adapter probability) and save it."""

import logging
import sys

from neurodyn.backend import Backend
from neurodyn.circuits.gain_control import GainControlParams, simulate_adaptation
from neurodyn.io import provenance, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

params = GainControlParams.from_mapping(snakemake.params.network)
backend = Backend(snakemake.params.backend, snakemake.params.device)
ds = simulate_adaptation(float(snakemake.params.adapter_probability), snakemake.wildcards.model, params, backend)
ds.attrs.update(provenance(random_state=snakemake.params.random_state,
                           config={"network": dict(snakemake.params.network), "model": snakemake.wildcards.model,
                                   "adapter_probability": snakemake.params.adapter_probability,
                                   "backend": snakemake.params.backend}))
logging.info("%s, adapter probability %.2f: %s", snakemake.wildcards.model, snakemake.params.adapter_probability,
             {k: ds.attrs[k] for k in ("peak_suppression", "max_repulsion_deg", "decorrelation", "cv_adapted")})
# NetCDF attributes cannot hold booleans.
ds.attrs["synaptic_converged"] = int(ds.attrs["synaptic_converged"])
write_netcdf(ds, snakemake.output[0], provenance=PROVENANCE)
