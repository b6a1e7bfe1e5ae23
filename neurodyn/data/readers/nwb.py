"""Reader of NWB 2 optical physiology files.

A ``RoiResponseSeries`` (time, roi) inside a ``DfOverF`` or ``Fluorescence`` interface of a
processing module (``DfOverF`` preferred; ``series=`` picks one by name).  Time from
``timestamps`` or ``starting_time + k / rate``.  Neuron names from a text column of the
``PlaneSegmentation`` the series points to (``name_column=``, default the first of
``neuron_name``, ``label``, ``roi_name``, ``name`` that exists), else ``roi_NNN``.
``TimeSeries`` in a ``behavior`` processing module with one sample per frame become
``behavior_<name>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, check_time, check_traces, roi_name, time_from_rate
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import make_recording
from neurodyn.errors import InputFileError, InvalidInputError

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
        values = check_traces(values, source, f"{s_path}.data")
        n_time, n_roi = values.shape
        if rrs.timestamps is not None:
            time = check_time(_nwb_array(rrs.timestamps, source, f"{s_path}.timestamps"), n_time, source,
                               f"{s_path}.timestamps")
        else:
            if rrs.rate is None:
                raise InvalidInputError("neither timestamps nor rate", source=source, field=s_path)
            time = (rrs.starting_time or 0.0) + time_from_rate(n_time, rrs.rate, source)
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


READER = Reader(read=read_nwb, suffixes=(".nwb",), description="NWB 2 optical physiology (RoiResponseSeries)")
