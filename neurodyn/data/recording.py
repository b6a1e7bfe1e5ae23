"""The Recording contract: one xarray Dataset per animal, and the one validator.

A Recording is an :class:`xarray.Dataset` with

- dims ``(time, neuron)``;
- variable ``traces`` (float, ``(time, neuron)``);
- coords ``time`` (seconds, finite, strictly increasing) and ``neuron`` (unique strings;
  identified neurons carry their name such as ``AVAL``, unidentified ROIs a name that
  :func:`is_roi_name` recognises: ``roi_017``, or ``plane0_roi17`` for suite2p);
- optional variables ``behavior_<name>`` with first dim ``time``;
- optional variable ``deconvolved`` (float, ``(time, neuron)``): the source's own
  deconvolved activity (suite2p ``spks``, CaImAn ``S``), when it has one;
- attrs ``animal``, ``source``, ``sampling_rate_hz``, ``units``, ``citation``.

Every reader returns ``validate_recording(...)`` of what it built; every analysis may
assume it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.errors import InvalidInputError

REQUIRED_ATTRS = ("animal", "source", "sampling_rate_hz", "units", "citation")
BEHAVIOR_PREFIX = "behavior_"
#: optional (time, neuron) variables besides ``traces``.
NEURON_VARIABLES = ("deconvolved",)
#: names of unidentified ROIs: ``roi_…`` (any reader) and ``plane{p}_roi{i}`` (suite2p).
ROI_NAME = re.compile(r"roi_.*|plane\d+_roi\d+")


def is_roi_name(name: str) -> bool:
    """Whether ``name`` is an unidentified ROI (local to its animal), not a neuron identity."""
    return ROI_NAME.fullmatch(str(name)) is not None


def make_recording(
    traces: Any,
    time: Any,
    neuron: Any,
    *,
    animal: str,
    source: str = "memory",
    units: str = "a.u.",
    citation: str = "",
    behavior: Mapping[str, Any] | None = None,
    sampling_rate_hz: float | None = None,
    attrs: Mapping[str, Any] | None = None,
    dtype: Any = np.float64,
) -> xr.Dataset:
    """Build and validate a Recording from plain arrays.

    Parameters
    ----------
    traces : array, shape (T, N)
    time : array, shape (T,)  — seconds.
    neuron : sequence of N str
    animal, source, units, citation : str
    behavior : mapping name -> array with first dim T (stored as ``behavior_<name>``)
    sampling_rate_hz : float, optional — defaults to 1 / median(diff(time)).
    attrs : extra attrs to keep (provenance such as duplicate-label choices).
    dtype : float dtype of ``traces``.
    """
    traces = np.asarray(traces)
    time = np.asarray(time, dtype=np.float64)
    if traces.ndim != 2:
        raise InvalidInputError(f"expected a 2-D (time, neuron) array, got shape {traces.shape}",
                                source=source, field="traces")
    if time.ndim != 1 or time.shape[0] != traces.shape[0]:
        raise InvalidInputError(f"time has shape {time.shape}, expected ({traces.shape[0]},) to match traces",
                                source=source, field="time")
    neuron = np.asarray([str(n) for n in neuron], dtype=object)
    if neuron.shape != (traces.shape[1],):
        raise InvalidInputError(f"{neuron.shape[0]} neuron names for {traces.shape[1]} trace columns",
                                source=source, field="neuron")
    if sampling_rate_hz is None:
        dt = np.diff(time)
        sampling_rate_hz = float(1.0 / np.median(dt)) if dt.size and np.median(dt) > 0 else float("nan")
    data_vars: dict[str, Any] = {"traces": (("time", "neuron"), traces.astype(dtype, copy=False))}
    for name, values in (behavior or {}).items():
        values = np.asarray(values)
        dims = ("time",) + tuple(f"{name}_dim{i}" for i in range(1, values.ndim))
        data_vars[f"{BEHAVIOR_PREFIX}{name}"] = (dims, values)
    ds = xr.Dataset(
        data_vars,
        coords={"time": ("time", time), "neuron": ("neuron", neuron.astype(str))},
        attrs={
            "animal": str(animal),
            "source": str(source),
            "sampling_rate_hz": float(sampling_rate_hz),
            "units": str(units),
            "citation": str(citation),
            **dict(attrs or {}),
        },
    )
    ds["time"].attrs["units"] = "s"
    return validate_recording(ds)


def validate_recording(ds: Any, source: str | None = None) -> xr.Dataset:
    """Check that ``ds`` is a Recording; return it unchanged or raise InvalidInputError.

    ``source`` names the file in messages (defaults to ``ds.attrs['source']``).
    """
    if not isinstance(ds, xr.Dataset):
        raise InvalidInputError(f"expected an xarray.Dataset, got {type(ds).__name__}", source=source)
    source = source or str(ds.attrs.get("source", "recording"))
    if "traces" not in ds.data_vars:
        raise InvalidInputError("no 'traces' variable", source=source, field="traces")
    tr = ds["traces"]
    if tr.dims != ("time", "neuron"):
        raise InvalidInputError(f"dims are {tr.dims}, expected ('time', 'neuron')", source=source, field="traces")
    if not np.issubdtype(tr.dtype, np.floating):
        raise InvalidInputError(f"dtype is {tr.dtype}, expected a float dtype", source=source, field="traces")
    n_time, n_neuron = tr.shape
    if n_time < 2 or n_neuron < 1:
        raise InvalidInputError(f"shape {tr.shape}: need at least 2 time points and 1 neuron",
                                source=source, field="traces")
    if "time" not in ds.coords:
        raise InvalidInputError("missing coordinate", source=source, field="time")
    time = np.asarray(ds["time"].values)
    if not np.issubdtype(time.dtype, np.number):
        raise InvalidInputError(f"dtype is {time.dtype}, expected seconds as numbers", source=source, field="time")
    if not np.all(np.isfinite(time)):
        raise InvalidInputError("contains NaN or inf", source=source, field="time")
    bad = np.flatnonzero(np.diff(time) <= 0)
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(f"not strictly increasing: t[{i}]={time[i]!r} >= t[{i + 1}]={time[i + 1]!r}",
                                source=source, field="time")
    if "neuron" not in ds.coords:
        raise InvalidInputError("missing coordinate", source=source, field="neuron")
    names = [str(n) for n in ds["neuron"].values]
    if any(n.strip() == "" for n in names):
        raise InvalidInputError("empty neuron name", source=source, field="neuron")
    if len(set(names)) != len(names):
        seen: set[str] = set()
        dup = sorted({n for n in names if n in seen or seen.add(n)})
        raise InvalidInputError(f"duplicate neuron names {dup[:5]}", source=source, field="neuron")
    values = np.asarray(tr.values)
    if np.isinf(values).any():
        raise InvalidInputError("contains inf", source=source, field="traces")
    all_nan = np.flatnonzero(np.isnan(values).all(axis=0))
    if all_nan.size:
        raise InvalidInputError(f"neurons {[names[i] for i in all_nan[:5]]} are all NaN "
                                f"({all_nan.size} in total); drop them before building the Recording",
                                source=source, field="traces")
    for var in ds.data_vars:
        if var == "traces":
            continue
        if var in NEURON_VARIABLES:
            if ds[var].dims != ("time", "neuron") or not np.issubdtype(ds[var].dtype, np.floating):
                raise InvalidInputError(f"dims {ds[var].dims}, dtype {ds[var].dtype}; expected float "
                                        f"('time', 'neuron') like traces", source=source, field=str(var))
            continue
        if not str(var).startswith(BEHAVIOR_PREFIX):
            raise InvalidInputError(f"unexpected variable {var!r}; extra variables must be named "
                                    f"'{BEHAVIOR_PREFIX}<name>' or be one of {list(NEURON_VARIABLES)}",
                                    source=source, field=str(var))
        if not ds[var].dims or ds[var].dims[0] != "time":
            raise InvalidInputError(f"dims are {ds[var].dims}, expected 'time' first", source=source, field=str(var))
    for key in REQUIRED_ATTRS:
        if key not in ds.attrs:
            raise InvalidInputError("missing attribute", source=source, field=key)
    rate = ds.attrs["sampling_rate_hz"]
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{rate!r} is not a number", source=source, field="sampling_rate_hz") from None
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidInputError(f"{rate!r}, expected a positive rate in Hz", source=source, field="sampling_rate_hz")
    return ds


def identified_neurons(ds: xr.Dataset) -> list[str]:
    """Names of the neurons that are identified (not ROIs such as ``roi_NNN``, ``plane0_roi3``)."""
    return [str(n) for n in ds["neuron"].values if not is_roi_name(n)]


def behavior_names(ds: xr.Dataset) -> list[str]:
    """Behaviour variable names without the ``behavior_`` prefix."""
    return [str(v)[len(BEHAVIOR_PREFIX):] for v in ds.data_vars if str(v).startswith(BEHAVIOR_PREFIX)]
