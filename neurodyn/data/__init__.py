"""Recordings: the data contract, readers, cohort alignment, preprocessing, synthetic data.

>>> from neurodyn.data import read_recording, build_cohort
>>> rec = read_recording("data/flavell2023/2022-07-27-31.nc")        # doctest: +SKIP
>>> cohort = build_cohort([rec, other], min_animals=2)                 # doctest: +SKIP
"""

from neurodyn.data.cohort import build_cohort, load_cohort, validate_cohort
from neurodyn.data.preprocess import detrend, savgol_derivative, zscore
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
    "behavior_names",
    "build_cohort",
    "detect_format",
    "detrend",
    "identified_neurons",
    "is_roi_name",
    "load_cohort",
    "make_recording",
    "read_recording",
    "savgol_derivative",
    "spikes_to_calcium",
    "synthetic_cohort",
    "synthetic_recording",
    "validate_cohort",
    "validate_recording",
    "write_recording",
    "zscore",
]
