"""Scope table of one dataset: the steps that run and the cross-animal/identity steps skipped."""

import sys

from neurodyn.data import load_cohort
from neurodyn.data.qc import analysis_scope
from neurodyn.io import rule_provenance, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

table = analysis_scope(load_cohort(snakemake.input.cohort), states=bool(snakemake.params.states))
print(table.to_string())
write_csv(table, snakemake.output[0], index=False, provenance=PROVENANCE)
