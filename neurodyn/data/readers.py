"""Readers: files on disk → validated Recordings.

``read_recording(path, format=None, **kw)`` picks a reader from the suffix (or an
explicit ``format=``) and returns :func:`~neurodyn.data.recording.validate_recording` of
what it read.  Bad files raise :class:`~neurodyn.errors.InputFileError` (missing,
unreadable, truncated, wrong container) and bad content
:class:`~neurodyn.errors.InvalidInputError` (shapes, time axis, labels); both name the
file and the field.

Formats and their minimal layouts
---------------------------------
``flavell_h5`` (``.h5``, ``.hdf5``) — the published HDF5 of Dag et al., Cell 2023:
    ``gcamp/trace_array`` (time, roi) traces; ``timing/timestamp_confocal`` (time,)
    seconds, made relative to the first volume; ``behavior/<name>`` on the same clock
    (see :data:`FLAVELL_BEHAVIOR`; ``reversal_vec`` becomes ``behavior_reversal``;
    behaviours that are entirely NaN in a file are dropped and listed in the attr
    ``behavior_dropped_all_nan``).  ``labels=`` names ``neuropal_labels.json``:
    ``{animal: [{trace_column (0-based), label, confidence}, …]}``.  Labelled columns
    take the label as neuron name; when a label occurs twice in one animal the
    higher-confidence column keeps it (ties: the lower column index) and the other
    becomes unlabelled; the choices are stored as JSON in the attr ``duplicate_labels``.
    Unlabelled columns are named ``roi_NNN`` with NNN the 0-based column index.  The
    coords ``trace_column`` and ``label_confidence`` (NaN when unlabelled) keep the link
    to the file.
``nwb`` (``.nwb``) — NWB 2 optical physiology: a ``RoiResponseSeries`` (time, roi)
    inside a ``DfOverF`` or ``Fluorescence`` interface of a processing module
    (``DfOverF`` preferred; ``series=`` picks one by name).  Time from ``timestamps`` or
    ``starting_time + k / rate``.  Neuron names from a text column of the
    ``PlaneSegmentation`` the series points to (``name_column=``, default the first of
    ``neuron_name``, ``label``, ``roi_name``, ``name`` that exists), else ``roi_NNN``.
    ``TimeSeries`` in a ``behavior`` processing module with one sample per frame become
    ``behavior_<name>``.
``npz`` (``.npz``) — arrays: ``traces`` (time, neuron) required; ``time`` (time,)
    seconds, or a scalar ``sampling_rate_hz`` (or the keyword of the same name) when
    there is no ``time``; optional ``neuron`` (names, default ``roi_NNN``), scalars
    ``animal``, ``units``, ``citation``, and ``behavior_<name>`` arrays (time, …).
``csv`` (``.csv``) — one row per frame, a header row; an optional ``time`` column
    (seconds; otherwise give ``sampling_rate_hz=``); columns named ``behavior_<name>``
    are behaviours; every other column is a neuron named by its header.  Header names must
    be unique and non-empty, and the file must end with a newline (a cut last row is
    refused, never read as a shorter or altered frame).
``netcdf`` (``.nc``, ``.nc4``, ``.netcdf``) — a Recording as written by
    :func:`write_recording`: ``traces`` (time, neuron), coords ``time`` (s) and
    ``neuron`` (both required), ``behavior_*`` variables, the Recording attrs (missing ``animal``,
    ``units``, ``citation``, ``sampling_rate_hz`` are filled from the file name, ``a.u.``,
    ``""`` and the time axis).  ``source`` becomes this file; a previous ``source`` is
    prepended to ``derived_from`` (``a.nc <- b.h5``: the files it was made from).

Every reader takes ``animal=`` to override the animal id (default: the file stem without
a trailing ``-data``, or what the file says).  Traces and time stamps must be real numbers
(integers or floats): booleans, complex numbers, strings and objects are refused rather
than cast, and ``.npz`` files are opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import inspect
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.data.recording import BEHAVIOR_PREFIX, make_recording, validate_recording
from neurodyn.errors import InputFileError, InvalidInputError

FLAVELL_CITATION = (
    "Dag U, Nwabudike I, Kang D, et al. Dissecting the functional organization of the C. elegans "
    "serotonergic system at whole-brain scale. Cell 186 (2023). doi:10.1016/j.cell.2023.04.023"
)

#: behaviour name in the Recording -> dataset in the Flavell HDF5 ``behavior`` group.
FLAVELL_BEHAVIOR: dict[str, str] = {
    "velocity": "behavior/velocity",
    "reversal": "behavior/reversal_vec",
    "head_angle": "behavior/head_angle",
    "angular_velocity": "behavior/angular_velocity",
    "pumping": "behavior/pumping",
    "worm_curvature": "behavior/worm_curvature",
    "body_angle": "behavior/body_angle",
    "nose_angle": "behavior/nose_angle",
    "nose_curling": "behavior/nose_curling",
}

FLAVELL_UNITS = {
    "gcamp/trace_array": "z-score",
    "gcamp/trace_array_original": "a.u. (GCaMP, before z-scoring)",
    "gcamp/traces_array_F_F20": "F/F20",
}

SUFFIX_FORMAT = {
    ".h5": "flavell_h5",
    ".hdf5": "flavell_h5",
    ".nwb": "nwb",
    ".npz": "npz",
    ".csv": "csv",
    ".nc": "netcdf",
    ".nc4": "netcdf",
    ".netcdf": "netcdf",
}


def roi_name(column: int) -> str:
    """Name of an unidentified ROI from its 0-based column index (``roi_007``)."""
    return f"roi_{int(column):03d}"


def animal_from_path(path: str | os.PathLike) -> str:
    """Animal id from a file name: the part before the first dot, without ``-data``."""
    return Path(path).name.split(".")[0].removesuffix("-data")


def read_recording(path: str | os.PathLike, format: str | None = None, **kwargs: Any) -> xr.Dataset:
    """Read one animal's recording from ``path``.

    Parameters
    ----------
    path : file to read.
    format : one of :data:`FORMATS` (``flavell_h5``, ``nwb``, ``npz``, ``csv``,
        ``netcdf``); default from the suffix (see :data:`SUFFIX_FORMAT`).
    **kwargs : passed to the reader (``labels=``, ``animal=``, ``sampling_rate_hz=``, …).

    Returns
    -------
    Recording (validated ``xarray.Dataset``, dims ``(time, neuron)``).
    """
    path = Path(path)
    if format is None:
        suffix = path.suffix.lower()
        if suffix not in SUFFIX_FORMAT:
            raise InvalidInputError(f"cannot tell the format from suffix {suffix!r}; pass format= one of "
                                    f"{sorted(FORMATS)} (known suffixes: {sorted(SUFFIX_FORMAT)})",
                                    source=str(path), field="format")
        format = SUFFIX_FORMAT[suffix]
    if format not in FORMATS:
        raise InvalidInputError(f"unknown format {format!r}; expected one of {sorted(FORMATS)}",
                                source=str(path), field="format")
    reader = FORMATS[format]
    accepted = set(inspect.signature(reader).parameters) - {"path"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise InvalidInputError(f"the {format} reader does not take {unknown}; it takes {sorted(accepted)}",
                                source=str(path), field=unknown[0])
    _check_file(path)
    return validate_recording(reader(path, **kwargs), source=str(path))


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


# --------------------------------------------------------------------------- helpers


def _check_file(path: Path, what: str = "file") -> None:
    if not path.exists():
        raise InputFileError(f"{what} not found", source=str(path))
    if not path.is_file():
        raise InputFileError(f"{what} is not a regular file", source=str(path))


def _is_real_number(dtype: np.dtype) -> bool:
    # bool, complex, strings and objects are refused: casting them to float would
    # silently invent values (True -> 1.0) or drop the imaginary part.
    return np.dtype(dtype).kind in "iuf"


def _check_time(time: np.ndarray, n_time: int, source: str, field: str) -> np.ndarray:
    time = np.asarray(time)
    if not _is_real_number(time.dtype):
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


def _check_traces(traces: Any, source: str, field: str) -> np.ndarray:
    traces = np.asarray(traces)
    if traces.ndim != 2:
        raise InvalidInputError(f"shape {traces.shape}; expected a 2-D (time, neuron) array",
                                source=source, field=field)
    if not _is_real_number(traces.dtype):
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


def _time_from_rate(n_time: int, rate: Any, source: str) -> np.ndarray:
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


# --------------------------------------------------------------------------- flavell_h5


def read_flavell_h5(
    path: str | os.PathLike,
    *,
    labels: str | os.PathLike | Mapping | None = None,
    animal: str | None = None,
    traces: str = "gcamp/trace_array",
    behavior: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """Read one worm of Dag et al. 2023 (HDF5) with optional NeuroPAL labels.

    Parameters
    ----------
    path : ``<uid>-data.h5``.
    labels : path to ``neuropal_labels.json`` (or the already-loaded mapping).
    animal : key in the labels file and the Recording's ``animal``; default the file's uid.
    traces : HDF5 dataset holding (time, roi) traces (``gcamp/trace_array`` is z-scored;
        ``gcamp/traces_array_F_F20`` is F/F20).
    behavior : Recording name -> HDF5 dataset; default :data:`FLAVELL_BEHAVIOR`.
    """
    import h5py

    path = Path(path)
    source = str(path)
    animal = animal or animal_from_path(path)
    behavior = FLAVELL_BEHAVIOR if behavior is None else behavior
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InputFileError(f"cannot open as HDF5 (truncated or not an HDF5 file): {exc}", source=source) from None
    with fh:
        values = _h5_read(fh, traces, source, required=True)
        values = _check_traces(values, source, traces)
        stamps = _h5_read(fh, "timing/timestamp_confocal", source, required=True)
        time = _check_time(stamps, values.shape[0], source, "timing/timestamp_confocal")
        behaviours, dropped = {}, []
        for name, key in behavior.items():
            data = _h5_read(fh, key, source, required=False)
            if data is None:
                continue
            if data.ndim == 0 or data.shape[0] != values.shape[0]:
                raise InvalidInputError(f"shape {data.shape}; expected {values.shape[0]} frames first (same clock "
                                        f"as {traces})", source=source, field=key)
            if np.issubdtype(data.dtype, np.floating) and np.isnan(data).all():
                dropped.append(name)
                continue
            if name == "reversal":
                data = _binary(data, source, key)
            behaviours[name] = data
    n_col = values.shape[1]
    names = [roi_name(c) for c in range(n_col)]
    confidence = np.full(n_col, np.nan)
    duplicates: list[dict[str, Any]] = []
    labels_source = ""
    if labels is not None:
        entries, labels_source = _flavell_entries(labels, animal, n_col, traces, source)
        duplicates = _assign_labels(entries, names, confidence)
    ds = make_recording(
        values, time - time[0], names, animal=animal, source=source, units=FLAVELL_UNITS.get(traces, f"as published ({traces})"),
        citation=FLAVELL_CITATION, behavior=behaviours,
        attrs={
            "traces_field": traces,
            "time_origin_s": float(time[0]),
            "labels_source": labels_source,
            "duplicate_labels": json.dumps(duplicates),
            "behavior_dropped_all_nan": ",".join(dropped),
        },
    )
    if "behavior_body_angle" in ds:
        ds = ds.rename_dims({"body_angle_dim1": "body_segment"})
    ds = ds.assign_coords(trace_column=("neuron", np.arange(n_col)), label_confidence=("neuron", confidence))
    for name, key in behavior.items():
        if f"{BEHAVIOR_PREFIX}{name}" in ds:
            ds[f"{BEHAVIOR_PREFIX}{name}"].attrs["source_field"] = key
    return ds


def _binary(data: np.ndarray, source: str, field: str) -> np.ndarray:
    # Casting anything but 0/1 to int8 would wrap or turn NaN into garbage.
    if not _is_real_number(data.dtype) and data.dtype.kind != "b" or not np.isin(data, (0, 1)).all():
        raise InvalidInputError(f"values {np.unique(data)[:5].tolist()} (dtype {data.dtype}); expected 0/1 per frame",
                                source=source, field=field)
    return data.astype(np.int8)


def _h5_read(fh, key: str, source: str, *, required: bool) -> np.ndarray | None:
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


def _flavell_entries(labels: Any, animal: str, n_col: int, traces: str, h5_source: str):
    if isinstance(labels, Mapping):
        table, lsource = labels, "labels mapping"
    else:
        lpath = Path(labels)
        lsource = str(lpath)
        _check_file(lpath, "labels file")
        try:
            table = json.loads(lpath.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(f"not valid JSON: {exc}", source=lsource) from None
    if not isinstance(table, Mapping) or animal not in table:
        known = sorted(table)[:8] if isinstance(table, Mapping) else type(table).__name__
        raise InvalidInputError(f"no entry for animal {animal!r} (file {h5_source}); keys start {known}",
                                source=lsource, field=animal)
    entries = table[animal]
    if not isinstance(entries, list):
        raise InvalidInputError(f"{type(entries).__name__}; expected a list of {{trace_column, label, confidence}}",
                                source=lsource, field=animal)
    out = []
    for i, entry in enumerate(entries):
        field = f"{animal}[{i}]"
        try:
            column, label = entry["trace_column"], entry["label"]
        except (KeyError, TypeError):
            raise InvalidInputError("expected an object with 'trace_column' and 'label'", source=lsource,
                                    field=field) from None
        if not isinstance(column, (int, np.integer)) or isinstance(column, bool):
            raise InvalidInputError(f"{column!r} is not an integer column index", source=lsource,
                                    field=f"{field}.trace_column")
        if not 0 <= column < n_col:
            raise InvalidInputError(f"names column {column}, but {traces} in {h5_source} has {n_col} columns "
                                    f"(0-based indices 0..{n_col - 1})", source=lsource, field=f"{field}.trace_column")
        if not isinstance(label, str):
            raise InvalidInputError(f"{label!r}; expected a neuron name (string)", source=lsource,
                                    field=f"{field}.label")
        label = label.strip()
        if not label or label.startswith("roi_"):
            raise InvalidInputError(f"label {label!r}; expected a neuron name", source=lsource, field=f"{field}.label")
        conf = entry.get("confidence")
        try:
            if isinstance(conf, str):
                raise TypeError(conf)
            conf = np.nan if conf is None else float(conf)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{conf!r} is not a number", source=lsource,
                                    field=f"{field}.confidence") from None
        out.append((int(column), label, conf))
    return out, lsource


def _assign_labels(entries: Sequence[tuple[int, str, float]], names: list[str], confidence: np.ndarray):
    """Give each label to one column: highest confidence first, ties to the lower column.

    Writes into ``names``/``confidence``; returns the record of every contested label.
    """
    order = sorted(entries, key=lambda e: (-(e[2] if np.isfinite(e[2]) else -np.inf), e[0]))
    taken_label: dict[str, tuple[int, float]] = {}
    taken_col: set[int] = set()
    losers: dict[str, list[tuple[int, float]]] = {}
    for column, label, conf in order:
        if label in taken_label or column in taken_col:
            losers.setdefault(label, []).append((column, conf))
            continue
        taken_label[label] = (column, conf)
        taken_col.add(column)
        names[column] = label
        confidence[column] = conf
    record = []
    for label, lost in sorted(losers.items()):
        kept = taken_label.get(label)
        record.append({
            "label": label,
            "kept_column": None if kept is None else kept[0],
            "kept_confidence": None if kept is None else kept[1],
            "dropped_columns": [c for c, _ in lost],
            "dropped_confidences": [c for _, c in lost],
        })
    return record


# --------------------------------------------------------------------------- nwb

NWB_NAME_COLUMNS = ("neuron_name", "label", "roi_name", "name")


def read_nwb(
    path: str | os.PathLike,
    *,
    series: str | None = None,
    name_column: str | None = None,
    animal: str | None = None,
) -> xr.Dataset:
    """Read ROI traces from an NWB file (see the module doc for the layout)."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    source = str(path)
    try:
        io = NWBHDF5IO(str(path), "r")
    except Exception as exc:  # noqa: BLE001 - pynwb/hdmf/h5py raise many types for a bad file
        raise InputFileError(f"cannot open as NWB: {type(exc).__name__}: {exc}", source=source) from None
    try:
        nwb = io.read()
    except Exception as exc:  # noqa: BLE001
        io.close()
        raise InputFileError(f"cannot read as NWB: {type(exc).__name__}: {exc}", source=source) from None
    with io:
        found = []
        for mod_name, module in nwb.processing.items():
            for iface_name, iface in module.data_interfaces.items():
                kind = type(iface).__name__
                if kind in ("DfOverF", "Fluorescence"):
                    for s_name, s in iface.roi_response_series.items():
                        found.append((0 if kind == "DfOverF" else 1, f"{mod_name}/{iface_name}/{s_name}", s_name, s))
        if not found:
            raise InvalidInputError("no RoiResponseSeries inside a DfOverF or Fluorescence interface of any "
                                    "processing module", source=source, field="processing")
        if series is not None:
            match = [f for f in found if series in (f[1], f[2])]
            if not match:
                raise InvalidInputError(f"no series {series!r}; found {[f[1] for f in found]}", source=source,
                                        field="series")
            found = match
        _, s_path, _, rrs = sorted(found, key=lambda f: f[0])[0]
        values = _nwb_array(rrs.data, source, f"{s_path}.data")
        if values.ndim == 1:
            values = values[:, None]
        values = _check_traces(values, source, f"{s_path}.data")
        n_time, n_roi = values.shape
        if rrs.timestamps is not None:
            time = _check_time(_nwb_array(rrs.timestamps, source, f"{s_path}.timestamps"), n_time, source,
                               f"{s_path}.timestamps")
        else:
            if rrs.rate is None:
                raise InvalidInputError("neither timestamps nor rate", source=source, field=s_path)
            time = (rrs.starting_time or 0.0) + _time_from_rate(n_time, rrs.rate, source)
        names = [roi_name(i) for i in range(n_roi)]
        rois = getattr(rrs, "rois", None)
        if rois is not None:
            rows = _nwb_array(rois.data, source, f"{s_path}.rois").reshape(-1)
            if rows.shape[0] != n_roi:
                raise InvalidInputError(f"{rows.shape[0]} ROI rows for {n_roi} trace columns", source=source,
                                        field=f"{s_path}.rois")
            table = rois.table
            col = name_column or next((c for c in NWB_NAME_COLUMNS if c in table.colnames), None)
            if name_column is not None and name_column not in table.colnames:
                raise InvalidInputError(f"no column {name_column!r} in {table.name}; columns {list(table.colnames)}",
                                        source=source, field="name_column")
            if col is not None:
                column = table[col].data
                for i, row in enumerate(rows):
                    value = column[int(row)]
                    value = value.decode() if isinstance(value, bytes) else str(value)
                    if value.strip():
                        names[i] = value.strip()
        behaviours = _nwb_behaviour(nwb, n_time, time)
        subject = getattr(nwb, "subject", None)
        animal = animal or (subject.subject_id if subject is not None and subject.subject_id else None) \
            or animal_from_path(path)
        citation = "; ".join(nwb.related_publications or ()) if nwb.related_publications is not None else ""
        return make_recording(
            values, time - time[0], names, animal=animal, source=source, units=str(rrs.unit or "a.u."),
            citation=citation, behavior=behaviours,
            attrs={"nwb_series": s_path, "time_origin_s": float(time[0]), "nwb_identifier": str(nwb.identifier)},
        )


