"""Writing results so that nothing half-written is ever taken as complete.

Every writer goes to a temporary name in the destination folder and renames it into
place (``os.replace`` is atomic on one filesystem); an exception removes the temporary.

Results say where they came from (:func:`provenance`): the package version, the git
commit of the library's checkout and whether it had uncommitted changes (when it is a
git checkout), the versions of the numerical libraries and of Snakemake, and the config
hash and seed they were computed with.  NetCDF files hold them as attrs; every CSV gets
a sidecar ``<name>.csv.provenance.json`` (:func:`write_csv`).  ``neurodyn inspect``
prints both.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    >>> with atomic_path("out.nc") as tmp:   # doctest: +SKIP
    ...     ds.to_netcdf(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


#: Distributions whose versions every result records (absent when not installed).
RECORDED_PACKAGES = ("numpy", "scipy", "tensorly", "scikit-learn", "xarray", "snakemake")
#: Suffix of the provenance sidecar that :func:`write_csv` writes next to each CSV.
SIDECAR_SUFFIX = ".provenance.json"


def provenance(random_state: int | None = None, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Attrs recording what produced a result.

    Keys: ``neurodyn_version``; ``git_commit`` and ``git_dirty`` (1 when tracked or
    untracked-but-not-ignored files differ from the commit, else 0), only when the library
    is imported from a git checkout; ``python_version`` and ``<package>_version`` for each
    of :data:`RECORDED_PACKAGES` that is installed (``scikit-learn`` as
    ``scikit_learn_version``); ``seed`` (``random_state``, the int seed the result was
    drawn with); ``config_hash`` and ``config_json`` (of ``config``).  Values are strings
    and ints, so that they can be NetCDF attrs.
    """
    from neurodyn import __version__

    attrs: dict[str, Any] = {"neurodyn_version": __version__, **git_state(), **software_versions()}
    if random_state is not None:
        attrs["seed"] = int(random_state)
    if config is not None:
        attrs["config_hash"] = config_hash(config)
        attrs["config_json"] = json.dumps(_jsonable(config), sort_keys=True, default=str)
    return attrs


@functools.lru_cache(maxsize=1)
def software_versions() -> dict[str, str]:
    """``python_version`` and ``<package>_version`` of the installed :data:`RECORDED_PACKAGES`."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python_version": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            found[f"{name.replace('-', '_')}_version"] = version(name)
        except PackageNotFoundError:
            continue
    return found


@functools.lru_cache(maxsize=4)
def git_state(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """``git_commit`` and ``git_dirty`` (0 or 1) of the git checkout holding ``path``
    (default: the imported ``neurodyn`` package); empty when it is in none, or git is
    not installed."""
    if path is None:
        path = Path(__file__).resolve().parent
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True,
                                  timeout=30, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout.strip()

        commit = git("rev-parse", "HEAD")
        status = git("status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": commit, "git_dirty": int(bool(status))}


def with_provenance(attrs: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``attrs`` (a result's own, or those of what it was made from) with ``extra`` over
    them and the writing process's :func:`provenance` (versions, commit) over both."""
    return {**dict(attrs or {}), **dict(extra or {}), **provenance()}


def rule_provenance(params: Mapping[str, Any] | Any) -> dict[str, Any]:
    """:func:`provenance` of one workflow step from its parameters: the seed is the
    ``random_state`` (or ``seed``) parameter when there is one; the config hash covers
    every parameter (the step's code version among them, as ``code_version``)."""
    items = dict(params.items()) if hasattr(params, "items") else dict(params)
    seed = next((items[k] for k in ("random_state", "seed") if isinstance(items.get(k), (int, np.integer))), None)
    attrs = provenance(random_state=seed, config={k: v for k, v in items.items() if not callable(v)})
    if "version" in items:
        attrs["code_version"] = str(items["version"])
    return attrs


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where :func:`write_csv` writes the provenance of ``path``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The provenance of a result file: a NetCDF's attrs, or a CSV's sidecar (empty when
    it has none)."""
    path = Path(path)
    if path.suffix == ".csv" or path.name.endswith(SIDECAR_SUFFIX):
        sidecar = path if path.name.endswith(SIDECAR_SUFFIX) else sidecar_path(path)
        return json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return {str(k): v.item() if isinstance(v, np.generic) else v for k, v in ds.attrs.items()}


def config_hash(config: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-able configuration mapping."""
    blob = json.dumps(_jsonable(config), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def write_netcdf(ds, path: str | os.PathLike, *, compress: bool = True,
                 provenance: Mapping[str, Any] | None = None) -> Path:
    """Write an xarray Dataset/DataArray to NetCDF (h5netcdf engine) atomically.

    The file's attrs are :func:`with_provenance` of the object's attrs and
    ``provenance`` (e.g. :func:`rule_provenance`): whatever wrote it, it says which code
    and library versions did.  ``ds`` itself is not changed.
    """
    path = Path(path)
    encoding = {}
    if compress and hasattr(ds, "data_vars"):
        for name, var in ds.data_vars.items():
            if var.ndim and np.issubdtype(var.dtype, np.number):
                encoding[name] = {"compression": "gzip", "compression_opts": 4}
    ds = ds.copy(deep=False)
    ds.attrs = with_provenance(ds.attrs, provenance)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding or None)
    return path


def read_netcdf(path: str | os.PathLike):
    """Read a NetCDF written by :func:`write_netcdf` fully into memory (file closed)."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def write_csv(df, path: str | os.PathLike, *, provenance: Mapping[str, Any] | None = None, **kwargs: Any) -> Path:
    """Write a pandas DataFrame to CSV atomically (no index unless asked), and its
    provenance (:func:`with_provenance` of ``provenance``) to the sidecar
    ``<path>.provenance.json`` (:func:`sidecar_path`), also atomically."""
    kwargs.setdefault("index", False)
    write_json(with_provenance(None, provenance), sidecar_path(path))
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write a JSON-able object atomically, pretty-printed with sorted keys."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_jsonable(obj), indent=2, sort_keys=True) + "\n")
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
