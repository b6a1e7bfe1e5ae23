"""QC figure of one ingested Recording (traces heatmap + behaviour)."""

import sys

from neurodyn.data import read_recording
from neurodyn.plots import style
from neurodyn.plots.qc import plot_recording_qc

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

fig = plot_recording_qc(read_recording(snakemake.input.recording, format="netcdf"),
                        max_neurons=int(snakemake.params.max_neurons))
style.save(fig, snakemake.output.png)
