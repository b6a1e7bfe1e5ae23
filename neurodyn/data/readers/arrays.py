"""Readers of plain arrays: ``.npz`` and ``.csv``.

``npz`` — arrays: ``traces`` (time, neuron) required; ``time`` (time,) seconds, or a
scalar ``sampling_rate_hz`` (or the keyword of the same name) when there is no ``time``;
optional ``neuron`` (names, default ``roi_NNN``), scalars ``animal``, ``units``,
``citation``, and ``behavior_<name>`` arrays (time, …).  Opened with
``allow_pickle=False``: an object array is refused, never unpickled.

``csv`` — one row per frame, a header row; an optional ``time`` column (seconds;
otherwise give ``sampling_rate_hz=``); columns named ``behavior_<name>`` are behaviours;
every other column is a neuron named by its header.  Header names must be unique and
non-empty, and the file must end with a newline (a cut last row is refused, never read
as a shorter or altered frame).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, check_time, check_traces, roi_name, time_from_rate
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import BEHAVIOR_PREFIX, make_recording
from neurodyn.errors import InputFileError, InvalidInputError

def read_npz(path: str | os.PathLike, *, animal: str | None = None,
             sampling_rate_hz: float | None = None) -> xr.Dataset:
    """Read the ``.npz`` layout described in the module doc."""
    path = Path(path)
    source = str(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
        # allow_pickle=False: an object array (a pickle) is refused here and never executed
        raise InputFileError(f"cannot read as .npz: {type(exc).__name__}: {exc}", source=source) from None
    if "traces" not in arrays:
        raise InvalidInputError(f"missing array; found {sorted(arrays)}", source=source, field="traces")
    values = check_traces(arrays["traces"], source, "traces")
    n_time, n_neuron = values.shape
    if "time" in arrays:
        time = check_time(arrays["time"], n_time, source, "time")
    else:
        rate = sampling_rate_hz if sampling_rate_hz is not None else arrays.get("sampling_rate_hz")
        time = time_from_rate(n_time, None if rate is None else np.asarray(rate).item(), source)
    if "neuron" in arrays:
        neuron = arrays["neuron"]
        if neuron.ndim != 1 or neuron.dtype.kind not in "US":
            raise InvalidInputError(f"shape {neuron.shape}, dtype {neuron.dtype}; expected a 1-D array of names",
                                    source=source, field="neuron")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in neuron]
    else:
        names = [roi_name(i) for i in range(n_neuron)]
    if len(names) != n_neuron:
        raise InvalidInputError(f"{len(names)} names for {n_neuron} trace columns", source=source, field="neuron")
    behaviours = {k[len(BEHAVIOR_PREFIX):]: v for k, v in arrays.items() if k.startswith(BEHAVIOR_PREFIX)}
    for key, value in behaviours.items():
        if value.ndim == 0 or value.shape[0] != n_time:
            raise InvalidInputError(f"shape {value.shape}; expected {n_time} frames first", source=source,
                                    field=BEHAVIOR_PREFIX + key)
    return make_recording(
        values, time - time[0], names, animal=animal or _scalar(arrays, "animal", source) or animal_from_path(path),
        source=source, units=_scalar(arrays, "units", source) or "a.u.", citation=_scalar(arrays, "citation", source) or "",
        behavior=behaviours, attrs={"time_origin_s": float(time[0])},
    )


def _scalar(arrays: Mapping[str, np.ndarray], key: str, source: str) -> str | None:
    if key not in arrays:
        return None
    if np.asarray(arrays[key]).ndim != 0:
        raise InvalidInputError(f"shape {arrays[key].shape}; expected a scalar", source=source, field=key)
    value = np.asarray(arrays[key]).item()
    return value.decode() if isinstance(value, bytes) else str(value)


def read_csv(path: str | os.PathLike, *, animal: str | None = None,
             sampling_rate_hz: float | None = None, units: str = "a.u.", citation: str = "") -> xr.Dataset:
    """Read the ``.csv`` layout described in the module doc."""
    import pandas as pd

    path = Path(path)
    source = str(path)
    header = _csv_header(path, source)
    try:
        table = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputFileError(f"cannot parse as CSV with a header row: {exc}", source=source) from None
    if list(map(str, table.columns)) != header:
        raise InputFileError(f"header {header} parsed as {list(map(str, table.columns))}", source=source)
    if table.empty:
        raise InvalidInputError("no rows below the header; expected one row per frame", source=source,
                                field="traces")
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col]):
            raise InvalidInputError(f"non-numeric values such as {table[col].dropna().iloc[:1].tolist()}; expected "
                                    f"numbers",
                                    source=source, field=str(col))
    behaviour_cols = [c for c in table.columns if str(c).startswith(BEHAVIOR_PREFIX)]
    neuron_cols = [c for c in table.columns if c != "time" and c not in behaviour_cols]
    if not neuron_cols:
        raise InvalidInputError("no neuron columns (every column is time or behavior_*)", source=source,
                                field="traces")
    values = check_traces(table[neuron_cols].to_numpy(), source, "traces")
    if "time" in table.columns:
        time = check_time(table["time"].to_numpy(), len(table), source, "time")
    else:
        time = time_from_rate(len(table), sampling_rate_hz, source)
    behaviours = {str(c)[len(BEHAVIOR_PREFIX):]: table[c].to_numpy() for c in behaviour_cols}
    return make_recording(values, time - time[0], [str(c) for c in neuron_cols],
                          animal=animal or animal_from_path(path), source=source, units=units, citation=citation,
                          behavior=behaviours, attrs={"time_origin_s": float(time[0])})


def _csv_header(path: Path, source: str) -> list[str]:
    """The header names, refusing what pandas would silently rename, and a cut last line."""
    import csv

    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"not UTF-8 text: {exc}", source=source) from None
    if not raw.strip():
        raise InputFileError("empty file; expected a header row and one row per frame", source=source)
    if not raw.endswith(b"\n"):
        # every CSV writer ends the last row with a newline; without one the file was cut
        raise InputFileError("does not end with a newline; the last row is probably truncated", source=source)
    header = next(csv.reader([text.splitlines()[0]]))
    stripped = [h.strip() for h in header]
    empty = [i for i, h in enumerate(stripped) if not h]
    if empty:
        raise InvalidInputError(f"columns {empty} have no name; expected a neuron name, 'time' or 'behavior_*'",
                                source=source, field="header")
    dup = sorted({h for h in stripped if stripped.count(h) > 1})
    if dup:
        raise InvalidInputError(f"column names {dup} occur more than once; expected unique names",
                                source=source, field="header")
    return header


NPZ_READER = Reader(read=read_npz, suffixes=(".npz",), description="plain arrays: traces, time, neuron, behavior_*")
CSV_READER = Reader(read=read_csv, suffixes=(".csv",), description="one row per frame; time, neuron and behavior_* columns")
