"""Reader of suite2p output folders (Pachitariu et al. 2017).

Layout: ``suite2p/plane0/``, ``suite2p/plane1/``, … each with

- ``F.npy`` float32 (roi, frame): ROI fluorescence;
- ``Fneu.npy`` float32 (roi, frame): neuropil fluorescence around each ROI;
- ``iscell.npy`` float64 (roi, 2): column 0 is 1 for a cell, column 1 the classifier's
  probability;
- ``spks.npy`` float32 (roi, frame), optional: deconvolved activity.

The path may be the ``suite2p`` folder, the folder that holds it, or a single plane
folder.  ``combined/`` (suite2p's merge of the planes) is not read: the planes are.

From files to a Recording
-------------------------
1. **Cells only**: ROIs with ``iscell[:, 0] == 0`` are dropped (their count is kept in
   the attr ``rois_not_cells``).
2. **Neuropil correction**: ``Fc = F − neuropil_coefficient · Fneu`` (default 0.7, the
   coefficient suite2p itself uses for its deconvolution).
3. **Baseline**: ``F0`` is a running percentile of ``Fc`` — at each frame the
   ``⌊baseline_percentile / 100 · w⌋``-th smallest value (0-based) of the ``w`` frames
   centred on it, ``w = 2·round(baseline_window_s · fs / 2) + 1`` (an odd window), the
   series mirrored at both ends (``scipy.ndimage.percentile_filter``, mode ``reflect``).
   Defaults: 8th percentile over 60 s, the defaults of suite2p's ``prctile_baseline`` and
   ``win_baseline`` (the running percentile is suite2p's ``baseline: prctile`` mode; its
   default mode, ``maximin``, is not used here).  Frames where ``Fc`` is NaN are bridged by linear interpolation for
   the baseline only.
4. **ΔF/F** ``= (Fc − F0) / F0``: the Recording's ``traces`` (units ``dF/F``).  An ROI
   whose baseline is ≤ 0 somewhere (neuropil brighter than the cell after correction)
   has no ΔF/F: it is dropped with a warning and named in the attr
   ``rois_dropped_baseline``.  An ROI whose ``F`` is NaN at every frame is dropped the
   same way (attr ``rois_dropped_nan``); isolated NaN frames stay NaN.
5. ``spks.npy``, when every plane has it, becomes the variable ``deconvolved``.

Neurons are named ``plane{p}_roi{i}`` (``i`` the row of that plane's ``F.npy``); the
coords ``plane``, ``roi_index`` and ``cell_probability`` keep the link to the files.
Planes are merged in plane order; when their frame counts differ (a recording whose
frame count is not a multiple of the number of planes) all are cut to the shortest, with
a warning (attr ``frames_dropped``).  No suite2p ROI has an identity.

Time: ``k / sampling_rate_hz`` — the volume rate, suite2p's ``fs``.  suite2p keeps ``fs``
in ``ops.npy``, a pickled dict; neurodyn never unpickles a file, so the rate must be given
(``sampling_rate_hz`` in the dataset config, or the keyword).  Every ``.npy`` is opened
with ``allow_pickle=False``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, is_real_number
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import make_recording
from neurodyn.errors import InputFileError, InvalidInputError

log = logging.getLogger("neurodyn.data")

SUITE2P_CITATION = ("Pachitariu M, Stringer C, Dipoppa M, et al. Suite2p: beyond 10,000 neurons with standard "
                    "two-photon microscopy. bioRxiv (2017). doi:10.1101/061507")

_PLANE = re.compile(r"plane(\d+)")


def suite2p_planes(path: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(plane number, folder)`` of every plane under ``path``, in plane order.

    Raises InputFileError when ``path`` holds neither ``plane*/`` folders nor ``F.npy``.
    """
    path = Path(path)
    if (path / "suite2p").is_dir() and not (path / "F.npy").exists():
        path = path / "suite2p"
    planes = sorted((int(m.group(1)), p) for p in path.iterdir() if p.is_dir()
                    and (m := _PLANE.fullmatch(p.name))) if path.is_dir() else []
    if planes:
        return planes
    if (path / "F.npy").exists():
        m = _PLANE.fullmatch(path.name)
        return [(int(m.group(1)) if m else 0, path)]
    raise InputFileError("no plane*/ folders and no F.npy; expected suite2p's output folder "
                         "(suite2p/plane0/F.npy, Fneu.npy, iscell.npy)", source=str(path))


def _detect(path: Path) -> bool:
    try:
        return all((folder / "F.npy").is_file() for _, folder in suite2p_planes(path))
    except (InputFileError, OSError):
        return False


