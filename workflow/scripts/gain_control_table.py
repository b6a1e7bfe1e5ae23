"""One row per model and adapter probability, one column per adaptation effect."""

import sys

from neurodyn.circuits.gain_control import effects_table
from neurodyn.io import read_netcdf, rule_provenance, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

table = effects_table(read_netcdf(path) for path in snakemake.input.runs)
print(table.to_string())
write_csv(table, snakemake.output[0], float_format="%.6g", provenance=PROVENANCE)
