# Rich vs. lazy learning in RNNs (Liu et al., ICLR 2024): a rank sweep (tasks x ranks x
# seeds, one job each), biological inits vs. controls, the linear-network theory, the
# spectra of the inits, then tables and figures drawn from the saved results.
RL = config["rich_lazy"]
RL_RUN = RL["run_name"]
RL_SIM = f"results/simulations/rich_lazy/{RL_RUN}"
RL_TAB = f"results/tables/rich_lazy/{RL_RUN}"
RL_FIG = f"results/figures/rich_lazy/{RL_RUN}"
RL_LOG = f"results/logs/rich_lazy/{RL_RUN}"
RL_TASKS = list(RL["tasks"])
RL_RANKS = [int(r) for r in RL["ranks"]]
RL_NORMS = list(RL["normalisations"])
# one seed for every rich/lazy network: a replicate index picks the draw, so the
# same replicate starts from the same weights at every rank and in the spectra
RL_SEED = derived_seed("rich_lazy")
RL_SEEDS = list(range(RL["n_seeds"]))
RL_INITS = RL["inits"]
RL_INIT_KINDS = list(RL_INITS["kinds"])
RL_INIT_SEEDS = list(range(RL_INITS["n_seeds"]))
RL_INIT_TASK = RL_INITS["task"]
RL_INIT_NORMS = list(RL_INITS["normalisations"])
RL_TRAIN = dict(RL["train"])
RL_COMPUTE = {
    "backend": config["backend"],
    "device": config["device"],
    "dtype": RL["dtype"],
    "probe_batch": RL["probe_batch"],
    "kernel_probe_batch": RL["kernel_probe_batch"],
    "stable_norm": RL["stable_norm"],
}


wildcard_constraints:
    rl_task="|".join(RL_TASKS) or "(?!x)x",
    rl_rank=r"\d+",
    rl_seed=r"\d+",
    rl_init=r"[a-z0-9_]+",
    rl_norm="frobenius|spectral|stable",


rule rich_lazy_rank_run:
    output:
        f"{RL_SIM}/sweep/{{rl_task}}/{{rl_norm}}/rank{{rl_rank}}_seed{{rl_seed}}.nc",
    log:
        f"{RL_LOG}/sweep/{{rl_task}}_{{rl_norm}}_rank{{rl_rank}}_seed{{rl_seed}}.log",
    benchmark:
        f"results/benchmarks/rich_lazy/{RL_RUN}/sweep/{{rl_task}}_{{rl_norm}}_rank{{rl_rank}}_seed{{rl_seed}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
        gpu=GPUS,
    params:
        run=lambda w: {
            "task": w.rl_task,
            "normalisation": w.rl_norm,
            "rank": int(w.rl_rank),
            "replicate": int(w.rl_seed),
            "random_state": RL_SEED,
            "n_hidden": RL["n_hidden"],
            "gain": RL["gain"],
            "train_kwargs": RL_TRAIN,
            **RL_COMPUTE,
        },
        version=code_version("rich_lazy_run.py"),
    script:
        "../scripts/rich_lazy_run.py"


rule rich_lazy_init_run:
    output:
        f"{RL_SIM}/inits/{{rl_init}}/{{rl_norm}}/{{rl_task}}_seed{{rl_seed}}.nc",
    log:
        f"{RL_LOG}/inits/{{rl_init}}_{{rl_norm}}_{{rl_task}}_seed{{rl_seed}}.log",
    benchmark:
        f"results/benchmarks/rich_lazy/{RL_RUN}/inits/{{rl_init}}_{{rl_norm}}_{{rl_task}}_seed{{rl_seed}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
        gpu=GPUS,
    params:
        run=lambda w: {
            "kind": w.rl_init,
            "task": w.rl_task,
            "normalisation": w.rl_norm,
            "replicate": int(w.rl_seed),
            "random_state": RL_SEED,
            "n_hidden": RL_INITS["n_hidden"],
            "gain": RL["gain"],
            "connectome": RL_INITS["connectome"],
            "lognormal_sigma": RL_INITS["lognormal_sigma"],
            "train_kwargs": RL_TRAIN,
            **RL_COMPUTE,
        },
        version=code_version("rich_lazy_run.py"),
    script:
        "../scripts/rich_lazy_run.py"