def _load(path: Path, required: bool = True) -> np.ndarray | None:
    if not path.exists():
        if not required:
            return None
        raise InputFileError("missing; suite2p writes F.npy, Fneu.npy and iscell.npy in every plane folder",
                             source=str(path))
    try:
        # ops.npy and stat.npy are pickles: never read; an object array here is refused
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputFileError(f"cannot read as .npy (truncated, or a pickled object array): "
                             f"{type(exc).__name__}: {exc}", source=str(path)) from None
    if not is_real_number(array.dtype):
        raise InvalidInputError(f"dtype {array.dtype}; expected real numbers", source=str(path),
                                field=path.stem)
    return array


def _positive(value, name: str, source: str, upper: float | None = None) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{value!r}; expected a number", source=source, field=name) from None
    if not np.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        bound = f" below {upper}" if upper is not None else ""
        raise InvalidInputError(f"{value!r}; expected a positive number{bound}", source=source, field=name)
    return value


def running_percentile(values: np.ndarray, percentile: float, window: int) -> np.ndarray:
    """Running percentile along axis 0 (see the module doc, step 3).

    Parameters
    ----------
    values : array, shape (T, N); NaN frames are bridged by linear interpolation.
    percentile : in (0, 100).
    window : odd number of frames.

    Returns
    -------
    baseline : array, shape (T, N).
    """
    from scipy.ndimage import percentile_filter

    filled = np.array(values, dtype=np.float64, copy=True)
    frames = np.arange(filled.shape[0])
    for j in np.flatnonzero(np.isnan(filled).any(axis=0)):
        ok = ~np.isnan(filled[:, j])
        filled[:, j] = np.interp(frames, frames[ok], filled[ok, j])
    # one 1-D filter per ROI: scipy's 1-D rank filter is far faster than a (window, 1) 2-D footprint
    out = np.empty_like(filled)
    for j in range(filled.shape[1]):
        out[:, j] = percentile_filter(filled[:, j], percentile, size=window, mode="reflect")
    return out