def _nwb_array(data, source: str, field: str) -> np.ndarray:
    try:
        return np.asarray(data[()])
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError/RuntimeError/KeyError on a damaged file
        raise InputFileError(f"cannot read dataset (truncated file?): {type(exc).__name__}: {exc}", source=source,
                             field=field) from None


def _nwb_behaviour(nwb, n_time: int, time: np.ndarray) -> dict[str, np.ndarray]:
    """TimeSeries of a ``behavior`` module that share the traces' frames."""
    from pynwb import TimeSeries

    module = nwb.processing.get("behavior") if "behavior" in nwb.processing else None
    if module is None:
        return {}
    out = {}
    for iface in module.data_interfaces.values():
        members = [iface] if isinstance(iface, TimeSeries) else list(getattr(iface, "time_series", {}).values())
        for ts in members:
            data = np.asarray(ts.data[()])
            if data.ndim == 0 or data.shape[0] != n_time:
                continue
            if ts.timestamps is not None:
                t = np.asarray(ts.timestamps[()])
            else:
                t = (ts.starting_time or 0.0) + np.arange(n_time) / ts.rate
            if np.allclose(t, time, atol=1e-6):
                out[ts.name] = data
    return out


# --------------------------------------------------------------------------- npz / csv / netcdf


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
    values = _check_traces(arrays["traces"], source, "traces")
    n_time, n_neuron = values.shape
    if "time" in arrays:
        time = _check_time(arrays["time"], n_time, source, "time")
    else:
        rate = sampling_rate_hz if sampling_rate_hz is not None else arrays.get("sampling_rate_hz")
        time = _time_from_rate(n_time, None if rate is None else np.asarray(rate).item(), source)
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
    values = _check_traces(table[neuron_cols].to_numpy(), source, "traces")
    if "time" in table.columns:
        time = _check_time(table["time"].to_numpy(), len(table), source, "time")
    else:
        time = _time_from_rate(len(table), sampling_rate_hz, source)
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
    if not _is_real_number(ds["traces"].dtype):
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
    time = _check_time(ds["time"].values, ds.sizes["time"], source, "time")
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


FORMATS: dict[str, Callable[..., xr.Dataset]] = {
    "flavell_h5": read_flavell_h5,
    "nwb": read_nwb,
    "npz": read_npz,
    "csv": read_csv,
    "netcdf": read_netcdf_recording,
}
