"""Synthetic benchmark repeats -> the paper's Table 1 layout (mean ± sd over repeats)."""

import sys

import pandas as pd

from neurodyn.io import rule_provenance, write_csv
from neurodyn.states.benchmark import summarize_benchmark

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

raw = pd.concat([pd.read_csv(p) for p in snakemake.input.repeats], ignore_index=True)
table = summarize_benchmark(raw)
print(table.to_string())
write_csv(raw, snakemake.output.raw, index=False, float_format="%.6g", provenance=PROVENANCE)
write_csv(table, snakemake.output.table, index=False, provenance=PROVENANCE)
