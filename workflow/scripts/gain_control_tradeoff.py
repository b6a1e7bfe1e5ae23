"""Accuracy-activity trade-off of the optimal gains over the trade-off weight λ."""

import logging
import sys

import numpy as np

from neurodyn.backend import Backend
from neurodyn.circuits.gain_control import GainControlParams, tradeoff_curves
from neurodyn.io import provenance, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

sweep = snakemake.params.sweep
tradeoffs = np.geomspace(float(sweep["min"]), float(sweep["max"]), int(sweep["n"]))
curves = tradeoff_curves(tradeoffs, snakemake.params.adapter_probabilities, snakemake.params.models,
                         GainControlParams.from_mapping(snakemake.params.network),
                         Backend(snakemake.params.backend, snakemake.params.device))
curves.attrs.update(provenance(random_state=snakemake.params.random_state,
                               config={"network": dict(snakemake.params.network), "sweep": dict(sweep)}))
print(curves)
write_netcdf(curves, snakemake.output[0], provenance=PROVENANCE)
