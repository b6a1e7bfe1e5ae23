"""The final NTF: the best restart of the chosen rank, its background components flagged, and
its components table."""

import logging
import sys

import pandas as pd

from neurodyn.connectome.chain import flag_background
from neurodyn.connectome.ntf import components_table
from neurodyn.io import read_netcdf, rule_provenance, write_csv, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

metrics = pd.read_csv(snakemake.input.metrics)
chosen = metrics[metrics["selected"]].iloc[0]
ds = flag_background(read_netcdf(chosen["path"]), **snakemake.params.background)
ds.attrs["selected_from"] = str(chosen["path"])
write_netcdf(ds, snakemake.output.ntf, provenance=PROVENANCE)
table = components_table(ds)
table["pair_spread"] = ds["pair_spread"].values
table["background"] = ds["background"].values
write_csv(table, snakemake.output.components, provenance=PROVENANCE)
logging.info("final NTF: rank %d restart %d, rel. error %.4f; pair spread %s; background components %s "
             "(threshold %s)", chosen["rank"], chosen["restart"], chosen["rel_error"],
             [round(float(v), 3) for v in ds["pair_spread"].values],
             ds["component"].values[ds["background"].values].tolist() or "none",
             snakemake.params.background["threshold"])
