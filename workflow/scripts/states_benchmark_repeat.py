"""One repeat of the synthetic HMM-GLM benchmark (Li et al., ICLR 2024, Table 1)."""

import logging
import sys

from neurodyn.io import write_csv
from neurodyn.states.benchmark import run_synthetic_repeat

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")

b = dict(snakemake.params.benchmark)
table = run_synthetic_repeat(
    int(snakemake.params.seed),
    models=tuple(b.get("models", ("GLM", "HG", "GHG", "OHG"))),
    n_states=int(b.get("n_states", 5)),
    n_neurons=int(b.get("n_neurons", 20)),
    n_train=int(b.get("n_train", 3)),
    n_test=int(b.get("n_test", 2)),
    n_time=int(b.get("n_time", 2000)),
    fit={
        "max_iter": int(b.get("max_iter", 15)),
        "m_step_iter": int(b.get("m_step_iter", 15)),
        "n_init": int(b.get("n_init", 1)),
        "init_iter": b.get("init_iter"),
    },
    ohg_warm_start=b.get("ohg_warm_start"),
)
print(table.to_string())
write_csv(table, snakemake.output[0], index=False, float_format="%.6g")
