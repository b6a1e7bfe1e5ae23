# Ingest: raw files (or a synthetic generator) -> one Recording per animal -> a cohort
# per dataset, with a QC figure per animal and a QC table per dataset.
import re
import zlib

INGEST = config.get("ingest", {})
SYNTHETIC_DATASETS = [d for d, s in DATASETS.items() if s["reader"] == "synthetic"]


def derived_seed(*keys):
    """A sub-seed from the master seed and names, stable across runs and machines."""
    return (SEED * 1_000_003 + zlib.crc32("/".join(map(str, keys)).encode())) % 2**31


def _alternatives(names):
    return "|".join(map(re.escape, names)) or "(?!x)x"


def ingest_inputs(wildcards):
    spec = DATASETS[wildcards.dataset]
    if spec["reader"] == "synthetic":
        return {"recording": f"results/{wildcards.dataset}/raw"}
    files = dict(zip(dataset_animals(wildcards.dataset), spec["files"]))
    inputs = {"recording": files[wildcards.animal]}
    if spec.get("labels"):
        inputs["labels"] = spec["labels"]
    return inputs


def dataset_recordings(wildcards):
    return expand(
        "results/{dataset}/recordings/{animal}.nc",
        dataset=wildcards.dataset,
        animal=dataset_animals(wildcards.dataset),
    )


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
    params:
        synthetic=lambda w: DATASETS[w.dataset]["synthetic"],
        animals=lambda w: dataset_animals(w.dataset),
        seed=lambda w: derived_seed("synthesize", w.dataset),
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/synthesize.py"


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        "results/{dataset}/recordings/{animal}.nc",
    log:
        "results/logs/ingest/{dataset}/{animal}.log",
    params:
        reader=lambda w: DATASETS[w.dataset]["reader"],
        sampling_rate_hz=lambda w: DATASETS[w.dataset].get("sampling_rate_hz"),
        dataset=lambda w: DATASETS[w.dataset],
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/ingest_recording.py"


rule cohort:
    input:
        recordings=dataset_recordings,
    output:
        "results/{dataset}/cohort.nc",
    log:
        "results/logs/ingest/{dataset}/cohort.log",
    params:
        min_animals=lambda w: int(DATASETS[w.dataset].get("min_animals", 1)),
        dataset=lambda w: DATASETS[w.dataset],
        version=VERSION,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
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
    params:
        max_neurons=INGEST.get("qc_max_neurons", 150),
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
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
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
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
