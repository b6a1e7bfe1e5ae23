"""Rebuild the bundled worms in data/flavell2023/ from the published HDF5 files.

    .venv/bin/python data/make_bundled.py [--shared ../shared/data]

Reads each worm with neurodyn's own ``flavell_h5`` reader (NeuroPAL labels applied,
behaviour on the same clock) and writes it with ``write_recording`` (float32, gzip).
The result is deterministic: rerunning it rewrites the same arrays.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurodyn.data.readers import read_recording, write_recording

REPO = Path(__file__).resolve().parents[1]
WORMS = ("2022-07-27-31", "2022-08-02-31")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder holding flavell2023/ (default: ../shared/data beside the repository)")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "flavell2023")
    args = parser.parse_args()
    base = args.shared / "flavell2023"
    for uid in WORMS:
        rec = read_recording(base / "recordings" / f"{uid}-data.h5", labels=base / "neuropal_labels.json")
        # Relative provenance: the absolute path of the machine that built it means nothing elsewhere.
        rec.attrs["source"] = f"flavell2023/recordings/{uid}-data.h5"
        rec.attrs["labels_source"] = "flavell2023/neuropal_labels.json"
        path = write_recording(rec, args.out / f"{uid}.nc")
        print(f"{path}: {rec.sizes['neuron']} neurons, {rec.sizes['time']} frames, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
