"""Draw one rich/lazy figure from saved results (no refitting)."""

import sys

from neurodyn.io import read_netcdf
from neurodyn.plots import rich_lazy
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

fig = rich_lazy.PLOTS[snakemake.params.plot](read_netcdf(snakemake.input[0]))
save(fig, snakemake.output.png)
