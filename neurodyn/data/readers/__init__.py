"""Readers: files and folders on disk → validated Recordings.

``read_recording(path, format=None, **options)`` picks a reader (an explicit ``format=``,
else :func:`~neurodyn.data.readers.registry.detect_format`: folder formats by content,
files by suffix and, where a suffix is shared, by content) and returns
:func:`~neurodyn.data.recording.validate_recording` of what it read.  Bad files raise
:class:`~neurodyn.errors.InputFileError` (missing, unreadable, truncated, wrong
container) and bad content :class:`~neurodyn.errors.InvalidInputError` (shapes, time
axis, labels); both name the file and the field.

Formats (each module documents its layout)
------------------------------------------
========== ======================== =====================================================
name       path                     module
========== ======================== =====================================================
flavell_h5 ``.h5``, ``.hdf5``       :mod:`.flavell` — Dag et al. 2023 worm HDF5 (+ labels)
caiman     ``.hdf5``, ``.h5``       :mod:`.caiman` — CaImAn ``cnm.save()`` estimates
suite2p    a folder                 :mod:`.suite2p` — ``suite2p/plane*/F.npy`` …
nwb        ``.nwb``                 :mod:`.nwb` — NWB 2 optical physiology
npz        ``.npz``                 :mod:`.arrays` — plain arrays
csv        ``.csv``                 :mod:`.arrays` — one row per frame
netcdf     ``.nc``, ``.nc4``, …     :mod:`.netcdf` — a Recording written by neurodyn
========== ======================== =====================================================

An ``.h5``/``.hdf5`` file with an ``estimates`` group is read as CaImAn, one with a
``gcamp`` group as Flavell; a folder holding ``plane*/F.npy`` (or ``suite2p/plane*/``) as
suite2p.  More formats plug in through the entry-point group ``neurodyn.readers`` (see
:mod:`.registry`).

Every reader takes ``animal=`` to override the animal id (default: the file stem without
a trailing ``-data``, the folder holding ``suite2p/``, or what the file says).  Traces and
time stamps must be real numbers (integers or floats): booleans, complex numbers, strings
and objects are refused rather than cast, and ``.npy``/``.npz`` files are opened with
``allow_pickle=False``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, check_file, roi_name
from neurodyn.data.readers.arrays import read_csv, read_npz
from neurodyn.data.readers.caiman import read_caiman
from neurodyn.data.readers.flavell import FLAVELL_BEHAVIOR, FLAVELL_CITATION, FLAVELL_UNITS, read_flavell_h5
from neurodyn.data.readers.netcdf import read_netcdf_recording
from neurodyn.data.readers.nwb import read_nwb
from neurodyn.data.readers.registry import (
    BUILTIN_READERS,
    ENTRY_POINT_GROUP,
    FORMATS,
    Reader,
    available_readers,
    detect_format,
    get_reader,
    registered_names,
)
from neurodyn.data.readers.suite2p import read_suite2p
from neurodyn.data.recording import validate_recording
from neurodyn.errors import InputFileError, InvalidInputError

__all__ = [
    "BUILTIN_READERS",
    "ENTRY_POINT_GROUP",
    "FLAVELL_BEHAVIOR",
    "FLAVELL_CITATION",
    "FLAVELL_UNITS",
    "FORMATS",
    "Reader",
    "animal_from_path",
    "available_readers",
    "detect_format",
    "get_reader",
    "read_caiman",
    "read_csv",
    "read_flavell_h5",
    "read_netcdf_recording",
    "read_npz",
    "read_nwb",
    "read_recording",
    "read_suite2p",
    "reader_options",
    "registered_names",
    "roi_name",
    "write_recording",
]

#: dataset-config keys that describe the dataset, never reader options.
DATASET_KEYS = frozenset({"reader", "files", "labels", "min_animals", "synthetic"})


def read_recording(path: str | os.PathLike, format: str | None = None, **kwargs: Any) -> xr.Dataset:
    """Read one animal's recording from ``path`` (a file, or a folder for suite2p).

    Parameters
    ----------
    path : file or folder to read.
    format : a registered reader name (``flavell_h5``, ``caiman``, ``suite2p``, ``nwb``,
        ``npz``, ``csv``, ``netcdf`` or a plugin's); default detected from the path.
    **kwargs : passed to the reader (``labels=``, ``animal=``, ``sampling_rate_hz=``, …).

    Returns
    -------
    Recording (validated ``xarray.Dataset``, dims ``(time, neuron)``).
    """
    path = Path(path)
    if format is None:
        format = detect_format(path)
    reader = get_reader(format, source=str(path))
    accepted = reader.options()
    if accepted is not None:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise InvalidInputError(f"the {format} reader does not take {unknown}; it takes {sorted(accepted)}",
                                    source=str(path), field=unknown[0])
    if reader.directory:
        if not path.is_dir():
            raise InputFileError(f"{'not found' if not path.exists() else 'not a folder'}; the {format} reader "
                                 f"reads a folder", source=str(path))
    else:
        check_file(path)
    return validate_recording(reader.read(path, **kwargs), source=str(path))


def reader_options(format: str, dataset: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a dataset config that the reader ``format`` takes as options.

    ``reader``, ``files``, ``labels``, ``min_animals`` and ``synthetic`` describe the
    dataset and are never passed; every other key the reader's signature names is (so
    ``sampling_rate_hz`` reaches the npz/csv/suite2p/caiman readers and
    ``neuropil_coefficient`` the suite2p reader), and ``None`` values are left out.  A
    reader that takes ``**options`` gets every key except the options of the built-in
    readers that it does not name (the schema fills those in for every dataset).
    """
    accepted = get_reader(format).options()
    if accepted is None:
        builtin = set().union(*(get_reader(name).options() or set() for name in BUILTIN_READERS))
        return {k: v for k, v in dataset.items()
                if k not in DATASET_KEYS and v is not None and (k not in builtin or k == "sampling_rate_hz")}
    return {k: v for k, v in dataset.items() if k not in DATASET_KEYS and v is not None and k in accepted}


def write_recording(ds: xr.Dataset, path: str | os.PathLike, *, dtype: Any = np.float32) -> Path:
    """Validate a Recording and write it as NetCDF (traces as ``dtype``, compressed, atomic).

    The file reads back with ``read_recording(path)`` (format ``netcdf``).
    """
    from neurodyn.io import write_netcdf

    ds = validate_recording(ds).copy()
    ds["traces"] = ds["traces"].astype(dtype)
    for var in list(ds.data_vars):
        if np.issubdtype(ds[var].dtype, np.floating) and ds[var].dtype.itemsize > np.dtype(dtype).itemsize:
            ds[var] = ds[var].astype(dtype)
    for name in ds.coords:
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    return write_netcdf(ds, path)
