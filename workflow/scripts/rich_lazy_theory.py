"""Two-layer linear network: simulated kernel alignment vs. the sqrt(PR)/d theory."""

import logging
import sys

from neurodyn.circuits.linear_theory import linear_theory_experiment, theory_table
from neurodyn.io import provenance, rule_provenance, write_csv, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

theory = dict(snakemake.params.theory)
ds = linear_theory_experiment(**theory)
ds.attrs.update(provenance(random_state=theory["random_state"], config=theory))
write_netcdf(ds, snakemake.output.nc, provenance=PROVENANCE)
table = theory_table(ds)
write_csv(table, snakemake.output.table, provenance=PROVENANCE)
logging.info("\n%s", table.to_string())
