"""Reader of CaImAn's saved results (Giovannucci et al., eLife 2019).

Layout: the HDF5 file that ``cnm.save("….hdf5")`` writes (CaImAn's
``save_dict_to_hdf5`` of the CNMF object):

- ``estimates/C`` (component, frame): denoised calcium trace of each component;
- ``estimates/YrA`` (component, frame): its residual (data minus the model, projected on
  the component);
- ``estimates/S`` (component, frame), when deconvolution ran: deconvolved activity;
- ``estimates/idx_components``: indices of the components accepted by
  ``evaluate_components`` (the string ``NoneType`` when no evaluation ran: then every
  component is kept);
- ``estimates/F_dff``, when ``detrend_df_f`` ran (else ``NoneType``);
- ``params/data/fr``: the frame rate in Hz.

Which trace
-----------
``trace="C+YrA"`` (default) is the raw trace of each component: the denoised ``C`` plus
the residual ``YrA``.  ``C`` alone is the output of a constrained autoregressive model of
the indicator (its rise and decay fitted per component); analyses of dynamics (the
differential affinities of the connectome, the autoregressive HMM-GLM) would then partly
see that model rather than the data, and ``C`` is exactly zero between the events it
detects.  ``C + YrA`` keeps what the model did not explain, which is also what CaImAn's
own ``detrend_df_f(use_residuals=True)`` starts from.  ``trace="C"`` and
``trace="F_dff"`` (CaImAn's ΔF/F, when it was computed) are available.  Units: CaImAn's
fluorescence scale (``a.u.``) for ``C``/``C+YrA``, ``dF/F`` for ``F_dff``.

``S`` becomes the variable ``deconvolved``.  Components are named ``roi_NNN`` by their
row in ``estimates/C`` (so rejected components leave gaps); the coord ``component``
repeats that index.  No CaImAn component has an identity.  Time is ``k / fr``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.readers._common import animal_from_path, check_traces, h5_read, roi_name, time_from_rate
from neurodyn.data.readers.registry import Reader
from neurodyn.data.recording import make_recording
from neurodyn.errors import InputFileError, InvalidInputError

log = logging.getLogger("neurodyn.data")

CAIMAN_CITATION = ("Giovannucci A, Friedrich J, Gunn P, et al. CaImAn an open source tool for scalable calcium "
                   "imaging data analysis. eLife 8:e38173 (2019). doi:10.7554/eLife.38173")

TRACES = ("C+YrA", "C", "F_dff")


def _is_none(value) -> bool:
    """CaImAn stores ``None`` as the string ``NoneType``."""
    value = np.asarray(value)
    if value.dtype.kind in "SUO" and value.ndim == 0:
        item = value.item()
        return (item.decode() if isinstance(item, bytes) else str(item)) == "NoneType"
    return False


def _matrix(fh, key: str, source: str, n_comp: int | None, required: bool) -> np.ndarray | None:
    data = h5_read(fh, key, source, required=required)
    if data is None or _is_none(data):
        if required:
            raise InvalidInputError("holds None (NoneType): this step did not run before cnm.save()",
                                    source=source, field=key)
        return None
    if data.ndim == 1:  # a single component
        data = data[None, :]
    if data.ndim != 2 or (n_comp is not None and data.shape[0] != n_comp):
        want = f"({n_comp}, frames) like estimates/C" if n_comp is not None else "(component, frame)"
        raise InvalidInputError(f"shape {data.shape}; expected {want}", source=source, field=key)
    if data.dtype.kind not in "iuf":
        raise InvalidInputError(f"dtype {data.dtype}; expected real numbers", source=source, field=key)
    return data


def read_caiman(
    path: str | os.PathLike,
    *,
    trace: str = "C+YrA",
    sampling_rate_hz: float | None = None,
    animal: str | None = None,
) -> xr.Dataset:
    """Read the accepted components of a CaImAn HDF5 (layout and trace choice in the module doc).

    Parameters
    ----------
    path : the ``.hdf5`` written by ``cnm.save``.
    trace : ``"C+YrA"`` (default), ``"C"`` or ``"F_dff"``.
    sampling_rate_hz : frame rate in Hz, only for files without ``params/data/fr``; when
        both are given they must agree.
    animal : animal id; default the file stem.

    Returns
    -------
    Recording with ``traces`` (time, neuron), optional ``deconvolved`` (from ``S``).
    """
    import h5py

    path = Path(path)
    source = str(path)
    if trace not in TRACES:
        raise InvalidInputError(f"{trace!r}; expected one of {list(TRACES)}", source=source, field="trace")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InputFileError(f"cannot open as HDF5 (truncated or not an HDF5 file): {exc}", source=source) from None
    with fh:
        if "estimates" not in fh:
            raise InputFileError("no 'estimates' group; expected the HDF5 that CaImAn's cnm.save() writes",
                                 source=source, field="estimates")
        c = _matrix(fh, "estimates/C", source, None, required=True)
        n_comp, n_time = c.shape
        yra = _matrix(fh, "estimates/YrA", source, n_comp, required=trace == "C+YrA")
        dff = _matrix(fh, "estimates/F_dff", source, n_comp, required=trace == "F_dff")
        s = _matrix(fh, "estimates/S", source, n_comp, required=False)
        for key, arr in (("estimates/YrA", yra), ("estimates/F_dff", dff), ("estimates/S", s)):
            if arr is not None and arr.shape[1] != n_time:
                raise InvalidInputError(f"{arr.shape[1]} frames; expected {n_time} like estimates/C", source=source,
                                        field=key)
        idx = h5_read(fh, "estimates/idx_components", source, required=False)
        fr = h5_read(fh, "params/data/fr", source, required=False)
    if idx is None or _is_none(idx):
        keep = np.arange(n_comp)
    else:
        idx = np.asarray(idx).reshape(-1)
        if idx.dtype.kind not in "iu" or idx.size == 0 or idx.min() < 0 or idx.max() >= n_comp \
                or np.unique(idx).size != idx.size:
            raise InvalidInputError(f"{idx[:8].tolist()} (dtype {idx.dtype}); expected distinct 0-based component "
                                    f"indices below {n_comp}", source=source, field="estimates/idx_components")
        keep = np.sort(idx)
    file_rate = None if fr is None or _is_none(fr) else fr
    if file_rate is not None:
        file_rate = np.asarray(file_rate)
        if file_rate.size != 1 or file_rate.dtype.kind not in "iuf" or not np.isfinite(file_rate).all() \
                or float(file_rate.reshape(-1)[0]) <= 0:
            raise InvalidInputError(f"{file_rate!r}; expected one positive frame rate in Hz", source=source,
                                    field="params/data/fr")
        file_rate = float(file_rate.reshape(-1)[0])
        if sampling_rate_hz is not None and not np.isclose(float(sampling_rate_hz), file_rate):
            raise InvalidInputError(f"{sampling_rate_hz!r} Hz given, but params/data/fr in the file says "
                                    f"{file_rate} Hz", source=source, field="sampling_rate_hz")
    rate = file_rate if file_rate is not None else sampling_rate_hz
    if rate is None:
        raise InvalidInputError("no frame rate: params/data/fr is missing or None; set sampling_rate_hz (Hz) in "
                                "the dataset config, or pass sampling_rate_hz=", source=source,
                                field="params/data/fr")
    time = time_from_rate(n_time, rate, source)
    values = {"C+YrA": (c + yra) if yra is not None else None, "C": c, "F_dff": dff}[trace]
    values = check_traces(values[keep].T, source, {"C+YrA": "estimates/C + estimates/YrA", "C": "estimates/C",
                                                   "F_dff": "estimates/F_dff"}[trace])
    ds = make_recording(
        values, time, [roi_name(k) for k in keep], animal=animal or animal_from_path(path), source=source,
        units="dF/F" if trace == "F_dff" else "a.u. (CaImAn fluorescence scale)", citation=CAIMAN_CITATION,
        sampling_rate_hz=float(np.asarray(rate).item()),
        attrs={"reader": "caiman", "caiman_trace": trace, "components_total": int(n_comp),
               "components_rejected": int(n_comp - keep.size)},
    )
    if s is not None:
        ds["deconvolved"] = (("time", "neuron"), s[keep].T.astype(np.float64))
        ds["deconvolved"].attrs["source_field"] = "estimates/S"
    return ds.assign_coords(component=("neuron", keep.astype(np.int64)))


def _detect(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as fh:
        return "estimates" in fh and "C" in fh["estimates"]


READER = Reader(read=read_caiman, suffixes=(".hdf5", ".h5"), detect=_detect,
                description="CaImAn cnm.save() HDF5 (estimates/C, YrA, S, idx_components; params/data/fr)")
