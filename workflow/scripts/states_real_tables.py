"""Markdown summary of the real-worm states: held-out AMI per model, anatomy AUROCs with p-values."""

import sys

import pandas as pd

from neurodyn.io import write_text
from neurodyn.states.real import summary_markdown

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

behaviour = pd.read_csv(snakemake.input.behaviour)
anatomy = pd.read_csv(snakemake.input.anatomy)
text = summary_markdown(behaviour, anatomy, f"snakemake {snakemake.output.markdown}")
print(text)
write_text(text, snakemake.output.markdown)
