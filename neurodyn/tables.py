"""Result tables: rendering CSV tables for people (Markdown)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def to_markdown(df: pd.DataFrame, float_digits: int = 4, title: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; floats rounded to ``float_digits`` significant digits."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{float_digits}g}")
    header = "| " + " | ".join(str(c) for c in out.columns) + " |"
    rule = "| " + " | ".join("---" for _ in out.columns) + " |"
    rows = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in out.itertuples(index=False)]
    body = "\n".join([header, rule, *rows]) + "\n"
    return f"## {title}\n\n{body}" if title else body


def csv_to_markdown(path: str | os.PathLike, float_digits: int = 4) -> str:
    """Read a CSV table and render it with :func:`to_markdown`, titled by its file name."""
    df = pd.read_csv(path)
    return to_markdown(df, float_digits, title=os.path.basename(os.fspath(path)).removesuffix(".csv"))
