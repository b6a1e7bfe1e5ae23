import pandas as pd

from neurodyn.tables import csv_to_markdown, to_markdown


def test_markdown_table_rounds_floats_and_escapes(tmp_path):
    df = pd.DataFrame({"model": ["OHG", "a|b"], "acc": [0.927512, float("nan")], "n": [5, 6]})
    md = to_markdown(df, float_digits=3)
    lines = md.strip().splitlines()
    assert lines[0] == "| model | acc | n |"
    assert lines[1] == "| --- | --- | --- |"
    assert lines[2] == "| OHG | 0.928 | 5 |"
    assert lines[3] == "| a\\|b |  | 6 |"
    p = tmp_path / "bench.csv"
    df.to_csv(p, index=False)
    assert csv_to_markdown(p, 3).startswith("## bench\n\n| model | acc | n |")
