"""Helpers shared by the readers: file checks, time axes, trace checks, ROI names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neurodyn.errors import InputFileError, InvalidInputError


def roi_name(column: int) -> str:
    """Name of an unidentified ROI from its 0-based column index (``roi_007``)."""
    return f"roi_{int(column):03d}"


def animal_from_path(path: str | os.PathLike) -> str:
    """Animal id from a file name: the part before the first dot, without ``-data``.

    For a suite2p output folder (``…/m1/suite2p`` or ``…/m1/suite2p/plane0``) the id is
    the name of the folder that holds ``suite2p`` (``m1``).
    """
    path = Path(path)
    parts = path.parts
    if "suite2p" in parts[1:]:
        k = len(parts) - 1 - parts[::-1].index("suite2p")
        if k >= 1:
            return parts[k - 1]
    return path.name.split(".")[0].removesuffix("-data")


def check_file(path: Path, what: str = "file") -> None:
    if not path.exists():
        raise InputFileError(f"{what} not found", source=str(path))
    if not path.is_file():
        raise InputFileError(f"{what} is not a regular file", source=str(path))


def is_real_number(dtype: np.dtype) -> bool:
    # bool, complex, strings and objects are refused: casting them to float would
    # silently invent values (True -> 1.0) or drop the imaginary part.
    return np.dtype(dtype).kind in "iuf"


def check_time(time: np.ndarray, n_time: int, source: str, field: str) -> np.ndarray:
    time = np.asarray(time)
    if not is_real_number(time.dtype):
        raise InvalidInputError(f"dtype {time.dtype}; expected real numbers (seconds)", source=source, field=field)
    if time.ndim != 1:
        raise InvalidInputError(f"shape {time.shape}; expected a 1-D array of {n_time} time stamps", source=source,
                                field=field)
    time = time.astype(np.float64)
    if time.shape[0] != n_time:
        raise InvalidInputError(f"{time.shape[0]} time points for {n_time} trace rows; expected one time "
                                f"stamp per frame", source=source, field=field)
    if not np.all(np.isfinite(time)):
        raise InvalidInputError("contains NaN or inf; expected finite seconds", source=source, field=field)
    bad = np.flatnonzero(np.diff(time) <= 0)
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(f"not strictly increasing at index {i}: {time[i]!r} then {time[i + 1]!r}",
                                source=source, field=field)
    return time


def check_traces(traces: Any, source: str, field: str) -> np.ndarray:
    traces = np.asarray(traces)
    if traces.ndim != 2:
        raise InvalidInputError(f"shape {traces.shape}; expected a 2-D (time, neuron) array",
                                source=source, field=field)
    if not is_real_number(traces.dtype):
        raise InvalidInputError(f"dtype {traces.dtype}; expected real numbers (int or float)", source=source,
                                field=field)
    traces = traces.astype(np.float64, copy=False)
    if traces.shape[0] < 2 or traces.shape[1] < 1:
        raise InvalidInputError(f"shape {traces.shape}; expected at least 2 frames and 1 neuron (time, neuron)",
                                source=source, field=field)
    empty = np.flatnonzero(np.isnan(traces).all(axis=0))
    if empty.size:
        raise InvalidInputError(f"columns {empty[:10].tolist()} ({empty.size} in total) are entirely NaN; expected "
                                f"at least one finite value per neuron (drop those columns)", source=source,
                                field=field)
    return traces


def time_from_rate(n_time: int, rate: Any, source: str) -> np.ndarray:
    if rate is None:
        raise InvalidInputError("no time axis in the file; pass sampling_rate_hz= (Hz) or store a 'time' "
                                "column/array in seconds", source=source, field="time")
    try:
        rate = float(np.asarray(rate).item())
    except (TypeError, ValueError):
        raise InvalidInputError(f"{rate!r}; expected one positive number in Hz", source=source,
                                field="sampling_rate_hz") from None
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidInputError(f"{rate!r}; expected a positive rate in Hz", source=source, field="sampling_rate_hz")
    return np.arange(n_time) / rate


def binary01(data: np.ndarray, source: str, field: str) -> np.ndarray:
    # Casting anything but 0/1 to int8 would wrap or turn NaN into garbage.
    if not is_real_number(data.dtype) and data.dtype.kind != "b" or not np.isin(data, (0, 1)).all():
        raise InvalidInputError(f"values {np.unique(data)[:5].tolist()} (dtype {data.dtype}); expected 0/1 per frame",
                                source=source, field=field)
    return data.astype(np.int8)


def h5_read(fh, key: str, source: str, *, required: bool) -> np.ndarray | None:
    if key not in fh:
        if required:
            raise InputFileError("missing dataset; expected it in the published layout", source=source, field=key)
        return None
    import h5py

    if not isinstance(fh[key], h5py.Dataset):
        raise InputFileError(f"is a {type(fh[key]).__name__}, expected a dataset", source=source, field=key)
    try:
        return np.asarray(fh[key][()])
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise InputFileError(f"cannot read dataset (truncated file?): {exc}", source=source, field=key) from None
