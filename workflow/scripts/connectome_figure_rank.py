"""Rank-selection curves from the saved sweep metrics."""

import sys

import pandas as pd

from neurodyn.plots.connectome import rank_selection
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

fig = rank_selection(pd.read_csv(snakemake.input.summary), pd.read_csv(snakemake.input.metrics))
save(fig, snakemake.output.png)
