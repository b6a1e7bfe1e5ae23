# Shared helpers for every rule file. Each rule file appends its final outputs to
# ALL_TARGETS (what `snakemake` builds) and its figures to FIGURE_TARGETS (what
# `snakemake figures` redraws from saved results).
import zlib
from pathlib import Path

import neurodyn
from neurodyn.data.readers import animal_from_path, registered_names
from neurodyn.imports import ModuleGraph
from neurodyn.io import provenance

# The library as this run imports it, and the folder of the rules' scripts.
LIBRARY = ModuleGraph("neurodyn")
SCRIPTS = Path(workflow.current_basedir).parent / "scripts"


def code_version(script):
    """Code version of the rule that runs workflow/scripts/<script>, a parameter of every
    rule: the package version plus a hash of the library files the script imports,
    directly or transitively (neurodyn.imports), so that a library change re-runs the
    rules whose code it changes and no others (Snakemake's params re-run trigger; a
    change to the script itself is its code trigger)."""
    return f"{neurodyn.__version__}+{LIBRARY.code_hash(SCRIPTS / script)[:16]}"


SEED = int(config["seed"])
# What the report says it was built from (git commit and dirty flag, versions, config
# hash, master seed); each result file records its own (`neurodyn inspect FILE`). Added
# after validation, read by workflow/report/workflow.rst only, and never a rule parameter,
# so a commit re-runs nothing by itself.
config["_provenance"] = provenance(random_state=SEED, config=config)
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
