# neurodyn: calcium traces -> dynamic functional connectomes, brain states, circuit models.
# Run: snakemake --profile workflow/profiles/default   (see README.md)
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/connectome.smk"
include: "workflow/rules/states.smk"
include: "workflow/rules/gain_control.smk"
include: "workflow/rules/rich_lazy.smk"
include: "workflow/rules/scope.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
