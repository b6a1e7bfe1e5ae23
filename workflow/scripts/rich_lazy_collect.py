"""Stack single rich/lazy runs into one NetCDF and a mean ± s.d. table over seeds."""

import logging
import sys

from neurodyn.circuits.rich_lazy import collect_runs, summary_table
from neurodyn.io import provenance, read_netcdf, rule_provenance, write_csv, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

ds = collect_runs(read_netcdf(p) for p in snakemake.input)
ds.attrs.update(provenance(config=snakemake.params.config))
write_netcdf(ds, snakemake.output.nc, provenance=PROVENANCE)
table = summary_table(ds, list(snakemake.params.by))
write_csv(table, snakemake.output.table, provenance=PROVENANCE)
logging.info("%d runs\n%s", len(snakemake.input), table.to_string())
