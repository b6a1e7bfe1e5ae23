"""One repeat of the synthetic HMM-GLM benchmark (Li et al., ICLR 2024, Table 1)."""

import logging
import sys

from neurodyn.io import rule_provenance, write_csv
from neurodyn.states.benchmark import run_synthetic_repeat

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

# the keyword arguments of run_synthetic_repeat (the fitting budget under fit)
table = run_synthetic_repeat(int(snakemake.params.seed), **snakemake.params.benchmark)
print(table.to_string())
# fit times stay in this log: same-seed runs must give identical tables
write_csv(table.drop(columns="fit_seconds"), snakemake.output[0], index=False, float_format="%.6g", provenance=PROVENANCE)
