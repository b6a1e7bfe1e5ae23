"""Compare two results/ trees: same files; CSV tables and NetCDF arrays numerically equal.

Usage: python tests/cluster/compare_results.py DIR_A DIR_B [--rtol 1e-6]
Exit 0 when they match, 1 with a list of differences otherwise.  Figures (PNG/PDF), logs
and the HTML report are compared by presence only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

SKIP_DIRS = {"logs", ".snakemake"}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not SKIP_DIRS & set(p.relative_to(root).parts) and ".part" not in p.name}


def compare(a: Path, b: Path, rtol: float = 1e-6, atol: float = 1e-9) -> list[str]:
    problems = []
    fa, fb = _files(a), _files(b)
    for missing in sorted(fa ^ fb):
        problems.append(f"only in {'A' if missing in fa else 'B'}: {missing}")
    for rel in sorted(fa & fb):
        pa, pb = a / rel, b / rel
        if rel.endswith(".csv"):
            da, db = pd.read_csv(pa), pd.read_csv(pb)
            try:
                pd.testing.assert_frame_equal(da, db, check_exact=False, rtol=rtol, atol=atol)
            except AssertionError as exc:
                problems.append(f"{rel}: {str(exc).splitlines()[0]}")
        elif rel.endswith(".nc"):
            with xr.open_dataset(pa, engine="h5netcdf") as xa, xr.open_dataset(pb, engine="h5netcdf") as xb:
                if set(xa.data_vars) != set(xb.data_vars):
                    problems.append(f"{rel}: variables differ")
                    continue
                for var in xa.data_vars:
                    va, vb = xa[var].values, xb[var].values
                    if va.shape != vb.shape:
                        problems.append(f"{rel}:{var}: shapes {va.shape} vs {vb.shape}")
                    elif np.issubdtype(va.dtype, np.number) and not np.allclose(va, vb, rtol=rtol, atol=atol,
                                                                                  equal_nan=True):
                        problems.append(f"{rel}:{var}: max |diff| {np.nanmax(np.abs(va - vb)):.3g}")
                    elif not np.issubdtype(va.dtype, np.number) and not np.array_equal(va, vb):
                        problems.append(f"{rel}:{var}: values differ")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--rtol", type=float, default=1e-6)
    args = ap.parse_args()
    problems = compare(args.a, args.b, args.rtol)
    for p in problems:
        print(p)
    n = len(_files(args.a) & _files(args.b))
    print(f"compared {n} files: {'match' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
