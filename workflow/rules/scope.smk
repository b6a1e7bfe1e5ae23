# Scope of each dataset's analyses: which steps ran, and which cross-animal or
# identity-based steps were skipped (one animal, no identities, no behaviour). A table
# per dataset, rendered into the report with the other tables.


localrules:
    qc_scope,


rule qc_scope:
    input:
        cohort="results/{dataset}/cohort.nc",
    output:
        "results/tables/qc/{dataset}_scope.csv",
    log:
        "results/logs/qc/{dataset}/scope.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        states=lambda w: w.dataset in STATES_DATASETS,
        version=code_version("qc_scope.py"),
    script:
        "../scripts/qc_scope.py"


ALL_TARGETS.extend(f"results/tables/qc/{dataset}_scope.csv" for dataset in DATASETS)
