# Shared helpers for every rule file. Each rule file appends its final outputs to
# ALL_TARGETS (what `snakemake` builds) and its figures to FIGURE_TARGETS (what
# `snakemake figures` redraws from saved results).
import neurodyn

# Code version, a parameter of every rule: the package version plus a hash of the library's
# source, so a change to neurodyn re-runs the rules (Snakemake's params re-run trigger).
VERSION = f"{neurodyn.__version__}+{neurodyn.source_hash()[:16]}"
SEED = int(config.get("seed", 0))
DATASETS = config["datasets"]
ALL_TARGETS = []
FIGURE_TARGETS = []
# GPUs per job for the backend-generic rules (NTF, gain control, RNN training): one when
# the config asks for CUDA, so the SLURM profile requests a GPU for exactly those jobs.
GPUS = 1 if config.get("device", "cpu") == "cuda" else 0


def dataset_animals(dataset):
    """Animal ids of a configured dataset (file stems, or generated names)."""
    spec = DATASETS[dataset]
    if spec["reader"] == "synthetic":
        return [f"{dataset}{i:02d}" for i in range(int(spec["synthetic"]["n_animals"]))]
    from pathlib import Path

    return [Path(f).name.split(".")[0].removesuffix("-data") for f in spec["files"]]


def rule_log(name):
    return f"results/logs/{name}.log"
