# Report assembly: Markdown renderings of every result table (one job for all of them),
# and the `figures` target that redraws every figure from saved results without
# refitting anything.

TABLE_CSVS = [
    str(p)
    for p in ALL_TARGETS
    if str(p).startswith("results/tables/") and str(p).endswith(".csv")
]
TABLE_MARKDOWN = [p.removesuffix(".csv") + ".md" for p in TABLE_CSVS]
ALL_TARGETS.extend(TABLE_MARKDOWN)


localrules:
    figures,
    tables_markdown,


rule tables_markdown:
    input:
        TABLE_CSVS,
    output:
        [
            report(
                md,
                caption="../report/table.rst",
                category="Tables",
                subcategory=md.split("/")[2],
            )
            for md in TABLE_MARKDOWN
        ],
    log:
        "results/logs/tables/markdown.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        version=code_version("tables_markdown.py"),
    script:
        "../scripts/tables_markdown.py"


rule figures:
    input:
        FIGURE_TARGETS,
