# neurodyn: calcium traces -> dynamic functional connectomes, brain states, circuit models.
# Run: snakemake --cores 2 [qc|connectome|states|gain_control|rich_lazy]   (see README.md;
# profiles/default/ is read automatically)
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/settings.smk"


check_renamed_keys(config)
validate(config, "workflow/schemas/config.schema.yaml")

# run_datasets selects which declared datasets run (null: all of them). --configfile merges
# the `datasets` of every config file, so this is how a user's config runs only its data.
if config["run_datasets"] is not None:
    _undeclared = sorted(set(config["run_datasets"]) - set(config["datasets"]))
    if _undeclared:
        raise ValueError(
            f"config: field 'run_datasets': {_undeclared} are not declared under "
            f"'datasets' (declared: {sorted(config['datasets'])})"
        )
    config["datasets"] = {d: config["datasets"][d] for d in config["run_datasets"]}
    config["states"]["datasets"] = [
        d for d in config["states"]["datasets"] if d in config["datasets"]
    ]


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/connectome.smk"
include: "workflow/rules/states.smk"
include: "workflow/rules/gain_control.smk"
include: "workflow/rules/rich_lazy.smk"
include: "workflow/rules/scope.smk"
include: "workflow/rules/report.smk"


# Per-analysis targets (`snakemake qc`, `snakemake connectome`, ...): the final tables
# and figures of one analysis, from their path results/{tables,figures}/<analysis>/ (the
# cohorts count as QC). The Markdown renderings of the tables are built by `all` only.
ANALYSES = ["qc", "connectome", "states", "gain_control", "rich_lazy"]
ANALYSIS_OF = {
    str(t): "qc" if str(t).endswith("cohort.nc") else str(t).split("/")[2]
    for t in ALL_TARGETS
    if not str(t).endswith(".md")
}
if set(ANALYSIS_OF.values()) - set(ANALYSES):
    raise ValueError(
        f"targets of no analysis: {set(ANALYSIS_OF.values()) - set(ANALYSES)}"
    )


# Rules that only draw figures, write tables or name targets run on the submitting host
# under a cluster executor (tests/test_workflow_conventions.py keeps this list complete).
localrules:
    all,
    qc,
    connectome,
    states,
    gain_control,
    rich_lazy,
    figures,
    tables_markdown,
    qc_figure,
    qc_table,
    connectome_recovery,
    connectome_figure_rank,
    connectome_figure_components,
    connectome_figure_communities,
    connectome_figure_recovery,
    states_benchmark_table,
    states_real_tables,
    states_figure,
    gain_control_table,
    gain_control_figure_tuning,
    gain_control_figure_covariance,
    gain_control_figure_profile,
    gain_control_figure_tradeoff,
    rich_lazy_figure_rank_sweep,
    rich_lazy_figure_loss_curves,
    rich_lazy_figure_init_spectra,
    rich_lazy_figure_init_comparison,
    rich_lazy_figure_linear_theory,
    rich_lazy_figure_rank_vs_alignment,


rule all:
    default_target: True
    input:
        ALL_TARGETS,


for _analysis in ANALYSES:

    rule:
        name:
            _analysis
        input:
            [t for t, a in ANALYSIS_OF.items() if a == _analysis],
