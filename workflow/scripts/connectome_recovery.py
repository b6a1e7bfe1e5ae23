"""Recovery of the planted components and communities (synthetic datasets)."""

import logging
import sys

import pandas as pd

from neurodyn.connectome.communities import primary_method
from neurodyn.connectome.synthetic import planted_recovery
from neurodyn.io import read_netcdf, rule_provenance, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

communities = pd.read_csv(snakemake.input.communities)
ntf = read_netcdf(snakemake.input.ntf)
if "background" in ntf:  # planted community components are matched to the others
    ntf = ntf.isel(component=~ntf["background"].values.astype(bool))
table = planted_recovery(read_netcdf(snakemake.input.truth), ntf, communities[communities["method"] == primary_method(communities)])
write_csv(table, snakemake.output[0], provenance=PROVENANCE)
logging.info("\n%s", table.to_string())
