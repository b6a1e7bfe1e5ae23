# Brain states with HMM-GLMs (Li et al., ICLR 2024): the paper's synthetic benchmark
# (Table 1) and the states of the recorded worms, checked against behaviour and anatomy.

STATES_BENCH = config["states"]["benchmark"]
STATES_REAL = config["states"]["real"]
STATES_REPEATS = list(range(config["states"]["benchmark_repeats"]))
STATES_DATASETS = list(config["states"]["datasets"])


rule states_benchmark_repeat:
    output:
        "results/simulations/states/benchmark_repeat{repeat}.csv",
    log:
        "results/logs/states/benchmark_repeat{repeat}.log",
    benchmark:
        "results/benchmarks/states/benchmark_repeat{repeat}.tsv"
    wildcard_constraints:
        repeat=r"\d+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        seed=lambda w: derived_seed("states", "benchmark", w.repeat),
        benchmark=STATES_BENCH,
        version=code_version("states_benchmark_repeat.py"),
    script:
        "../scripts/states_benchmark_repeat.py"


rule states_benchmark_table:
    input:
        repeats=expand(
            "results/simulations/states/benchmark_repeat{repeat}.csv",
            repeat=STATES_REPEATS,
        ),
    output:
        table="results/tables/states/synthetic_benchmark.csv",
        raw="results/tables/states/synthetic_benchmark_repeats.csv",
    log:
        "results/logs/states/benchmark_table.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        version=code_version("states_benchmark_table.py"),
    script:
        "../scripts/states_benchmark_table.py"


rule states_fit_real:
    input:
        cohort="results/{dataset}/cohort.nc",
    output:
        fit="results/{dataset}/states/fit.nc",
        selection="results/{dataset}/states/selection.csv",
        behaviour="results/tables/states/{dataset}_behaviour_agreement.csv",
        anatomy="results/tables/states/{dataset}_anatomy_auroc.csv",
    log:
        "results/logs/states/{dataset}/fit.log",
    benchmark:
        "results/benchmarks/states/{dataset}/fit.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        real=STATES_REAL,
        seed=lambda w: derived_seed("states", "real", w.dataset),
        version=code_version("states_fit_real.py"),
    script:
        "../scripts/states_fit_real.py"


rule states_real_tables:
    input:
        behaviour="results/tables/states/{dataset}_behaviour_agreement.csv",
        anatomy="results/tables/states/{dataset}_anatomy_auroc.csv",
    output:
        markdown="results/tables/states/{dataset}_real_worms.md",
    log:
        "results/logs/states/{dataset}/tables.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        version=code_version("states_real_tables.py"),
    script:
        "../scripts/states_real_tables.py"


rule states_figure:
    input:
        fit="results/{dataset}/states/fit.nc",
        selection="results/{dataset}/states/selection.csv",
        behaviour="results/tables/states/{dataset}_behaviour_agreement.csv",
        anatomy="results/tables/states/{dataset}_anatomy_auroc.csv",
    output:
        png=report(
            "results/figures/states/{dataset}_{kind}.png",
            caption="../report/states_figure.rst",
            category="Brain states",
            subcategory="{dataset}",
        ),
        pdf="results/figures/states/{dataset}_{kind}.pdf",
    log:
        "results/logs/states/{dataset}/figure_{kind}.log",
    wildcard_constraints:
        kind="raster|heldout_ami|anatomy|selection",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        connectome=config["states"]["figure_connectome"],
        version=code_version("states_real_figure.py"),
    script:
        "../scripts/states_real_figure.py"


STATES_FIGURES = expand(
    "results/figures/states/{dataset}_{kind}.png",
    dataset=STATES_DATASETS,
    kind=["raster", "heldout_ami", "anatomy", "selection"],
)
ALL_TARGETS += ["results/tables/states/synthetic_benchmark.csv"]
ALL_TARGETS += expand(
    "results/tables/states/{dataset}_real_worms.md",
    dataset=STATES_DATASETS,
)
ALL_TARGETS += STATES_FIGURES
FIGURE_TARGETS += STATES_FIGURES
