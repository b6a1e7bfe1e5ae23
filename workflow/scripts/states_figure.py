"""One brain-state figure (raster, weights, prior vs connectome, held-out LL vs S) from saved results."""

import sys

import pandas as pd

from neurodyn.data.anatomy import connectome_matrix
from neurodyn.io import read_netcdf
from neurodyn.plots import states as plots
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

kind = snakemake.wildcards.kind
result = read_netcdf(snakemake.input.fit).load()
if kind == "raster":
    fig = plots.state_raster(result)
elif kind == "weights":
    fig = plots.state_weights(result)
elif kind == "heldout_ll":
    fig = plots.heldout_ll_vs_states(pd.read_csv(snakemake.input.selection))
else:
    name = snakemake.params.connectome
    auc = pd.read_csv(snakemake.input.anatomy)
    row = auc[(auc.connectome == name) & (auc.kind == "any") & (auc.score == "prior_connection")]
    C = connectome_matrix([str(n) for n in result["pre"].values], name=name, kind="any")
    fig = plots.prior_vs_connectome(result, C, name, float(row.auroc.iloc[0]) if len(row) else None)
save(fig, snakemake.output.png)
