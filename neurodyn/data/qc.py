"""Per-animal quality-control numbers for ingested recordings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.data.cohort import cohort_neuron_name, has_identities
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


#: scope of the analyses of one dataset: one row per step (see :func:`analysis_scope`).
SCOPE_COLUMNS = ("step", "status", "detail")
STATES_NEED = ("brain states are fitted leave-one-worm-out (neurodyn.states.real.analyse_cohort) on at least 2 "
               "animals with identified neurons and reversal behaviour; one animal, or animals without identities, "
               "are validated in time instead (neurodyn.states.real.analyse_single_animal)")


def analysis_scope(cohort: xr.Dataset, *, states: bool = True) -> pd.DataFrame:
    """Which steps run on a dataset, and which cross-animal or identity-based steps are skipped.

    Parameters
    ----------
    cohort : a cohort (``neurodyn.data.build_cohort``).
    states : whether the dataset is listed for the brain-state analysis of recorded data.

    Returns
    -------
    DataFrame with columns ``step``, ``status`` (``run``, ``run (one animal)``,
    ``skipped`` or ``not possible``) and ``detail``.
    """
    animals = [str(a) for a in cohort["animal"].values]
    one = len(animals) == 1
    identities = has_identities(cohort)
    n_identified = sum("/" not in str(n) for n in cohort["neuron"].values) if identities else 0
    rows = [
        ("cohort: align animals on a common clock",
         "run (one animal)" if one else "run",
         f"one animal ({animals[0]}): nothing to align, the cohort is its recording" if one
         else f"{len(animals)} animals"),
        ("cohort: match neurons across animals by identity",
         "skipped" if one or not identities else "run",
         "skipped: one animal" if one else
         (f"{n_identified} identified neurons in at least {cohort.attrs['min_animals']} animals" if identities else
          "skipped: no neuron identities; every ROI stays local to its animal (<animal>/<roi>)")),
        ("quality control", "run", f"{cohort.sizes['neuron']} neurons in the cohort"),
        ("connectome: NTF of pair × window × animal affinities",
         "run (one animal)" if one else "run",
         "one animal: every component's animal loading is 1, components describe this animal only" if one
         else f"animal factor over {len(animals)} animals"),
    ]
    missing = [why for why, bad in (("one animal", one), ("no identified neurons", not identities),
                                    ("no reversal behaviour", "behavior_reversal" not in cohort)) if bad]
    step = "states: HMM-GLM of the recorded animals"
    if not states:
        rows.append((step, "skipped", f"not listed in states.real.datasets ({STATES_NEED})"))
    elif (one or not identities) and len(animals) > 1:
        rows.append((step, "not possible",
                     f"{len(animals)} animals without neuron identities: the one-animal states analysis takes one "
                     f"animal per dataset; list each animal as its own dataset"))
    elif one or not identities:
        skips = [what for what, bad in (("AMI with reversals (no reversal behaviour)",
                                         "behavior_reversal" not in cohort),
                                        ("anatomy AUROCs (no identified neurons)", not identities)) if bad]
        rows.append((step, "run (one animal)",
                     f"{', '.join(missing)}: validated in time on this animal (fit on the first part of the "
                     f"recording, scored on the rest) instead of leave-one-worm-out"
                     + (f"; skipped: {'; '.join(skips)}" if skips else "")))
    elif "behavior_reversal" not in cohort:
        rows.append((step, "not possible", f"no reversal behaviour: {STATES_NEED}; the states rule stops with "
                     f"this reason, remove the dataset from states.real.datasets"))
    else:
        rows.append((step, "run", f"leave-one-worm-out over {len(animals)} animals"))
    return pd.DataFrame(rows, columns=list(SCOPE_COLUMNS))
