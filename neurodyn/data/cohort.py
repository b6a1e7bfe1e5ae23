"""Cohorts: several Recordings aligned on shared neuron names and a common clock.

A cohort is an :class:`xarray.Dataset` with dims ``(animal, time, neuron)``:

- ``traces`` (animal, time, neuron) float32, NaN where an animal lacks a neuron;
- ``present`` (animal, neuron) bool — whether the animal recorded the neuron;
- ``behavior_<name>`` (animal, time) for every scalar behaviour that *every* animal has
  (binary ones such as ``reversal`` resampled by nearest neighbour and stored as int8,
  continuous ones linearly interpolated, float32);
- coords ``animal`` (str), ``neuron`` (str, sorted; only neurons present in at least
  ``min_animals`` animals), ``time`` (seconds from each recording's first frame, a common
  grid ``k / sampling_rate_hz`` up to the shortest recording's duration);
- attrs ``sampling_rate_hz``, ``min_animals``, ``citation``, ``sources``, ``units``.

Identified neurons (``AVAL``) are matched across animals by name.  Unidentified ROIs
(``roi_017``, ``plane0_roi17``: :func:`~neurodyn.data.recording.is_roi_name`) are local to their animal — ``roi_017`` of one worm is not ``roi_017`` of
another — so in a cohort they are renamed ``<animal>/roi_017``; they therefore only enter
when ``min_animals == 1``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.recording import BEHAVIOR_PREFIX, is_roi_name, validate_recording
from neurodyn.errors import InputFileError, InvalidInputError

COHORT_ATTRS = ("sampling_rate_hz", "min_animals", "citation", "sources")


def cohort_neuron_name(animal: str, neuron: str) -> str:
    """Name of a neuron in a cohort: identified names as is, ROIs qualified by animal."""
    return f"{animal}/{neuron}" if is_roi_name(neuron) else neuron


def is_identified(name) -> bool:
    """Whether a cohort neuron name is an identity (``AVAL``), not a ROI.

    Cohort ROIs are ``<animal>/<roi>``, or ROI names of a single recording (:func:`is_roi_name`).
    """
    return "/" not in str(name) and not is_roi_name(str(name))


def has_identities(ds: xr.Dataset, dim: str = "neuron") -> bool:
    """Whether any neuron along ``dim`` of a cohort (or a result built on one) has an identity."""
    return any(is_identified(n) for n in ds[dim].values)


def common_time_grid(durations_s: Sequence[float], sampling_rate_hz: float) -> np.ndarray:
    """``k / rate`` for k = 0, 1, … while ``k / rate`` ≤ the shortest duration.

    Returns
    -------
    time : array, shape (T,) seconds.
    """
    shortest = float(min(durations_s))
    # A tolerance so that a grid point landing on the last frame up to rounding is kept.
    n = int(np.floor(shortest * sampling_rate_hz + 1e-6)) + 1
    return np.arange(n, dtype=np.float64) / sampling_rate_hz


def interpolate_linear(time: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (T, ...) sampled at ``time`` onto ``grid``.

    Grid points that coincide with a sample return that sample exactly, even when its
    neighbour is NaN (a NaN only spreads to the interval it bounds).  ``grid`` must lie
    inside ``[time[0], time[-1]]``.
    """
    time = np.asarray(time, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    idx = np.clip(np.searchsorted(time, grid, side="right") - 1, 0, time.size - 2)
    w = (grid - time[idx]) / (time[idx + 1] - time[idx])
    w = w.reshape((-1,) + (1,) * (values.ndim - 1))
    left, right = values[idx], values[idx + 1]
    with np.errstate(invalid="ignore"):
        mixed = left * (1.0 - w) + right * w
    return np.where(w <= 0, left, np.where(w >= 1, right, mixed))


def interpolate_nearest(time: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Nearest-sample resampling (ties to the earlier sample) — for binary signals."""
    time = np.asarray(time, dtype=np.float64)
    idx = np.clip(np.searchsorted(time, grid, side="right") - 1, 0, time.size - 2)
    take_right = (grid - time[idx]) > (time[idx + 1] - grid)
    return np.asarray(values)[idx + take_right]


def _is_binary(values: np.ndarray) -> bool:
    values = np.asarray(values)
    if values.dtype == bool:
        return True
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
        return False
    return bool(np.isin(values, (0, 1)).all())


def build_cohort(
    recordings: Sequence[xr.Dataset],
    min_animals: int = 1,
    sampling_rate_hz: float | None = None,
) -> xr.Dataset:
    """Align Recordings into a cohort (layout in the module doc).

    Parameters
    ----------
    recordings : sequence of Recording, one per animal (distinct ``animal`` attrs).
    min_animals : a neuron enters only if at least this many animals recorded it.
    sampling_rate_hz : common rate; default the lowest rate among the animals.  Each
        animal is resampled on its own clock (time from its first frame) by linear
        interpolation (nearest for binary behaviours).

    Returns
    -------
    cohort : xarray.Dataset, dims (animal, time, neuron).
    """
    recordings = list(recordings)
    if not recordings:
        raise InvalidInputError("no recordings given; expected at least one", field="recordings")
    for i, r in enumerate(recordings):
        if not isinstance(r, xr.Dataset):
            raise InvalidInputError(f"{type(r).__name__}; expected a Recording (xarray.Dataset)",
                                    field=f"recordings[{i}]")
    recordings = [validate_recording(r) for r in recordings]
    animals = [str(r.attrs["animal"]) for r in recordings]
    dup = sorted(a for a, n in Counter(animals).items() if n > 1)
    if dup:
        raise InvalidInputError(f"animal ids {dup} occur more than once; expected one recording per animal",
                                source="; ".join(str(r.attrs["source"]) for r in recordings), field="animal")
    if isinstance(min_animals, bool) or not isinstance(min_animals, (int, np.integer)) \
            or not 1 <= min_animals <= len(recordings):
        raise InvalidInputError(f"{min_animals!r}; expected an integer from 1 to the number of animals "
                                f"({len(recordings)})", field="min_animals")
    rates = [float(r.attrs["sampling_rate_hz"]) for r in recordings]
    try:
        rate = float(min(rates) if sampling_rate_hz is None else sampling_rate_hz)
    except (TypeError, ValueError):
        rate = float("nan")
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidInputError(f"{sampling_rate_hz!r}; expected a positive rate in Hz", field="sampling_rate_hz")
    clocks = [np.asarray(r["time"].values, dtype=np.float64) for r in recordings]
    clocks = [t - t[0] for t in clocks]
    grid = common_time_grid([t[-1] for t in clocks], rate)

    local_names = [[cohort_neuron_name(a, str(n)) for n in r["neuron"].values] for a, r in zip(animals, recordings)]
    counts = Counter(n for names in local_names for n in names)
    neurons = sorted(n for n, c in counts.items() if c >= min_animals)
    if not neurons:
        raise InvalidInputError(f"no neuron is recorded in at least {min_animals} animals "
                                f"({', '.join(animals)})", field="min_animals")
    column = {n: j for j, n in enumerate(neurons)}
    traces = np.full((len(recordings), grid.size, len(neurons)), np.nan, dtype=np.float32)
    present = np.zeros((len(recordings), len(neurons)), dtype=bool)
    for a, (rec, names, t) in enumerate(zip(recordings, local_names, clocks)):
        keep = [(i, column[n]) for i, n in enumerate(names) if n in column]
        if not keep:
            continue
        src, dst = (np.array(x) for x in zip(*keep))
        traces[a][:, dst] = interpolate_linear(t, rec["traces"].values[:, src], grid)
        present[a, dst] = True

    data_vars = {
        "traces": (("animal", "time", "neuron"), traces),
        "present": (("animal", "neuron"), present),
    }
    scalar = [set(v for v in r.data_vars if str(v).startswith(BEHAVIOR_PREFIX) and r[v].dims == ("time",))
              for r in recordings]
    for var in sorted(set.intersection(*scalar)):
        series = [r[var].values for r in recordings]
        if all(_is_binary(s) for s in series):
            out = np.stack([interpolate_nearest(t, s, grid) for t, s in zip(clocks, series)]).astype(np.int8)
        else:
            out = np.stack([interpolate_linear(t, s.astype(np.float64), grid)
                            for t, s in zip(clocks, series)]).astype(np.float32)
        data_vars[var] = (("animal", "time"), out)

    citations = list(dict.fromkeys(str(r.attrs["citation"]) for r in recordings if r.attrs["citation"]))
    units = list(dict.fromkeys(str(r.attrs["units"]) for r in recordings))
    cohort = xr.Dataset(
        data_vars,
        coords={"animal": ("animal", np.array(animals, dtype=str)), "time": ("time", grid),
                "neuron": ("neuron", np.array(neurons, dtype=str))},
        attrs={
            "sampling_rate_hz": rate,
            "min_animals": int(min_animals),
            "citation": "; ".join(citations),
            "sources": "; ".join(str(r.attrs["source"]) for r in recordings),
            "units": units[0] if len(units) == 1 else "mixed: " + "; ".join(units),
        },
    )
    cohort["time"].attrs["units"] = "s"
    return validate_cohort(cohort)


def validate_cohort(ds: xr.Dataset, source: str | None = None) -> xr.Dataset:
    """Check the cohort layout of the module doc; return ``ds`` or raise InvalidInputError."""
    source = source or "cohort"
    if not isinstance(ds, xr.Dataset):
        raise InvalidInputError(f"expected an xarray.Dataset, got {type(ds).__name__}", source=source)
    for var, dims in (("traces", ("animal", "time", "neuron")), ("present", ("animal", "neuron"))):
        if var not in ds.data_vars:
            raise InvalidInputError("missing variable", source=source, field=var)
        if ds[var].dims != dims:
            raise InvalidInputError(f"dims {ds[var].dims}; expected {dims}", source=source, field=var)
    if ds["present"].dtype != bool:
        raise InvalidInputError(f"dtype {ds['present'].dtype}; expected bool", source=source, field="present")
    for coord in ("animal", "time", "neuron"):
        if coord not in ds.coords:
            raise InvalidInputError("missing coordinate", source=source, field=coord)
    for key in COHORT_ATTRS:
        if key not in ds.attrs:
            raise InvalidInputError("missing attribute", source=source, field=key)
    time = np.asarray(ds["time"].values)
    if time.size < 2 or not np.all(np.diff(time) > 0):
        raise InvalidInputError("expected at least 2 strictly increasing times (s)", source=source, field="time")
    traces = ds["traces"].values
    present = ds["present"].values
    recorded = ~np.isnan(traces).all(axis=1)
    if np.any(recorded & ~present):
        raise InvalidInputError("traces hold values for neurons marked absent", source=source, field="present")
    return ds


def load_cohort(path: str | os.PathLike) -> xr.Dataset:
    """Read a cohort written with :func:`neurodyn.io.write_netcdf` and check its layout."""
    from neurodyn.io import read_netcdf

    path = Path(path)
    if not path.is_file():
        raise InputFileError("cohort file not found", source=str(path))
    try:
        ds = read_netcdf(path)
    except Exception as exc:  # noqa: BLE001 - xarray/h5netcdf raise many types for a bad file
        raise InputFileError(f"cannot read as NetCDF: {type(exc).__name__}: {exc}", source=str(path)) from None
    if "present" in ds and ds["present"].dtype != bool:
        ds["present"] = ds["present"].astype(bool)
    ds = validate_cohort(ds, source=str(path))
    return ds.assign_coords(animal=ds["animal"].astype(str), neuron=ds["neuron"].astype(str))
