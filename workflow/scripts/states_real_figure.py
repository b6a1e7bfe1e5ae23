"""One real-worm state figure (raster, held-out AMI, anatomy ROC, model selection) from saved results.

On one animal, or without identities, a figure whose step was skipped says so and why."""

import sys

import pandas as pd

from neurodyn.io import read_netcdf
from neurodyn.plots import states_real as plots

sys.stderr = sys.stdout = open(snakemake.log[0], "w")


def skipped(title, reasons):
    fig = plots._figure(6.5, 1.6)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.0, 0.5, title + "\n" + "\n".join(dict.fromkeys(str(r) for r in reasons)), fontsize=8, va="center")
    return fig


kind = snakemake.wildcards.kind
behaviour = pd.read_csv(snakemake.input.behaviour)
anatomy = pd.read_csv(snakemake.input.anatomy)
if kind == "raster":
    fig = plots.state_raster(read_netcdf(snakemake.input.fit).load())
elif kind == "heldout_ami":
    if behaviour["ami_reversal"].isna().all():
        fig = skipped("AMI of the states with reversals: not computed", behaviour["note"])
    else:
        fig = plots.heldout_ami(behaviour)
elif kind == "selection":
    fig = plots.selection(pd.read_csv(snakemake.input.selection))
elif anatomy["auroc"].isna().all():
    fig = skipped("AUROC for anatomical contacts: not computed", anatomy["note"])
else:
    fig = plots.anatomy_roc(read_netcdf(snakemake.input.fit).load(), snakemake.params.connectome)
plots.save(fig, snakemake.output.png)
