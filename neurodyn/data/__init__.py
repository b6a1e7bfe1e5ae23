"""Recordings: the data contract, readers, cohort alignment, preprocessing, synthetic data.

>>> from neurodyn.data import read_recording, build_cohort
>>> rec = read_recording("data/flavell2023/2022-07-27-31.nc")        # doctest: +SKIP
>>> cohort = build_cohort([rec, other], min_animals=2)                 # doctest: +SKIP
"""

from neurodyn.data.cohort import build_cohort, load_cohort, validate_cohort
from neurodyn.data.preprocess import (
    apply_to_traces,
    calcium_to_events,
    detrend,
    gaussian_smooth,
    robust_scale,
    savgol_derivative,
    zscore,
)
from neurodyn.data.readers import FORMATS, detect_format, read_recording, write_recording
from neurodyn.data.recording import (
    behavior_names,
    identified_neurons,
    is_roi_name,
    make_recording,
    validate_recording,
)
from neurodyn.data.synthetic import spikes_to_calcium, synthetic_cohort, synthetic_recording

__all__ = [
    "FORMATS",
    "apply_to_traces",
    "behavior_names",
    "build_cohort",
    "calcium_to_events",
    "detect_format",
    "detrend",
    "gaussian_smooth",
    "identified_neurons",
    "is_roi_name",
    "load_cohort",
    "make_recording",
    "read_recording",
    "robust_scale",
    "savgol_derivative",
    "spikes_to_calcium",
    "synthetic_cohort",
    "synthetic_recording",
    "validate_cohort",
    "validate_recording",
    "write_recording",
    "zscore",
]
