# Settings, input functions and seeds of the connectome rules (kept apart for --lint).


CX = config.get("connectome", {})
CX_RANKS = [int(r) for r in CX.get("ranks", [1, 2, 3, 4, 5, 6])]
CX_RESTARTS = list(range(int(CX.get("restarts", 3))))
CX_PLANTED = [
    d
    for d, s in DATASETS.items()
    if s["reader"] == "synthetic"
    and s["synthetic"]["generator"] == "planted_communities"
]
CX_AFFINITY = {
    "method": CX.get("affinity", "differential"),
    "window_s": float(CX.get("window_s", 40.0)),
    "stride_s": float(CX.get("stride_s", 20.0)),
    "chance": CX.get("chance", "median"),
    "dtype": CX.get("dtype", "float32"),
    "max_memory_gb": float(config.get("max_memory_gb", 8)),
    "params": (
        {
            "smooth_s": float(CX.get("smooth_s", 1.0)),
            "saturation": CX.get("saturation"),
            "normalize": CX.get("normalize", "window"),
        }
        if CX.get("affinity", "differential") == "differential"
        else {}
    ),
}
CX_NTF = {
    "n_iter_max": int(CX.get("n_iter_max", 300)),
    "tol": float(CX.get("tol", 1e-6)),
    "n_inner": int(CX.get("n_inner", 5)),
    "backend": config.get("backend", "numpy"),
    "device": config.get("device", "cpu"),
}
CX_SELECT = {
    "similarity_threshold": float(CX.get("similarity_threshold", 0.9)),
    "elbow_fraction": float(CX.get("elbow_fraction", 0.05)),
    "override": CX.get("rank"),
}
CX_COMMUNITIES = {
    "max_blocks": int(CX.get("max_blocks", 8)),
    "baselines": list(CX.get("baselines", ["louvain", "leiden"])),
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
