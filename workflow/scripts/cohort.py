"""Align a dataset's Recordings into a cohort (animal, time, neuron)."""

import logging
import sys

from neurodyn.data import build_cohort, read_recording
from neurodyn.io import provenance, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

recordings = [read_recording(p, format="netcdf") for p in snakemake.input.recordings]
cohort = build_cohort(recordings, min_animals=snakemake.params.min_animals)
cohort.attrs.update(provenance(config=snakemake.params.dataset))
write_netcdf(cohort, snakemake.output[0], provenance=PROVENANCE)
logging.info("cohort %s", dict(cohort.sizes))
