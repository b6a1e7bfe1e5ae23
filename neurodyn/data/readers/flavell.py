"""Reader of the published HDF5 of Dag et al., Cell 2023 (one freely moving worm per file).

Layout (``<uid>-data.h5``): ``gcamp/trace_array`` (time, roi) traces;
``timing/timestamp_confocal`` (≥ time,) seconds, made relative to the first volume;
``behavior/<name>`` on the same clock (see :data:`FLAVELL_BEHAVIOR`; ``reversal_vec``
becomes ``behavior_reversal``; behaviours that are entirely NaN in a file are dropped and
listed in the attr ``behavior_dropped_all_nan``); optional ``gcamp/idx_splits``.

Variants of the published data set that are accepted:

- **more time stamps than traced frames** (the confocal kept recording after the traced
  segment, e.g. 1600 stamps for 1137 rows): the first ``n`` stamps are used, a warning is
  logged and the number dropped is kept in the attr ``timestamps_dropped``.  Fewer stamps
  than frames is refused (field ``timing/timestamp_confocal``).
- **``gcamp/idx_splits``** either as the usual ``(2, n_splits)`` table of first/last
  1-based frames of each traced segment, or with one entry per frame (shape ``(n,)``,
  ``(1, n)`` or ``(n, 1)``): 1-based frame indices (strictly increasing) or segment
  labels (non-decreasing).  Both become the attr ``segments``: JSON list of
  ``[first, last]`` 0-based inclusive rows.
- **behaviour arrays** 1-D ``(time,)``, 2-D ``(time, k)``, transposed ``(k, time)`` or
  ``(time, 1)``/``(1, time)`` (squeezed to 1-D).  ``body_angle`` keeps the dim
  ``body_segment`` when it is 2-D.
- **worms without NeuroPAL labels** (``labels=None``): every column is an ROI
  (``roi_NNN``), no neuron has an identity, ``labels_source`` is empty.

``labels=`` names ``neuropal_labels.json``: ``{animal: [{trace_column (0-based), label,
confidence}, …]}``.  Labelled columns take the label as neuron name; when a label occurs
twice in one animal the higher-confidence column keeps it (ties: the lower column index)
and the other becomes unlabelled; the choices are stored as JSON in the attr
``duplicate_labels``.  Unlabelled columns are named ``roi_NNN`` with NNN the 0-based
column index.  The coords ``trace_column`` and ``label_confidence`` (NaN when unlabelled)
keep the link to the file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import (
    animal_from_path,
    binary01,
    check_file,
    check_time,
    check_traces,
    h5_read,
    roi_name,
)
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import BEHAVIOR_PREFIX, is_roi_name, make_recording
from neurodyn.errors import InputFileError, InvalidInputError

log = logging.getLogger("neurodyn.data")

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
        values = h5_read(fh, traces, source, required=True)
        values = check_traces(values, source, traces)
        n_time = values.shape[0]
        stamps = h5_read(fh, "timing/timestamp_confocal", source, required=True)
        stamps, extra = _first_stamps(stamps, n_time, source, "timing/timestamp_confocal")
        time = check_time(stamps, n_time, source, "timing/timestamp_confocal")
        splits = h5_read(fh, "gcamp/idx_splits", source, required=False)
        segments = [[0, n_time - 1]] if splits is None else _segments(splits, n_time, source, "gcamp/idx_splits")
        behaviours, dropped = {}, []
        for name, key in behavior.items():
            data = h5_read(fh, key, source, required=False)
            if data is None:
                continue
            data = _per_frame(data, n_time, n_time + extra, source, key, traces)
            if np.issubdtype(data.dtype, np.floating) and np.isnan(data).all():
                dropped.append(name)
                continue
            if name == "reversal":
                data = binary01(data, source, key)
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
            "timestamps_dropped": int(extra),
            "segments": json.dumps(segments),
        },
    )
    if "body_angle_dim1" in ds.dims:
        ds = ds.rename_dims({"body_angle_dim1": "body_segment"})
    ds = ds.assign_coords(trace_column=("neuron", np.arange(n_col)), label_confidence=("neuron", confidence))
    for name, key in behavior.items():
        if f"{BEHAVIOR_PREFIX}{name}" in ds:
            ds[f"{BEHAVIOR_PREFIX}{name}"].attrs["source_field"] = key
    return ds


def _first_stamps(stamps: np.ndarray, n_time: int, source: str, field: str) -> tuple[np.ndarray, int]:
    """The first ``n_time`` stamps of a 1-D array that may run on after the traced frames."""
    stamps = np.asarray(stamps)
    if stamps.ndim != 1:
        return stamps, 0  # check_time names the shape
    if stamps.shape[0] < n_time:
        raise InvalidInputError(f"{stamps.shape[0]} time stamps for {n_time} trace rows; expected at least one "
                                f"time stamp per frame", source=source, field=field)
    extra = stamps.shape[0] - n_time
    if extra:
        log.warning("%s: %s has %d time stamps for %d trace rows; using the first %d (the recording went on "
                    "after the traced frames)", source, field, stamps.shape[0], n_time, n_time)
    return stamps[:n_time], extra


def _segments(splits: np.ndarray, n_time: int, source: str, field: str) -> list[list[int]]:
    """Traced segments as ``[first, last]`` 0-based inclusive rows, from either idx_splits layout."""
    splits = np.asarray(splits)
    if splits.dtype.kind not in "iuf" or splits.size == 0 or not np.all(np.isfinite(splits)) \
            or not np.all(splits == np.round(splits)):
        raise InvalidInputError(f"dtype {splits.dtype}, shape {splits.shape}; expected integer frame indices",
                                source=source, field=field)
    splits = splits.astype(np.int64)
    if splits.size == n_time and max(splits.shape) == n_time and n_time > 2:
        flat = splits.reshape(-1)
        step = np.diff(flat)
        if np.all(step > 0):  # 1-based frame indices of the traced rows
            if flat[0] < 1 or flat[-1] > n_time:
                raise InvalidInputError(f"frame indices {flat[0]}..{flat[-1]}; expected 1-based indices within "
                                        f"1..{n_time}", source=source, field=field)
            breaks = np.flatnonzero(step != 1) + 1
        elif np.all(step >= 0):  # one segment label per frame
            breaks = np.flatnonzero(step != 0) + 1
        else:
            raise InvalidInputError("one value per frame, but neither increasing frame indices nor "
                                    "non-decreasing segment labels", source=source, field=field)
        starts = np.r_[0, breaks]
        ends = np.r_[breaks - 1, n_time - 1]
        return [[int(a), int(b)] for a, b in zip(starts, ends)]
    if splits.ndim == 2 and splits.shape[0] == 2:
        first, last = splits[0] - 1, splits[1] - 1
        if np.any(first < 0) or np.any(last < first) or np.any(last >= n_time) or np.any(first[1:] <= last[:-1]):
            raise InvalidInputError(f"ranges {splits.T.tolist()[:4]}; expected ordered, non-overlapping 1-based "
                                    f"[first, last] frames within 1..{n_time}", source=source, field=field)
        return [[int(a), int(b)] for a, b in zip(first, last)]
    raise InvalidInputError(f"shape {splits.shape}; expected (2, n_splits) first/last frames or one entry per "
                            f"frame ({n_time})", source=source, field=field)


def _per_frame(data: np.ndarray, n_time: int, n_stamps: int, source: str, key: str, traces: str) -> np.ndarray:
    """A behaviour with frames first: 1-D, (time, k), or transposed (k, time); (time, 1) squeezed.

    A behaviour with one value per time stamp (``n_stamps`` > ``n_time``) is cut to the
    traced frames, like the stamps.
    """
    if n_stamps > n_time and data.ndim >= 1 and data.shape[0] == n_stamps:
        log.warning("%s: %s has %d rows, one per time stamp; using the first %d", source, key, n_stamps, n_time)
        data = data[:n_time]
    if data.ndim == 2 and 1 in data.shape and data.size == n_time:
        return data.reshape(n_time)
    if data.ndim == 2 and data.shape[0] != n_time and data.shape[1] == n_time:
        return data.T
    if data.ndim == 0 or data.shape[0] != n_time:
        raise InvalidInputError(f"shape {data.shape}; expected {n_time} frames first (same clock as {traces})",
                                source=source, field=key)
    return data


def _flavell_entries(labels: Any, animal: str, n_col: int, traces: str, h5_source: str):
    if isinstance(labels, Mapping):
        table, lsource = labels, "labels mapping"
    else:
        lpath = Path(labels)
        lsource = str(lpath)
        check_file(lpath, "labels file")
        try:
            table = json.loads(lpath.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(f"not valid JSON: {exc}", source=lsource) from None
    if not isinstance(table, Mapping) or animal not in table:
        known = sorted(table)[:8] if isinstance(table, Mapping) else type(table).__name__
        raise InvalidInputError(f"no entry for animal {animal!r} (file {h5_source}); keys start {known} "
                                f"(for a worm recorded without NeuroPAL, read it without labels)",
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
        if not label or is_roi_name(label):
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


def _detect(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as fh:
        return "gcamp" in fh and "timing" in fh


READER = Reader(read=read_flavell_h5, suffixes=(".h5", ".hdf5"), detect=_detect,
                description="Dag et al. 2023 whole-brain C. elegans HDF5 (gcamp/, timing/, behavior/)")
