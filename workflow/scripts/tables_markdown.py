"""Render every result table (CSV) as Markdown for the report."""

import sys

from neurodyn.io import write_text
from neurodyn.tables import csv_to_markdown

sys.stderr = open(snakemake.log[0], "w")
for csv_path, md_path in zip(snakemake.input, snakemake.output):
    write_text(csv_to_markdown(csv_path), md_path)