rule rich_lazy_rank_sweep:
    input:
        expand(
            f"{RL_SIM}/sweep/{{task}}/{{norm}}/rank{{rank}}_seed{{seed}}.nc",
            task=RL_TASKS,
            norm=RL_NORMS,
            rank=RL_RANKS,
            seed=RL_SEEDS,
        ),
    output:
        nc=f"{RL_SIM}/rank_sweep.nc",
        table=f"{RL_TAB}/rank_sweep.csv",
    log:
        f"{RL_LOG}/rank_sweep.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        by=["task", "normalisation", "rank"],
        config=RL,
        version=code_version("rich_lazy_collect.py"),
    script:
        "../scripts/rich_lazy_collect.py"


rule rich_lazy_init_comparison:
    input:
        expand(
            f"{RL_SIM}/inits/{{init}}/{{norm}}/{RL_INIT_TASK}_seed{{seed}}.nc",
            init=RL_INIT_KINDS,
            norm=RL_INIT_NORMS,
            seed=RL_INIT_SEEDS,
        ),
    output:
        nc=f"{RL_SIM}/init_comparison.nc",
        table=f"{RL_TAB}/init_comparison.csv",
    log:
        f"{RL_LOG}/init_comparison.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        by=["init", "task", "normalisation"],
        config=RL,
        version=code_version("rich_lazy_collect.py"),
    script:
        "../scripts/rich_lazy_collect.py"


rule rich_lazy_spectra:
    output:
        nc=f"{RL_SIM}/init_spectra.nc",
        table=f"{RL_TAB}/init_spectra.csv",
    log:
        f"{RL_LOG}/init_spectra.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        spectra={
            "n_hidden": RL["n_hidden"],
            "ranks": RL_RANKS,
            "gain": RL["gain"],
            "random_state": RL_SEED,
            "connectome": RL_INITS["connectome"],
            "lognormal_sigma": RL_INITS["lognormal_sigma"],
        },
        version=code_version("rich_lazy_spectra.py"),
    script:
        "../scripts/rich_lazy_spectra.py"


rule rich_lazy_linear_theory:
    output:
        nc=f"{RL_SIM}/linear_theory.nc",
        table=f"{RL_TAB}/linear_theory.csv",
    log:
        f"{RL_LOG}/linear_theory.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        theory={**RL["theory"], "random_state": RL_SEED},
        version=code_version("rich_lazy_theory.py"),
    script:
        "../scripts/rich_lazy_theory.py"


RL_FIGURES = {
    "rank_sweep": (f"{RL_SIM}/rank_sweep.nc", "rich_lazy_rank_sweep.rst"),
    "loss_curves": (f"{RL_SIM}/rank_sweep.nc", "rich_lazy_loss_curves.rst"),
    "init_spectra": (f"{RL_SIM}/init_spectra.nc", "rich_lazy_init_spectra.rst"),
    "init_comparison": (
        f"{RL_SIM}/init_comparison.nc",
        "rich_lazy_init_comparison.rst",
    ),
    "linear_theory": (f"{RL_SIM}/linear_theory.nc", "rich_lazy_linear_theory.rst"),
    "rank_vs_alignment": (
        f"{RL_SIM}/init_comparison.nc",
        "rich_lazy_rank_vs_alignment.rst",
    ),
}


for _name, (_source, _caption) in RL_FIGURES.items():

    rule:
        name:
            f"rich_lazy_figure_{_name}"
        input:
            _source,
        output:
            png=report(
                f"{RL_FIG}/{_name}.png",
                caption=f"../report/{_caption}",
                category="Rich vs. lazy learning",
            ),
            pdf=f"{RL_FIG}/{_name}.pdf",
        log:
            f"{RL_LOG}/figure_{_name}.log",
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        params:
            plot=_name,
            version=code_version("rich_lazy_figure.py"),
        script:
            "../scripts/rich_lazy_figure.py"


RL_FIGURE_FILES = [
    f"{RL_FIG}/{name}.{ext}" for name in RL_FIGURES for ext in ("png", "pdf")
]
ALL_TARGETS.extend(
    f"{RL_TAB}/{name}.csv"
    for name in ("rank_sweep", "init_comparison", "init_spectra", "linear_theory")
)
ALL_TARGETS.extend(RL_FIGURE_FILES)
FIGURE_TARGETS.extend(RL_FIGURE_FILES)
