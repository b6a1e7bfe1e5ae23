"""Singular-value spectra and effective ranks of the initial recurrent connectivities."""

import logging
import sys

from neurodyn.circuits.rich_lazy import init_spectra, spectra_table
from neurodyn.io import provenance, rule_provenance, write_csv, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

spec = dict(snakemake.params.spectra)
ds = init_spectra(**spec)
ds.attrs.update(provenance(random_state=spec["random_state"], config=spec))
write_netcdf(ds, snakemake.output.nc, provenance=PROVENANCE)
table = spectra_table(ds)
write_csv(table, snakemake.output.table, provenance=PROVENANCE)
logging.info("\n%s", table.to_string())
