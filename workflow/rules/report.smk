# Report assembly: Markdown renderings of every result table, and the `figures` target
# that redraws every figure from saved results without refitting anything.

TABLE_TARGETS = [
    str(p).removesuffix(".csv") + ".md"
    for p in ALL_TARGETS
    if str(p).startswith("results/tables/") and str(p).endswith(".csv")
]
ALL_TARGETS.extend(TABLE_TARGETS)


localrules:
    figures,
    table_markdown,


rule table_markdown:
    input:
        "results/tables/{analysis}/{name}.csv",
    output:
        report(
            "results/tables/{analysis}/{name}.md",
            caption="../report/table.rst",
            category="Tables",
            subcategory="{analysis}",
        ),
    log:
        "results/logs/tables/{analysis}/{name}.log",
    params:
        version=VERSION,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../scripts/table_markdown.py"


rule figures:
    input:
        FIGURE_TARGETS,
