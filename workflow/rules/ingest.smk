# Ingest: raw files (or a synthetic generator) -> one Recording per animal -> a cohort
# per dataset, with a QC figure per animal and a QC table per dataset.
include: "ingest_functions.smk"


wildcard_constraints:
    dataset=_alternatives(DATASETS),
    animal=r"[^/]+",


rule synthesize:
    output:
        raw=directory("results/{dataset}/raw"),
        truth="results/{dataset}/truth.nc",
    log:
        "results/logs/ingest/{dataset}/synthesize.log",
    wildcard_constraints:
        dataset=_alternatives(SYNTHETIC_DATASETS),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        synthetic=lambda w: DATASETS[w.dataset]["synthetic"],
        animals=lambda w: dataset_animals(w.dataset),
        random_state=lambda w: derived_seed("synthesize", w.dataset),
        version=code_version("synthesize.py"),
    script:
        "../scripts/synthesize.py"


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        "results/{dataset}/recordings/{animal}.nc",
    log:
        "results/logs/ingest/{dataset}/{animal}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        reader=lambda w: DATASETS[w.dataset]["reader"],
        dataset=lambda w: DATASETS[w.dataset],
        version=code_version("ingest_recording.py"),
    script:
        "../scripts/ingest_recording.py"


rule cohort:
    input:
        recordings=dataset_recordings,
    output:
        "results/{dataset}/cohort.nc",
    log:
        "results/logs/ingest/{dataset}/cohort.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        min_animals=lambda w: DATASETS[w.dataset]["min_animals"],
        dataset=lambda w: DATASETS[w.dataset],
        version=code_version("cohort.py"),
    script:
        "../scripts/cohort.py"


rule qc_figure:
    input:
        recording="results/{dataset}/recordings/{animal}.nc",
    output:
        png=report(
            "results/figures/qc/{dataset}/{animal}.png",
            caption="../report/qc_figure.rst",
            category="Quality control",
            subcategory="{dataset}",
        ),
        pdf="results/figures/qc/{dataset}/{animal}.pdf",
    log:
        "results/logs/qc/{dataset}/{animal}.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        max_neurons=INGEST["qc_max_neurons"],
        version=code_version("qc_figure.py"),
    script:
        "../scripts/qc_figure.py"


rule qc_table:
    input:
        recordings=dataset_recordings,
        cohort="results/{dataset}/cohort.nc",
    output:
        "results/tables/qc/{dataset}.csv",
    log:
        "results/logs/qc/{dataset}/table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("qc_table.py"),
    script:
        "../scripts/qc_table.py"


QC_FIGURES = [
    f"results/figures/qc/{dataset}/{animal}.{ext}"
    for dataset in DATASETS
    for animal in dataset_animals(dataset)
    for ext in ("png", "pdf")
]
ALL_TARGETS.extend(f"results/{dataset}/cohort.nc" for dataset in DATASETS)
ALL_TARGETS.extend(f"results/tables/qc/{dataset}.csv" for dataset in DATASETS)
ALL_TARGETS.extend(QC_FIGURES)
FIGURE_TARGETS.extend(QC_FIGURES)
