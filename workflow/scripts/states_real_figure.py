"""One real-worm state figure (raster, held-out AMI, anatomy ROC, model selection) from saved results."""

import sys

import pandas as pd

from neurodyn.io import read_netcdf
from neurodyn.plots import states_real as plots

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

kind = snakemake.wildcards.kind
if kind == "raster":
    fig = plots.state_raster(read_netcdf(snakemake.input.fit).load())
elif kind == "heldout_ami":
    fig = plots.heldout_ami(pd.read_csv(snakemake.input.behaviour))
elif kind == "selection":
    fig = plots.selection(pd.read_csv(snakemake.input.selection))
else:
    fig = plots.anatomy_roc(read_netcdf(snakemake.input.fit).load(), snakemake.params.connectome)
plots.save(fig, snakemake.output.png)
