# Settings, input functions and seeds of the connectome rules (kept apart for --lint).
from neurodyn.connectome.memory import ntf_result_mem_mb, rank_fit_mem_mb

CX = config["connectome"]
CX_RANKS = [int(r) for r in CX["ranks"]]
CX_RESTARTS = list(range(CX["restarts"]))
CX_PLANTED = [
    d
    for d, s in DATASETS.items()
    if s["reader"] == "synthetic"
    and s["synthetic"]["generator"] == "planted_communities"
]
# Schema key -> library parameter: affinity -> affinity_tensor(method=), rank ->
# select_from_fits(override=); every other key keeps its name.
CX_AFFINITY = {
    "method": CX["affinity"],
    "window_s": CX["window_s"],
    "stride_s": CX["stride_s"],
    "chance": CX["chance"],
    "min_coverage": CX["min_coverage"],
    "dtype": CX["dtype"],
    "max_memory_gb": config["max_memory_gb"],
    "smooth_s": CX["smooth_s"],
    "saturation": CX["saturation"],
}
CX_NTF = {
    "max_iter": CX["max_iter"],
    "tol": CX["tol"],
    "n_inner": CX["n_inner"],
    "backend": config["backend"],
    "device": config["device"],
}
CX_SELECT = {
    "selection": CX["selection"],
    "n_se": CX["n_se"],
    "similarity_threshold": CX["similarity_threshold"],
    "elbow_fraction": CX["elbow_fraction"],
    "override": CX["rank"],
}
CX_COMMUNITIES = {
    "max_blocks": CX["max_blocks"],
    "weight_model": CX["weight_model"],
    "model": CX["model"],
    "baselines": list(CX["baselines"]),
}


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
