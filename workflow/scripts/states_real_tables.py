"""State–behaviour agreement (AMI) and learned-prior–anatomy AUROC of a fitted cohort."""

import sys

from neurodyn.data.cohort import has_identities
from neurodyn.data.qc import NO_IDENTITIES, skipped_behaviour_table
from neurodyn.io import read_netcdf, write_csv
from neurodyn.states.real import behaviour_agreement, prior_anatomy_auroc

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

result = read_netcdf(snakemake.input.fit).load()
# a dataset without behaviour or without identities (one-animal ROIs) gets a table that says so
behaviour = behaviour_agreement(result) if "behavior_reversal" in result else skipped_behaviour_table(result)
anatomy = prior_anatomy_auroc(result)
if not has_identities(result, dim="pre"):
    anatomy["note"] = NO_IDENTITIES
print(behaviour.to_string(), anatomy.to_string(), sep="\n\n")
write_csv(behaviour, snakemake.output.behaviour, index=False, float_format="%.6g")
write_csv(anatomy, snakemake.output.anatomy, index=False, float_format="%.6g")
