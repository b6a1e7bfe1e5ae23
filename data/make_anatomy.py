"""Convert the published anatomical wiring files into the compact CSVs bundled here.

Usage: python data/make_anatomy.py [SHARED_DATA_DIR]   (default ../shared/data)

Input: edge lists ``{pre, post, typ, syn}`` as distributed with Dag et al. (Cell 2023):
``typ`` 0 = chemical synapse, 2 = gap junction (electrical), ``syn`` one entry per contact.
Output: ``neurodyn/data/bundled/connectome/<name>.csv`` (package data) with columns
``pre, post, type, count`` where ``count`` is the number of contacts (len(syn)), and a
copy of the Allen V1 cell-type connection-probability table in
``neurodyn/data/bundled/allen_v1/``.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parent / "neurodyn" / "data" / "bundled"
TYPES = {0: "chemical", 2: "electrical"}


def convert(src: Path, dst: Path) -> int:
    edges = json.loads(src.read_text())
    rows = {}
    for e in edges:
        kind = TYPES.get(int(e["typ"]))
        if kind is None:
            raise ValueError(f"{src}: edge {e.get('pre')}->{e.get('post')} has unknown typ {e['typ']!r}")
        key = (str(e["pre"]), str(e["post"]), kind)
        rows[key] = rows.get(key, 0) + len(e["syn"])
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".part")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pre", "post", "type", "count"])
        for (pre, post, kind), count in sorted(rows.items()):
            w.writerow([pre, post, kind, count])
    tmp.replace(dst)
    return len(rows)


def main(shared: Path) -> None:
    for name in ("white_1986_whole", "witvliet_2020_7", "witvliet_2020_8"):
        n = convert(shared / "flavell2023" / "connectome" / f"{name}.json", BUNDLED / "connectome" / f"{name}.csv")
        print(f"{name}: {n} edges")
    shutil.copyfile(shared / "allen_v1" / "pmax_matrix_v1dd.csv", BUNDLED / "allen_v1" / "pmax_matrix_v1dd.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
