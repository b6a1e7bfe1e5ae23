"""Reader of a Recording stored as NetCDF (as written by :func:`~neurodyn.data.write_recording`).

``traces`` (time, neuron), coords ``time`` (s) and ``neuron`` (both required),
``behavior_*`` variables, the Recording attrs (missing ``animal``, ``units``,
``citation``, ``sampling_rate_hz`` are filled from the file name, ``a.u.``, ``""`` and the
time axis).  ``source`` becomes this file; a previous ``source`` is prepended to
``derived_from`` (``a.nc <- b.h5``: the files it was made from).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, check_time, is_real_number
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import validate_recording
from neurodyn.errors import InputFileError, InvalidInputError


def read_netcdf_recording(path: str | os.PathLike, *, animal: str | None = None) -> xr.Dataset:
    """Read a Recording stored as NetCDF (see the module doc)."""
    path = Path(path)
    source = str(path)
    try:
        with xr.open_dataset(path, engine="h5netcdf") as handle:
            ds = handle.load()
    except Exception as exc:  # noqa: BLE001 - xarray/h5netcdf/h5py raise many types for a bad file
        raise InputFileError(f"cannot read as NetCDF: {type(exc).__name__}: {exc}", source=source) from None
    if "traces" not in ds:
        raise InvalidInputError(f"missing variable; found {sorted(map(str, ds.data_vars))}", source=source,
                                field="traces")
    if set(ds["traces"].dims) != {"time", "neuron"}:
        raise InvalidInputError(f"dims {ds['traces'].dims}; expected ('time', 'neuron')", source=source,
                                field="traces")
    ds = ds.transpose("time", "neuron", ...)
    if not is_real_number(ds["traces"].dtype):
        raise InvalidInputError(f"dtype {ds['traces'].dtype}; expected real numbers (int or float)", source=source,
                                field="traces")
    if not np.issubdtype(ds["traces"].dtype, np.floating):
        ds["traces"] = ds["traces"].astype(np.float64)
    if "neuron" not in ds.coords:
        raise InvalidInputError("missing coordinate (neuron names)", source=source, field="neuron")
    if ds["neuron"].dtype.kind not in "USO":
        raise InvalidInputError(f"dtype {ds['neuron'].dtype}; expected neuron names (strings)", source=source,
                                field="neuron")
    if "time" not in ds.coords:
        raise InvalidInputError("missing coordinate (seconds)", source=source, field="time")
    time = check_time(ds["time"].values, ds.sizes["time"], source, "time")
    attrs = dict(ds.attrs)
    if attrs.get("source") and attrs["source"] != source:
        # Keep the chain of files this one was made from, newest first.
        attrs["derived_from"] = " <- ".join(str(a) for a in (attrs["source"], attrs.get("derived_from")) if a)
    attrs["source"] = source
    attrs["animal"] = animal or attrs.get("animal") or animal_from_path(path)
    attrs.setdefault("units", "a.u.")
    attrs.setdefault("citation", "")
    if "sampling_rate_hz" not in attrs:
        attrs["sampling_rate_hz"] = float(1.0 / np.median(np.diff(time)))
    ds.attrs = attrs
    ds["neuron"] = ds["neuron"].astype(str)
    return validate_recording(ds, source=source)


READER = Reader(read=read_netcdf_recording, suffixes=(".nc", ".nc4", ".netcdf"),
                description="a Recording written by neurodyn (NetCDF)")
