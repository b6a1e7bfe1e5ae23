"""neurodyn: dynamic functional connectomes, brain-state GLMs and circuit models.

Subpackages
-----------
neurodyn.data        Recording container, readers, cohort alignment, preprocessing, synthetic data
neurodyn.connectome  affinities, non-negative tensor factorization, weighted communities
neurodyn.states      HMM-GLMs with no, Gaussian and one-hot connectivity priors
neurodyn.circuits    recurrent gain control; rich vs. lazy learning in RNNs
neurodyn.plots       figures (matplotlib only)
neurodyn.backend     array namespace (numpy default, torch/cupy optional)
neurodyn.cli         the ``neurodyn`` command line (``inspect``, ``info``)
neurodyn.io          atomic writers; the provenance every result records
neurodyn.imports     the library code a workflow script imports (each rule's code version)
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neurodyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0+local"

#: The subpackages ``import neurodyn`` gives access to, each imported on first use.
SUBPACKAGES = ("data", "connectome", "states", "circuits", "plots", "backend", "io")

__all__ = ["__version__", "source_hash", *SUBPACKAGES]


def __getattr__(name: str):
    """``neurodyn.connectome`` and the other subpackages, imported when first used."""
    if name in SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBPACKAGES))

#: What :func:`source_hash` reads: the code and the bundled tables the code loads.
SOURCE_SUFFIXES = (".py", ".csv")


def source_hash(root: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex) of the library's source: every ``*.py`` (and bundled ``*.csv``) file
    under ``root`` (default: this installed package), by relative path and content.

    Independent of file times, of ``__pycache__`` and of where the tree lives, so two
    checkouts of the same commit agree and any edit to the code changes it.  (The workflow
    versions each rule by the files its script imports instead: :mod:`neurodyn.imports`.)
    """
    import hashlib
    from pathlib import Path

    base = Path(__file__).resolve().parent if root is None else Path(root)
    digest = hashlib.sha256()
    files = sorted(p for p in base.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()
                   and "__pycache__" not in p.relative_to(base).parts)
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(base).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
