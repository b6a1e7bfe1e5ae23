"""Cohort alignment: shared neuron names, NaN for missing neurons, min_animals, resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurodyn.data import build_cohort, identified_neurons, load_cohort, make_recording, read_recording
from neurodyn.data.cohort import common_time_grid, interpolate_linear, interpolate_nearest
from neurodyn.io import write_netcdf

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "flavell2023"


def rec(animal, names, n_time=50, rate=2.0, t0=0.0, seed=0, behavior=None, time=None):
    rng = np.random.default_rng(seed)
    time = t0 + np.arange(n_time) / rate if time is None else time
    return make_recording(rng.normal(size=(len(time), len(names))), time, names, animal=animal,
                          source=f"{animal}.nc", citation=f"cite {animal}", behavior=behavior)


def test_alignment_nan_for_missing_neurons():
    a = rec("a", ["AVAL", "RIML", "roi_000"], seed=1)
    b = rec("b", ["RIML", "AIBL"], seed=2)
    c = rec("c", ["AVAL", "AIBL", "RIML"], seed=3)
    cohort = build_cohort([a, b, c])
    assert cohort["traces"].dims == ("animal", "time", "neuron")
    assert cohort["traces"].dtype == np.float32
    assert list(cohort["animal"].values) == ["a", "b", "c"]
    assert list(cohort["neuron"].values) == ["AIBL", "AVAL", "RIML", "a/roi_000"]
    np.testing.assert_array_equal(cohort["present"].values, [[False, True, True, True],
                                                             [True, False, True, False],
                                                             [True, True, True, False]])
    # same clock everywhere: values are the recordings' own (float32), NaN where absent
    np.testing.assert_allclose(cohort["traces"].sel(animal="b", neuron="RIML").values,
                               b["traces"].sel(neuron="RIML").values, rtol=1e-6)
    np.testing.assert_allclose(cohort["traces"].sel(animal="a", neuron="a/roi_000").values,
                               a["traces"].sel(neuron="roi_000").values, rtol=1e-6)
    assert np.isnan(cohort["traces"].sel(animal="b", neuron="AVAL")).all()
    assert np.isnan(cohort["traces"].sel(animal="a", neuron="AIBL")).all()
    np.testing.assert_allclose(cohort["time"].values, np.arange(50) / 2.0)
    assert cohort.attrs["sampling_rate_hz"] == 2.0 and cohort.attrs["min_animals"] == 1
    assert cohort.attrs["sources"] == "a.nc; b.nc; c.nc"
    assert cohort.attrs["citation"] == "cite a; cite b; cite c"


@pytest.mark.parametrize("k, expected", [(1, ["AIBL", "AVAL", "RIML", "a/roi_000", "b/roi_000"]),
                                         (2, ["AIBL", "AVAL", "RIML"]), (3, ["RIML"])])
def test_min_animals(k, expected):
    recs = [rec("a", ["AVAL", "RIML", "roi_000"]), rec("b", ["RIML", "AIBL", "roi_000"]),
            rec("c", ["AVAL", "AIBL", "RIML"])]
    cohort = build_cohort(recs, min_animals=k)
    assert list(cohort["neuron"].values) == expected
    assert (cohort["present"].sum("animal").values >= k).all()


def test_resampling_known_sinusoid():
    freq = 0.1
    t_a = np.arange(200) / 2.0                      # 2 Hz, 99.5 s
    t_b = 3.3 + np.arange(400) / 5.0                # 5 Hz, starts at 3.3 s, 79.8 s long
    rng = np.random.default_rng(0)
    t_c = np.cumsum(rng.uniform(0.25, 0.35, 300))   # irregular clock around 3.3 Hz
    recs = []
    for animal, t in (("a", t_a), ("b", t_b), ("c", t_c)):
        rel = t - t[0]
        recs.append(make_recording(np.column_stack([np.sin(2 * np.pi * freq * rel), np.cos(2 * np.pi * freq * rel)]),
                                   t, ["S", "C"], animal=animal))
    cohort = build_cohort(recs)
    shortest = min(t_b[-1] - t_b[0], t_a[-1], t_c[-1] - t_c[0])
    assert cohort.attrs["sampling_rate_hz"] == 2.0                      # the lowest rate
    assert cohort["time"].values[0] == 0.0
    np.testing.assert_allclose(np.diff(cohort["time"].values), 0.5)
    assert cohort.sizes["time"] == int(np.floor(shortest * 2.0)) + 1
    grid = cohort["time"].values
    # linear-interpolation error bound h^2/8 max|f''| with the largest sample spacing h
    bound = 0.35**2 / 8 * (2 * np.pi * freq) ** 2 + 1e-6
    for animal in "abc":
        np.testing.assert_allclose(cohort["traces"].sel(animal=animal, neuron="S"), np.sin(2 * np.pi * freq * grid),
                                   atol=bound)
        np.testing.assert_allclose(cohort["traces"].sel(animal=animal, neuron="C"), np.cos(2 * np.pi * freq * grid),
                                   atol=bound)
    # an explicit faster common rate upsamples every animal
    fast = build_cohort(recs, sampling_rate_hz=4.0)
    np.testing.assert_allclose(np.diff(fast["time"].values), 0.25)
    np.testing.assert_allclose(fast["traces"].sel(animal="a", neuron="S"), np.sin(2 * np.pi * freq * fast["time"]),
                               atol=0.5**2 / 8 * (2 * np.pi * freq) ** 2 + 1e-6)


def test_behaviour_resampling_binary_nearest_continuous_linear():
    t_a = np.arange(40) / 2.0
    t_b = np.arange(100) / 5.0
    rev_b = ((t_b > 4.1) & (t_b < 9.0)).astype(float)
    a = rec("a", ["X"], time=t_a, behavior={"reversal": (t_a > 4).astype(np.int8), "velocity": t_a * 2,
                                           "body_angle": np.zeros((40, 3)), "pumping": np.ones(40)})
    b = rec("b", ["X"], time=t_b, behavior={"reversal": rev_b, "velocity": t_b * 2, "body_angle": np.zeros((100, 3))})
    cohort = build_cohort([a, b])
    assert set(v for v in cohort.data_vars if v.startswith("behavior_")) == {"behavior_reversal", "behavior_velocity"}
    assert cohort["behavior_reversal"].dims == ("animal", "time")
    assert cohort["behavior_reversal"].dtype == np.int8
    grid = cohort["time"].values
    np.testing.assert_array_equal(cohort["behavior_reversal"].sel(animal="b"), ((grid > 4.1) & (grid < 9.0)))
    np.testing.assert_allclose(cohort["behavior_velocity"].sel(animal="b"), grid * 2, rtol=1e-6)


def test_interpolation_helpers():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    x = np.array([[0.0], [np.nan], [2.0], [3.0]])
    out = interpolate_linear(t, x, np.array([0.0, 0.5, 2.0, 2.5, 3.0]))[:, 0]
    np.testing.assert_array_equal(out[[0, 2, 3, 4]], [0.0, 2.0, 2.5, 3.0])   # NaN stays in its own intervals
    assert np.isnan(out[1])
    np.testing.assert_array_equal(interpolate_nearest(t, np.array([0, 1, 0, 1]), np.array([0.4, 0.6, 2.5, 3.0])),
                                  [0, 1, 0, 1])
    np.testing.assert_allclose(common_time_grid([10.0, 2.0], 2.0), [0.0, 0.5, 1.0, 1.5, 2.0])


def test_bundled_worms_cohort_and_round_trip(tmp_path):
    recs = [read_recording(BUNDLED / f"{uid}.nc") for uid in ("2022-07-27-31", "2022-08-02-31")]
    shared = set(identified_neurons(recs[0])) & set(identified_neurons(recs[1]))
    cohort = build_cohort(recs, min_animals=2)
    assert list(cohort["neuron"].values) == sorted(shared) and len(shared) == 81
    assert cohort["present"].values.all() and not np.isnan(cohort["traces"].values).any()
    assert {"behavior_velocity", "behavior_reversal", "behavior_head_angle"} <= set(cohort.data_vars)
    assert "Dag" in cohort.attrs["citation"]
    path = write_netcdf(cohort, tmp_path / "cohort.nc")
    back = load_cohort(path)
    assert back["present"].dtype == bool and back["traces"].dtype == np.float32
    np.testing.assert_array_equal(back["traces"].values, cohort["traces"].values)
    assert list(back["neuron"].values) == list(cohort["neuron"].values)
    everyone = build_cohort(recs, min_animals=1)
    n_roi = sum(r.sizes["neuron"] - len(identified_neurons(r)) for r in recs)
    assert everyone.sizes["neuron"] == len(set(identified_neurons(recs[0])) | set(identified_neurons(recs[1]))) + n_roi
