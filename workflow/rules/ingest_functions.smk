# Input functions and helpers of the ingest rules (kept apart from the rules for --lint).
import re

INGEST = config["ingest"]
SYNTHETIC_DATASETS = [d for d, s in DATASETS.items() if s["reader"] == "synthetic"]


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
