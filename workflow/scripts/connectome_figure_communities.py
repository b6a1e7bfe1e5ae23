"""Community graph of every component, labelled with neuron names."""

import sys

import pandas as pd

from neurodyn.io import read_netcdf
from neurodyn.plots.connectome import community_graphs
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

fig = community_graphs(read_netcdf(snakemake.input.ntf), pd.read_csv(snakemake.input.communities),
                       seed=snakemake.params.random_state)
save(fig, snakemake.output.png)