def read_suite2p(
    path: str | os.PathLike,
    *,
    sampling_rate_hz: float | None = None,
    neuropil_coefficient: float = 0.7,
    baseline_percentile: float = 8.0,
    baseline_window_s: float = 60.0,
    animal: str | None = None,
) -> xr.Dataset:
    """Read a suite2p output folder as ΔF/F of its cells (steps in the module doc).

    Parameters
    ----------
    path : the ``suite2p`` folder, the folder holding it, or one ``plane*`` folder.
    sampling_rate_hz : volume rate in Hz (suite2p's ``fs``); required — ``ops.npy`` is a
        pickle and is not read.
    neuropil_coefficient : ``Fc = F − neuropil_coefficient · Fneu``.
    baseline_percentile : percentile (0–100) of the running baseline ``F0``.
    baseline_window_s : length of the running-baseline window in seconds.
    animal : animal id; default the name of the folder that holds ``suite2p/``.

    Returns
    -------
    Recording with ``traces`` (time, neuron) ΔF/F, optional ``deconvolved``.
    """
    path = Path(path)
    source = str(path)
    planes = suite2p_planes(path)
    if sampling_rate_hz is None:
        raise InvalidInputError("no frame rate given: suite2p stores fs in ops.npy, a pickled dict that neurodyn "
                                "never unpickles; set sampling_rate_hz (Hz, suite2p's fs: the volume rate) in the "
                                "dataset config, or pass sampling_rate_hz=", source=source, field="sampling_rate_hz")
    fs = _positive(sampling_rate_hz, "sampling_rate_hz", source)
    if not np.isfinite(float(neuropil_coefficient)) or float(neuropil_coefficient) < 0:
        raise InvalidInputError(f"{neuropil_coefficient!r}; expected a number ≥ 0 (usually 0.7)", source=source,
                                field="neuropil_coefficient")
    coefficient = float(neuropil_coefficient)
    percentile = _positive(baseline_percentile, "baseline_percentile", source, upper=100.0)
    window_s = _positive(baseline_window_s, "baseline_window_s", source)

    loaded = []
    for p, folder in planes:
        f = _load(folder / "F.npy")
        fneu = _load(folder / "Fneu.npy")
        iscell = _load(folder / "iscell.npy")
        spks = _load(folder / "spks.npy", required=False)
        if f.ndim != 2 or f.shape[0] < 1 or f.shape[1] < 2:
            raise InvalidInputError(f"shape {f.shape}; expected (roi, frame) with at least 1 ROI and 2 frames",
                                    source=str(folder / "F.npy"), field="F")
        for name, arr in (("Fneu", fneu), ("spks", spks)):
            if arr is not None and arr.shape != f.shape:
                raise InvalidInputError(f"shape {arr.shape}; expected {f.shape} like F.npy (roi, frame)",
                                        source=str(folder / f"{name}.npy"), field=name)
        if iscell.ndim == 1:
            iscell = iscell[:, None]
        if iscell.ndim != 2 or iscell.shape[0] != f.shape[0]:
            raise InvalidInputError(f"shape {iscell.shape}; expected ({f.shape[0]}, 2): one row per ROI of F.npy",
                                    source=str(folder / "iscell.npy"), field="iscell")
        if not np.isin(iscell[:, 0], (0, 1)).all():
            raise InvalidInputError(f"column 0 holds {np.unique(iscell[:, 0])[:5].tolist()}; expected 0/1 "
                                    f"(not a cell / a cell)", source=str(folder / "iscell.npy"), field="iscell")
        loaded.append((p, folder, f, fneu, iscell, spks))

    n_frames = min(f.shape[1] for _, _, f, *_ in loaded)
    longest = max(f.shape[1] for _, _, f, *_ in loaded)
    if longest != n_frames:
        log.warning("%s: planes have %s frames; all cut to the shortest (%d)", source,
                    [f.shape[1] for _, _, f, *_ in loaded], n_frames)
    window = 2 * int(round(window_s * fs / 2)) + 1
    with_spikes = all(spks is not None for *_, spks in loaded)
    traces, spikes, names, plane_of, index_of, prob = [], [], [], [], [], []
    not_cells, dropped_nan, dropped_baseline = 0, [], []
    for p, folder, f, fneu, iscell, spks in loaded:
        cells = np.flatnonzero(iscell[:, 0] == 1)
        not_cells += int(f.shape[0] - cells.size)
        raw = f[cells, :n_frames].astype(np.float64)
        corrected = (raw - coefficient * fneu[cells, :n_frames].astype(np.float64)).T  # (frame, roi)
        all_nan = np.isnan(corrected).all(axis=0)
        for i in cells[all_nan]:
            dropped_nan.append(f"plane{p}_roi{i}")
        keep = ~all_nan
        cells, corrected = cells[keep], corrected[:, keep]
        if not cells.size:
            continue
        baseline = running_percentile(corrected, percentile, window)
        bad = (baseline <= 0).any(axis=0)
        for i in cells[bad]:
            dropped_baseline.append(f"plane{p}_roi{i}")
        cells, corrected, baseline = cells[~bad], corrected[:, ~bad], baseline[:, ~bad]
        traces.append((corrected - baseline) / baseline)
        if with_spikes:
            spikes.append(spks[cells, :n_frames].astype(np.float64).T)
        names += [f"plane{p}_roi{i}" for i in cells]
        plane_of += [p] * cells.size
        index_of += cells.tolist()
        prob += (iscell[cells, 1] if iscell.shape[1] > 1 else np.full(cells.size, np.nan)).tolist()
    for what, rois in (("all-NaN F", dropped_nan), ("a baseline ≤ 0 after neuropil correction", dropped_baseline)):
        if rois:
            log.warning("%s: dropped %d ROIs with %s: %s", source, len(rois), what, rois[:10])
    if not names:
        raise InvalidInputError(f"no ROI left: {not_cells} not cells (iscell.npy), {len(dropped_nan)} all NaN, "
                                f"{len(dropped_baseline)} with a baseline ≤ 0 after neuropil correction "
                                f"(coefficient {coefficient})", source=source, field="iscell")
    values = np.concatenate(traces, axis=1)
    ds = make_recording(
        values, np.arange(n_frames) / fs, names, animal=animal or animal_from_path(path), source=source,
        units="dF/F", citation=SUITE2P_CITATION, sampling_rate_hz=fs,
        attrs={
            "reader": "suite2p",
            "planes": ",".join(str(p) for p, _ in planes),
            "neuropil_coefficient": coefficient,
            "baseline_percentile": percentile,
            "baseline_window_s": window_s,
            "baseline_window_frames": int(window),
            "rois_not_cells": int(not_cells),
            "rois_dropped_nan": ",".join(dropped_nan),
            "rois_dropped_baseline": ",".join(dropped_baseline),
            "frames_dropped": int(longest - n_frames),
        },
    )
    if with_spikes:
        ds["deconvolved"] = (("time", "neuron"), np.concatenate(spikes, axis=1))
        ds["deconvolved"].attrs["source_field"] = "spks.npy"
    return ds.assign_coords(plane=("neuron", np.array(plane_of, dtype=np.int64)),
                            roi_index=("neuron", np.array(index_of, dtype=np.int64)),
                            cell_probability=("neuron", np.array(prob, dtype=np.float64)))


READER = Reader(read=read_suite2p, directory=True, detect=_detect,
                description="suite2p output folder (plane*/F.npy, Fneu.npy, iscell.npy, spks.npy)")
