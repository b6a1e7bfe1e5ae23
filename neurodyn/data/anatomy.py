"""Anatomical connectivity bundled with the project.

- C. elegans head connectomes as edge lists (``pre, post, type, count``):
  ``white_1986_whole`` (White et al., Phil. Trans. R. Soc. B 1986),
  ``witvliet_2020_7`` and ``witvliet_2020_8`` (Witvliet et al., Nature 2021, adult data sets
  7 and 8), as distributed with Dag et al., Cell 2023.  ``type`` is ``chemical`` or
  ``electrical`` (gap junction); ``count`` is the number of contacts.
- Mouse V1 cell-type peak connection probabilities (19 × 19, rows presynaptic, columns
  postsynaptic) from the Allen Institute's biorealistic V1 model (Billeh et al., Neuron
  2020; the v1dd table).

The files ship inside the package (``neurodyn/data/bundled/``, read through
:mod:`importlib.resources`, so they are there after a plain ``pip install``; provenance in
the repository's ``data/README.md``); pass ``data_dir=`` or set ``NEURODYN_DATA`` to read
them from elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from neurodyn.errors import InputFileError, InvalidInputError

CONNECTOMES = ("white_1986_whole", "witvliet_2020_7", "witvliet_2020_8")
CONNECTOME_KINDS = ("chemical", "electrical", "any")
CONNECTOME_CITATIONS = {
    "white_1986_whole": "White, Southgate, Thomson & Brenner, Phil. Trans. R. Soc. Lond. B 314 (1986)",
    "witvliet_2020_7": "Witvliet et al., Nature 596 (2021), adult data set 7",
    "witvliet_2020_8": "Witvliet et al., Nature 596 (2021), adult data set 8",
}
V1_CITATION = ("Billeh et al., Neuron 106 (2020); Allen Institute biorealistic V1 model, "
               "pmax_matrix_v1dd")


def bundled_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding the anatomy tables: ``data_dir``, else ``$NEURODYN_DATA``, else the
    package's own ``neurodyn/data/bundled/`` (package data, found with :mod:`importlib.resources`)."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("NEURODYN_DATA"):
        return Path(os.environ["NEURODYN_DATA"])
    # A regular (wheel or editable) installation is a folder on disk, so this is a real path.
    return Path(str(resources.files("neurodyn.data") / "bundled"))


def load_connectome(name: str = "witvliet_2020_8", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Edge list of a bundled C. elegans connectome.

    Returns
    -------
    DataFrame with columns ``pre`` (str), ``post`` (str), ``type`` (``chemical`` |
    ``electrical``), ``count`` (int, number of contacts).
    """
    if name not in CONNECTOMES:
        raise InvalidInputError(f"unknown connectome {name!r}; expected one of {CONNECTOMES}", field="connectome")
    path = bundled_data_dir(data_dir) / "connectome" / f"{name}.csv"
    if not path.is_file():
        raise InputFileError("file not found (run data/make_anatomy.py or set NEURODYN_DATA)", source=str(path))
    df = pd.read_csv(path, dtype={"pre": str, "post": str, "type": str, "count": np.int64})
    missing = {"pre", "post", "type", "count"} - set(df.columns)
    if missing:
        raise InvalidInputError(f"missing columns {sorted(missing)}", source=str(path), field="columns")
    bad = sorted(set(df["type"]) - {"chemical", "electrical"})
    if bad:
        raise InvalidInputError(f"unknown synapse types {bad}; expected chemical or electrical",
                                source=str(path), field="type")
    return df


def connectome_neurons(name: str = "witvliet_2020_8", data_dir: str | os.PathLike | None = None) -> list[str]:
    """Sorted names of all neurons that appear in the connectome."""
    df = load_connectome(name, data_dir)
    return sorted(set(df["pre"]) | set(df["post"]))


def connectome_matrix(
    neuron_names: Sequence[str],
    name: str = "witvliet_2020_8",
    kind: str = "any",
    symmetric: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Contact counts among ``neuron_names`` as an (N, N) matrix, ``[pre, post]``.

    Gap junctions are undirected: an electrical contact listed as ``a → b`` is counted for
    both directions.  ``symmetric=True`` also symmetrises chemical synapses (``C + Cᵀ``).
    Names absent from the connectome give all-zero rows and columns.
    """
    if kind not in CONNECTOME_KINDS:
        raise InvalidInputError(f"unknown kind {kind!r}; expected one of {CONNECTOME_KINDS}", field="kind")
    df = load_connectome(name, data_dir)
    index = {str(n): i for i, n in enumerate(neuron_names)}
    n = len(index)
    chem = np.zeros((n, n))
    elec = np.zeros((n, n))
    for pre, post, typ, count in df[["pre", "post", "type", "count"]].itertuples(index=False):
        i, j = index.get(pre), index.get(post)
        if i is None or j is None:
            continue
        if typ == "chemical":
            chem[i, j] += count
        else:
            elec[i, j] += count
            if i != j:
                elec[j, i] += count
    if symmetric:
        chem = chem + chem.T
    if kind == "chemical":
        return chem
    if kind == "electrical":
        return elec
    return chem + elec


def load_v1_pmax(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Mouse V1 cell-type peak connection probabilities, 19 × 19, rows pre, columns post."""
    path = bundled_data_dir(data_dir) / "allen_v1" / "pmax_matrix_v1dd.csv"
    if not path.is_file():
        raise InputFileError("file not found (run data/make_anatomy.py or set NEURODYN_DATA)", source=str(path))
    df = pd.read_csv(path, sep=r"\s+", index_col=0)
    if df.shape[0] != df.shape[1] or list(df.index) != list(df.columns):
        raise InvalidInputError(f"expected a square table with matching row and column cell types, got "
                                f"shape {df.shape}", source=str(path), field="cell types")
    values = df.to_numpy(dtype=float)
    if np.any((values < 0) | (values > 1)) or not np.all(np.isfinite(values)):
        raise InvalidInputError("probabilities must lie in [0, 1]", source=str(path), field="pmax")
    return df


def v1_cell_type_sign(cell_type: str) -> int:
    """+1 for excitatory cell types (``*_Exc``, ``L5_ET/IT/NP``), −1 for inhibitory ones."""
    inhibitory = ("Inh", "PV", "SST", "VIP")
    return -1 if any(cell_type.endswith(s) for s in inhibitory) else 1
