"""QC table of a dataset: one row per animal (neurons, identified, duration, rate, NaNs)."""

import sys

from neurodyn.data import load_cohort, read_recording
from neurodyn.data.qc import recording_qc
from neurodyn.io import rule_provenance, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

recordings = [read_recording(p, format="netcdf") for p in snakemake.input.recordings]
write_csv(recording_qc(recordings, load_cohort(snakemake.input.cohort)), snakemake.output[0], provenance=PROVENANCE)
