# Recurrent gain control (Duong, Bredenberg, Heeger & Simoncelli 2023): for every model
# and adapter probability simulate unadapted vs adapted networks and measure the effects
# (NetCDF), then draw the figures from the saved results and tabulate one number per effect.
GAIN_CONTROL = config["gain_control"]
GC_MODELS = list(GAIN_CONTROL["models"])
GC_PROBABILITIES = {
    f"{round(100 * float(p)):02d}": float(p)
    for p in GAIN_CONTROL["adapter_probabilities"]
}
GC_NETWORK = dict(GAIN_CONTROL["network"])
GC_SWEEP = dict(GAIN_CONTROL["tradeoff_sweep"])
GC_FIG = "results/figures/gain_control"


GC_RUN = "results/simulations/gain_control/{model}/adapter{pct}.nc"
GC_RUNS = expand(GC_RUN, model=GC_MODELS, pct=list(GC_PROBABILITIES))


rule gain_control_simulate:
    output:
        "results/simulations/gain_control/{model}/adapter{pct}.nc",
    log:
        "results/logs/gain_control/simulate_{model}_adapter{pct}.log",
    benchmark:
        "results/benchmarks/gain_control/simulate_{model}_adapter{pct}.tsv"
    wildcard_constraints:
        model="|".join(GC_MODELS),
        pct="|".join(GC_PROBABILITIES),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=GPUS,
    params:
        adapter_probability=lambda w: GC_PROBABILITIES[w.pct],
        network=GC_NETWORK,
        backend=config["backend"],
        device=config["device"],
        random_state=derived_seed("gain_control"),
        version=code_version("gain_control_simulate.py"),
    script:
        "../scripts/gain_control_simulate.py"


rule gain_control_tradeoff:
    output:
        "results/simulations/gain_control/tradeoff.nc",
    log:
        "results/logs/gain_control/tradeoff.log",
    benchmark:
        "results/benchmarks/gain_control/tradeoff.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        sweep=GC_SWEEP,
        adapter_probabilities=list(GC_PROBABILITIES.values()),
        models=GC_MODELS,
        network=GC_NETWORK,
        backend=config["backend"],
        device=config["device"],
        random_state=derived_seed("gain_control"),
        version=code_version("gain_control_tradeoff.py"),
    script:
        "../scripts/gain_control_tradeoff.py"


rule gain_control_table:
    input:
        runs=GC_RUNS,
    output:
        "results/tables/gain_control/effects.csv",
    log:
        "results/logs/gain_control/table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        version=code_version("gain_control_table.py"),
    script:
        "../scripts/gain_control_table.py"


rule gain_control_figure_tuning:
    input:
        runs=lambda w: expand(GC_RUN, model=w.model, pct=list(GC_PROBABILITIES)),
    output:
        png=report(
            "results/figures/gain_control/tuning_{model}.png",
            caption="../report/gain_control_tuning.rst",
            category="Gain control",
        ),
        pdf="results/figures/gain_control/tuning_{model}.pdf",
    log:
        "results/logs/gain_control/figure_tuning_{model}.log",
    wildcard_constraints:
        model="|".join(GC_MODELS),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        kind="tuning",
        version=code_version("gain_control_figure.py"),
    script:
        "../scripts/gain_control_figure.py"


rule gain_control_figure_covariance:
    input:
        runs=lambda w: expand(GC_RUN, model=w.model, pct=list(GC_PROBABILITIES)),
    output:
        png=report(
            "results/figures/gain_control/covariance_{model}.png",
            caption="../report/gain_control_covariance.rst",
            category="Gain control",
        ),
        pdf="results/figures/gain_control/covariance_{model}.pdf",
    log:
        "results/logs/gain_control/figure_covariance_{model}.log",
    wildcard_constraints:
        model="|".join(GC_MODELS),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        kind="covariance",
        version=code_version("gain_control_figure.py"),
    script:
        "../scripts/gain_control_figure.py"


rule gain_control_figure_profile:
    input:
        runs=GC_RUNS,
    output:
        png=report(
            "results/figures/gain_control/{kind}.png",
            caption="../report/gain_control_profile.rst",
            category="Gain control",
        ),
        pdf="results/figures/gain_control/{kind}.pdf",
    log:
        "results/logs/gain_control/figure_{kind}.log",
    wildcard_constraints:
        kind="gain_profile|max_min_ratios|repulsion|stimulus_specific",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        kind=lambda w: w.kind,
        version=code_version("gain_control_figure.py"),
    script:
        "../scripts/gain_control_figure.py"


rule gain_control_figure_tradeoff:
    input:
        curves="results/simulations/gain_control/tradeoff.nc",
    output:
        png=report(
            "results/figures/gain_control/tradeoff.png",
            caption="../report/gain_control_tradeoff.rst",
            category="Gain control",
        ),
        pdf="results/figures/gain_control/tradeoff.pdf",
    log:
        "results/logs/gain_control/figure_tradeoff.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        kind="tradeoff",
        tradeoff=GC_NETWORK["tradeoff"],
        version=code_version("gain_control_figure.py"),
    script:
        "../scripts/gain_control_figure.py"


GC_FIGURES = [
    f"{GC_FIG}/{name}.{ext}"
    for name in [f"tuning_{m}" for m in GC_MODELS]
    + [f"covariance_{m}" for m in GC_MODELS]
    + ["gain_profile", "max_min_ratios", "repulsion", "stimulus_specific", "tradeoff"]
    for ext in ("png", "pdf")
]
ALL_TARGETS.append("results/tables/gain_control/effects.csv")
ALL_TARGETS.extend(GC_FIGURES)
FIGURE_TARGETS.extend(GC_FIGURES)
