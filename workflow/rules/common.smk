# Shared helpers for every rule file. Each rule file appends its final outputs to
# ALL_TARGETS (what `snakemake` builds) and its figures to FIGURE_TARGETS (what
# `snakemake figures` redraws from saved results).
import zlib

import neurodyn
from neurodyn.data.readers import animal_from_path, registered_names

# Code version, a parameter of every rule: the package version plus a hash of the library's
# source, so a change to neurodyn re-runs the rules (Snakemake's params re-run trigger).
VERSION = f"{neurodyn.__version__}+{neurodyn.source_hash()[:16]}"
SEED = int(config["seed"])
DATASETS = config["datasets"]
UNKNOWN_READERS = {
    name: spec["reader"]
    for name, spec in DATASETS.items()
    if spec["reader"] != "synthetic" and spec["reader"] not in registered_names()
}
if UNKNOWN_READERS:
    raise ValueError(
        f"config: datasets {UNKNOWN_READERS} name readers that are not registered; "
        f"registered: {sorted(registered_names())} and synthetic"
    )
ALL_TARGETS = []
FIGURE_TARGETS = []
# GPUs per job for the backend-generic rules (NTF, gain control, RNN training): one when
# the config asks for CUDA, so the SLURM profile requests a GPU for exactly those jobs.
GPUS = 1 if config["device"] == "cuda" else 0


def derived_seed(*keys):
    """The seed of one stochastic step: from the master seed and the step's names (rule,
    dataset, repeat, ...), stable across runs and machines. Every rule derives its seeds
    here, so no two steps share a stream by accident."""
    return (SEED * 1_000_003 + zlib.crc32("/".join(map(str, keys)).encode())) % 2**31


def dataset_animals(dataset):
    """Animal ids of a configured dataset (file stems, or generated names)."""
    spec = DATASETS[dataset]
    if spec["reader"] == "synthetic":
        return [f"{dataset}{i:02d}" for i in range(int(spec["synthetic"]["n_animals"]))]
    return [animal_from_path(f) for f in spec["files"]]


def rule_log(name):
    return f"results/logs/{name}.log"
