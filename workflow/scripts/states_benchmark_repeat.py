"""One repeat of the synthetic HMM-GLM benchmark (Li et al., ICLR 2024, Table 1)."""

import logging
import sys

from neurodyn.io import write_csv
from neurodyn.states.benchmark import run_synthetic_repeat

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")

b = snakemake.params.benchmark
table = run_synthetic_repeat(
    int(snakemake.params.seed),
    models=tuple(b["models"]),
    n_states=b["n_states"],
    n_neurons=b["n_neurons"],
    n_train=b["n_train"],
    n_test=b["n_test"],
    n_time=b["n_time"],
    concentration=tuple(b["concentration"]),
    fit={k: b[k] for k in ("max_iter", "m_step_iter", "tol", "n_init", "init_iter")},
    ohg_warm_start=b["ohg_warm_start"],
)
print(table.to_string())
# fit times stay in this log: same-seed runs must give identical tables
write_csv(table.drop(columns="fit_seconds"), snakemake.output[0], index=False, float_format="%.6g")
