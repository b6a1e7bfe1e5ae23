# Settings, input functions and seeds of the connectome rules (kept apart for --lint).
from neurodyn.connectome.crossval import heldout_design
from neurodyn.connectome.memory import ntf_result_mem_mb, rank_fit_mem_mb

CX = config["connectome"]
CX_RANKS = [int(r) for r in CX["rank"]["ranks"]]
CX_RESTARTS = list(range(CX["rank"]["restarts"]))
CX_PLANTED = [
    d
    for d, s in DATASETS.items()
    if s["reader"] == "synthetic"
    and s["synthetic"]["generator"] == "planted_communities"
]
# Each config subsection is the keyword arguments of the library call it names, passed
# with ** as it stands; the top-level max_memory_gb, backend and device join them.
CX_AFFINITY = {**CX["affinity"], "max_memory_gb": config["max_memory_gb"]}
CX_NTF = {**CX["ntf"], "backend": config["backend"], "device": config["device"]}
CX_RANK = dict(CX["rank"])
# Held-out blocks and guards: null derives them from the affinity windows.
CX_HELDOUT = {
    key: (
        value
        if value is not None
        else heldout_design(CX["affinity"]["window_s"], CX["affinity"]["stride_s"])[key]
    )
    for key, value in (
        ("heldout_block", CX_RANK["heldout_block"]),
        ("heldout_guard", CX_RANK["heldout_guard"]),
    )
}
CX_BACKGROUND = dict(CX["background"])
CX_COMMUNITIES = dict(CX["communities"])


def cx_seed(*keys):
    """A sub-seed of the master seed for one connectome step."""
    return derived_seed("connectome", *keys)


def cx_sweep(wildcards):
    return expand(
        "results/{dataset}/connectome/ranks/rank{rank}_restart{restart}.nc",
        dataset=wildcards.dataset,
        rank=CX_RANKS,
        restart=CX_RESTARTS,
    )


def cx_component_inputs(wildcards):
    inputs = {
        "ntf": f"results/{wildcards.dataset}/connectome/ntf.nc",
        "cohort": f"results/{wildcards.dataset}/cohort.nc",
        "communities": f"results/{wildcards.dataset}/connectome/communities.csv",
    }
    if wildcards.dataset in CX_PLANTED:
        inputs["truth"] = f"results/{wildcards.dataset}/truth.nc"
    return inputs
