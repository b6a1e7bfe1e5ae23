"""Property-based checks of the cohort builder and its interpolation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodyn.data import build_cohort, make_recording
from neurodyn.data.cohort import interpolate_linear

NAMES = ["AVAL", "AVAR", "RIML", "AIBL", "SMDVR", "roi_000", "roi_001"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True), min_size=1, max_size=4),
       st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_cohort_membership_and_values(subsets, k, seed):
    k = min(k, len(subsets))
    rng = np.random.default_rng(seed)
    recs = [make_recording(rng.normal(size=(12, len(names))), np.arange(12) / 2.0, names, animal=f"a{i}")
            for i, names in enumerate(subsets)]
    local = [[f"a{i}/{n}" if n.startswith("roi_") else n for n in names] for i, names in enumerate(subsets)]
    counts = {n: sum(n in names for names in local) for names in local for n in names}
    expected = sorted(n for n, c in counts.items() if c >= k)
    if not expected:
        return
    cohort = build_cohort(recs, min_animals=k)
    assert list(cohort["neuron"].values) == expected
    for i, names in enumerate(local):
        for j, n in enumerate(expected):
            here = n in names
            assert bool(cohort["present"].values[i, j]) == here
            column = cohort["traces"].values[i, :, j]
            if here:
                np.testing.assert_allclose(column, recs[i]["traces"].values[:, names.index(n)], rtol=1e-6)
            else:
                assert np.isnan(column).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.05, 2.0), min_size=2, max_size=30), st.floats(-5, 5), st.floats(-5, 5))
def test_linear_interpolation_is_exact_on_lines(steps, slope, intercept):
    time = np.concatenate([[0.0], np.cumsum(steps)])
    grid = np.linspace(0.0, time[-1], 17)
    out = interpolate_linear(time, slope * time + intercept, grid)
    np.testing.assert_allclose(out, slope * grid + intercept, atol=1e-9)
