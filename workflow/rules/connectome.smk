# Dynamic functional connectome (Dyballa et al., ICLR 2024), per dataset:
# cohort -> affinity tensor -> rank sweep (each rank x restart its own job) -> rank
# selection -> final NTF -> communities per component -> tables and figures; for
# planted synthetic datasets also the recovery of the planted truth.
import zlib

CX = config.get("connectome", {})
CX_RANKS = [int(r) for r in CX.get("ranks", [1, 2, 3, 4, 5, 6])]
CX_RESTARTS = list(range(int(CX.get("restarts", 3))))
CX_PLANTED = [
    d
    for d, s in DATASETS.items()
    if s["reader"] == "synthetic" and s["synthetic"]["generator"] == "planted_communities"
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
    return (SEED * 1_000_003 + zlib.crc32("/".join(map(str, ("connectome",) + keys)).encode())) % 2**31


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


wildcard_constraints:
    cx_rank=r"\d+",
    cx_restart=r"\d+",


rule connectome_affinity:
    input:
        cohort="results/{dataset}/cohort.nc",
    output:
        "results/{dataset}/connectome/affinity.nc",
    log:
        "results/logs/connectome/{dataset}/affinity.log",
    params:
        affinity=CX_AFFINITY,
        version=VERSION,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/connectome_affinity.py"


rule connectome_rank_fit:
    input:
        "results/{dataset}/connectome/affinity.nc",
    output:
        "results/{dataset}/connectome/ranks/rank{cx_rank}_restart{cx_restart}.nc",
    log:
        "results/logs/connectome/{dataset}/rank{cx_rank}_restart{cx_restart}.log",
    params:
        ntf=CX_NTF,
        seed=lambda w: cx_seed(w.dataset, w.cx_rank, w.cx_restart),
        version=VERSION,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/connectome_rank_fit.py"


rule connectome_rank_selection:
    input:
        cx_sweep,
    output:
        metrics="results/{dataset}/connectome/rank_selection.csv",
        summary="results/tables/connectome/{dataset}_rank_metrics.csv",
    log:
        "results/logs/connectome/{dataset}/rank_selection.log",
    params:
        select=CX_SELECT,
        version=VERSION,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/connectome_rank_selection.py"


rule connectome_ntf:
    input:
        metrics="results/{dataset}/connectome/rank_selection.csv",
        sweep=cx_sweep,
    output:
        ntf="results/{dataset}/connectome/ntf.nc",
        components="results/tables/connectome/{dataset}_components.csv",
    log:
        "results/logs/connectome/{dataset}/ntf.log",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_ntf.py"


rule connectome_communities:
    input:
        "results/{dataset}/connectome/ntf.nc",
    output:
        communities="results/{dataset}/connectome/communities.csv",
        table="results/tables/connectome/{dataset}_communities.csv",
        methods="results/tables/connectome/{dataset}_community_methods.csv",
    log:
        "results/logs/connectome/{dataset}/communities.log",
    params:
        communities=CX_COMMUNITIES,
        seed=lambda w: cx_seed(w.dataset, "communities"),
        version=VERSION,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/connectome_communities.py"


rule connectome_recovery:
    input:
        truth="results/{dataset}/truth.nc",
        ntf="results/{dataset}/connectome/ntf.nc",
        communities="results/{dataset}/connectome/communities.csv",
    output:
        "results/tables/connectome/{dataset}_recovery.csv",
    log:
        "results/logs/connectome/{dataset}/recovery.log",
    wildcard_constraints:
        dataset="|".join(CX_PLANTED) or "(?!x)x",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_recovery.py"


rule connectome_figure_rank:
    input:
        metrics="results/{dataset}/connectome/rank_selection.csv",
        summary="results/tables/connectome/{dataset}_rank_metrics.csv",
    output:
        png=report(
            "results/figures/connectome/{dataset}/rank_selection.png",
            caption="../report/connectome_rank_selection.rst",
            category="Connectome",
        ),
        pdf="results/figures/connectome/{dataset}/rank_selection.pdf",
    log:
        "results/logs/connectome/{dataset}/figure_rank.log",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_figure_rank.py"


rule connectome_figure_components:
    input:
        unpack(cx_component_inputs),
    output:
        png=report(
            "results/figures/connectome/{dataset}/components.png",
            caption="../report/connectome_components.rst",
            category="Connectome",
        ),
        pdf="results/figures/connectome/{dataset}/components.pdf",
    log:
        "results/logs/connectome/{dataset}/figure_components.log",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_figure_components.py"


rule connectome_figure_communities:
    input:
        ntf="results/{dataset}/connectome/ntf.nc",
        communities="results/{dataset}/connectome/communities.csv",
    output:
        png=report(
            "results/figures/connectome/{dataset}/communities.png",
            caption="../report/connectome_communities.rst",
            category="Connectome",
        ),
        pdf="results/figures/connectome/{dataset}/communities.pdf",
    log:
        "results/logs/connectome/{dataset}/figure_communities.log",
    params:
        seed=lambda w: cx_seed(w.dataset, "layout"),
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_figure_communities.py"


rule connectome_figure_recovery:
    input:
        "results/tables/connectome/{dataset}_recovery.csv",
    output:
        png=report(
            "results/figures/connectome/{dataset}/recovery.png",
            caption="../report/connectome_recovery.rst",
            category="Connectome",
        ),
        pdf="results/figures/connectome/{dataset}/recovery.pdf",
    log:
        "results/logs/connectome/{dataset}/figure_recovery.log",
    wildcard_constraints:
        dataset="|".join(CX_PLANTED) or "(?!x)x",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/connectome_figure_recovery.py"


CX_FIGURES = [
    f"results/figures/connectome/{dataset}/{name}.{ext}"
    for dataset in DATASETS
    for name in ("rank_selection", "components", "communities")
    for ext in ("png", "pdf")
] + [f"results/figures/connectome/{dataset}/recovery.{ext}" for dataset in CX_PLANTED for ext in ("png", "pdf")]
CX_TABLES = [
    f"results/tables/connectome/{dataset}_{name}.csv"
    for dataset in DATASETS
    for name in ("rank_metrics", "components", "communities", "community_methods")
] + [f"results/tables/connectome/{dataset}_recovery.csv" for dataset in CX_PLANTED]

ALL_TARGETS.extend(CX_TABLES)
ALL_TARGETS.extend(CX_FIGURES)
FIGURE_TARGETS.extend(CX_FIGURES)
