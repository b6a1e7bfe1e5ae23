"""The final NTF: the best restart of the chosen rank, and its components table."""

import logging
import sys

import pandas as pd

from neurodyn.connectome.ntf import components_table
from neurodyn.io import read_netcdf, write_csv, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

metrics = pd.read_csv(snakemake.input.metrics)
chosen = metrics[metrics["selected"]].iloc[0]
ds = read_netcdf(chosen["path"])
ds.attrs["selected_from"] = str(chosen["path"])
write_netcdf(ds, snakemake.output.ntf)
write_csv(components_table(ds), snakemake.output.components)
logging.info("final NTF: rank %d restart %d, rel. error %.4f", chosen["rank"], chosen["restart"],
             chosen["rel_error"])
