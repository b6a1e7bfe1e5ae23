"""Render a result table (CSV) as Markdown for the report."""

import sys

from neurodyn.io import write_text
from neurodyn.tables import csv_to_markdown

sys.stderr = open(snakemake.log[0], "w")
write_text(csv_to_markdown(snakemake.input[0]), snakemake.output[0])
