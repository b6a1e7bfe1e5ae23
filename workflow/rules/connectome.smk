# Dynamic functional connectome (Dyballa et al., ICLR 2024), per dataset:
# cohort -> affinity tensor -> rank sweep (each rank x restart its own job) -> rank
# selection -> final NTF -> communities per component -> tables and figures; for
# planted synthetic datasets also the recovery of the planted truth.
include: "connectome_functions.smk"


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
    benchmark:
        "results/benchmarks/connectome/{dataset}/affinity.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        affinity=CX_AFFINITY,
        version=code_version("connectome_affinity.py"),
    script:
        "../scripts/connectome_affinity.py"


rule connectome_rank_fit:
    input:
        "results/{dataset}/connectome/affinity.nc",
    output:
        "results/{dataset}/connectome/ranks/rank{cx_rank}_restart{cx_restart}.nc",
    log:
        "results/logs/connectome/{dataset}/rank{cx_rank}_restart{cx_restart}.log",
    benchmark:
        "results/benchmarks/connectome/{dataset}/rank{cx_rank}_restart{cx_restart}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: rank_fit_mem_mb(
            input[0], int(wildcards.cx_rank), attempt
        ),
        runtime=20,
        gpu=GPUS,
    params:
        ntf=CX_NTF,
        random_state=lambda w: cx_seed(w.dataset, w.cx_rank, w.cx_restart),
        heldout_fraction=CX_RANK["heldout_fraction"],
        heldout=CX_HELDOUT,
        heldout_random_state=lambda w: cx_seed(w.dataset, "heldout", w.cx_restart),
        version=code_version("connectome_rank_fit.py"),
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
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        rank=CX_RANK,
        version=code_version("connectome_rank_selection.py"),
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
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: ntf_result_mem_mb(input.sweep, attempt),
        runtime=5,
        gpu=GPUS,
    params:
        background=CX_BACKGROUND,
        version=code_version("connectome_ntf.py"),
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
    benchmark:
        "results/benchmarks/connectome/{dataset}/communities.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        communities=CX_COMMUNITIES,
        random_state=lambda w: cx_seed(w.dataset, "communities"),
        version=code_version("connectome_communities.py"),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("connectome_recovery.py"),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("connectome_figure_rank.py"),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("connectome_figure_components.py"),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        random_state=lambda w: cx_seed(w.dataset, "layout"),
        version=code_version("connectome_figure_communities.py"),
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("connectome_figure_recovery.py"),
    script:
        "../scripts/connectome_figure_recovery.py"


CX_FIGURES = [
    f"results/figures/connectome/{dataset}/{name}.{ext}"
    for dataset in DATASETS
    for name in ("rank_selection", "components", "communities")
    for ext in ("png", "pdf")
] + [
    f"results/figures/connectome/{dataset}/recovery.{ext}"
    for dataset in CX_PLANTED
    for ext in ("png", "pdf")
]
CX_TABLES = [
    f"results/tables/connectome/{dataset}_{name}.csv"
    for dataset in DATASETS
    for name in ("rank_metrics", "components", "communities", "community_methods")
] + [f"results/tables/connectome/{dataset}_recovery.csv" for dataset in CX_PLANTED]

ALL_TARGETS.extend(CX_TABLES)
ALL_TARGETS.extend(CX_FIGURES)
FIGURE_TARGETS.extend(CX_FIGURES)
