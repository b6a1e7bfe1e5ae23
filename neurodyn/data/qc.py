"""Per-animal quality-control numbers for ingested recordings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.data.cohort import cohort_neuron_name
from neurodyn.data.recording import identified_neurons, validate_recording

QC_COLUMNS = ("animal", "neurons", "identified_neurons", "duration_s", "sampling_rate_hz", "n_frames",
              "nan_fraction", "neurons_in_cohort", "behaviors", "source")


def recording_qc(recordings: Sequence[xr.Dataset], cohort: xr.Dataset | None = None) -> pd.DataFrame:
    """One row per animal: what was recorded and how much of it made it into the cohort.

    Columns: ``animal``, ``neurons`` (ROIs), ``identified_neurons`` (named, not
    ``roi_NNN``), ``duration_s`` (last − first frame), ``sampling_rate_hz``, ``n_frames``,
    ``nan_fraction`` (of trace entries), ``neurons_in_cohort`` (this animal's neurons
    that are in ``cohort``; NaN without a cohort), ``behaviors`` (names, ``;``-joined),
    ``source`` (the file the Recording was ingested from: the first entry of
    ``derived_from`` when present, else ``source``).
    """
    rows = []
    cohort_names = set(map(str, cohort["neuron"].values)) if cohort is not None else None
    for rec in recordings:
        rec = validate_recording(rec)
        animal = str(rec.attrs["animal"])
        names = [str(n) for n in rec["neuron"].values]
        time = rec["time"].values
        traces = rec["traces"].values
        in_cohort = (sum(cohort_neuron_name(animal, n) in cohort_names for n in names)
                     if cohort_names is not None else np.nan)
        rows.append({
            "animal": animal,
            "neurons": len(names),
            "identified_neurons": len(identified_neurons(rec)),
            "duration_s": float(time[-1] - time[0]),
            "sampling_rate_hz": float(rec.attrs["sampling_rate_hz"]),
            "n_frames": int(time.size),
            "nan_fraction": float(np.isnan(traces).mean()),
            "neurons_in_cohort": in_cohort,
            "behaviors": ";".join(str(v)[len("behavior_"):] for v in rec.data_vars if str(v).startswith("behavior_")),
            "source": str(rec.attrs.get("derived_from") or rec.attrs["source"]).split(" <- ")[0],
        })
    return pd.DataFrame(rows, columns=list(QC_COLUMNS))
