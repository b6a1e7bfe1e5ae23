"""Writing results so that nothing half-written is ever taken as complete.

Every writer goes to a temporary name in the destination folder and renames it into
place (``os.replace`` is atomic on one filesystem); an exception removes the temporary.
Results carry provenance attrs (package version, seed, config hash).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
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


def provenance(random_state: int | None = None, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Attrs recording what produced a result: package version, seed, config hash.

    ``random_state`` (the int seed the result was drawn with) is stored as attr ``seed``.
    """
    from neurodyn import __version__

    attrs: dict[str, Any] = {"neurodyn_version": __version__}
    if random_state is not None:
        attrs["seed"] = int(random_state)
    if config is not None:
        attrs["config_hash"] = config_hash(config)
        attrs["config_json"] = json.dumps(_jsonable(config), sort_keys=True)
    return attrs


def config_hash(config: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-able configuration mapping."""
    blob = json.dumps(_jsonable(config), sort_keys=True).encode()
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


def write_netcdf(ds, path: str | os.PathLike, *, compress: bool = True) -> Path:
    """Write an xarray Dataset/DataArray to NetCDF (h5netcdf engine) atomically."""
    path = Path(path)
    encoding = {}
    if compress and hasattr(ds, "data_vars"):
        for name, var in ds.data_vars.items():
            if var.ndim and np.issubdtype(var.dtype, np.number):
                encoding[name] = {"compression": "gzip", "compression_opts": 4}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding or None)
    return path


def read_netcdf(path: str | os.PathLike):
    """Read a NetCDF written by :func:`write_netcdf` fully into memory (file closed)."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def write_csv(df, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Write a pandas DataFrame to CSV atomically (no index unless asked)."""
    kwargs.setdefault("index", False)
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
