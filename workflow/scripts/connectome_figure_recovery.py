"""Planted-truth recovery bars (congruence per mode, NMI)."""

import sys

import pandas as pd

from neurodyn.plots.connectome import recovery
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

save(recovery(pd.read_csv(snakemake.input[0])), snakemake.output.png)
