"""Property-based tests of the Recording validator: every malformed input ends in the
project's own error type with a message naming the field, never a deep traceback and
never a silently wrong Recording."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurodyn.data.recording import make_recording, validate_recording
from neurodyn.errors import InvalidInputError, NeurodynError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

float_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=12),
    elements=st.one_of(st.floats(-1e6, 1e6, width=32), st.sampled_from([np.nan, np.inf, -np.inf])),
)


def _names(n):
    return [f"roi_{i:03d}" for i in range(n)]


@SETTINGS
@given(traces=float_arrays)
def test_validator_accepts_exactly_the_valid_arrays(traces):
    n_time, n_neuron = traces.shape
    has_inf = bool(np.isinf(traces).any())
    all_nan_cols = bool(np.isnan(traces).all(axis=0).any())
    try:
        ds = make_recording(traces, np.arange(n_time) * 0.5, _names(n_neuron), animal="w", source="fuzz.nc",
                            dtype=traces.dtype)
    except InvalidInputError as exc:
        assert has_inf or all_nan_cols
        assert "fuzz.nc" in str(exc) and "traces" in str(exc)
        return
    assert not has_inf and not all_nan_cols
    np.testing.assert_array_equal(ds["traces"].values, traces)
    assert ds.attrs["sampling_rate_hz"] == pytest.approx(2.0)


@SETTINGS
@given(time=hnp.arrays(np.float64, st.integers(2, 30), elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan))))
def test_time_must_be_finite_and_strictly_increasing(time):
    traces = np.zeros((time.size, 2))
    ok = bool(np.all(np.isfinite(time)) and np.all(np.diff(time) > 0))
    if ok:
        ds = make_recording(traces, time, ["a", "b"], animal="w", source="t.nc")
        np.testing.assert_array_equal(ds["time"].values, time)
    else:
        with pytest.raises(InvalidInputError, match=r"t\.nc: field 'time'"):
            make_recording(traces, time, ["a", "b"], animal="w", source="t.nc")


@SETTINGS
@given(names=st.lists(st.sampled_from(["AVAL", "AVAR", "", " ", "roi_001"]), min_size=1, max_size=6))
def test_neuron_names_must_be_unique_and_non_empty(names):
    traces = np.zeros((3, len(names)))
    ok = len(set(names)) == len(names) and all(n.strip() for n in names)
    if ok:
        assert list(make_recording(traces, [0, 1, 2], names, animal="w")["neuron"].values) == names
    else:
        with pytest.raises(InvalidInputError, match="field 'neuron'"):
            make_recording(traces, [0, 1, 2], names, animal="w")


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=5))
def test_wrong_shapes_are_refused_with_the_shape_in_the_message(shape):
    arr = np.zeros(shape)
    if arr.ndim == 2 and shape[0] >= 2 and shape[1] >= 1:
        return
    with pytest.raises(InvalidInputError) as info:
        make_recording(arr, np.arange(shape[0] if arr.ndim else 1), _names(shape[1] if arr.ndim > 1 else 1),
                       animal="w", source="s.npz")
    assert "s.npz" in str(info.value)


def _valid():
    return make_recording(np.ones((4, 2)), [0.0, 1.0, 2.0, 3.0], ["A", "B"], animal="w", source="v.nc",
                          behavior={"velocity": np.zeros(4)})


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda ds: ds.drop_vars("traces"), "traces"),
        (lambda ds: ds.assign(traces=ds["traces"].astype(int)), "traces"),
        (lambda ds: ds.assign(traces=ds["traces"].transpose()), "traces"),
        (lambda ds: ds.assign(junk=("time", np.zeros(4))), "junk"),
        (lambda ds: ds.assign(behavior_bad=("neuron", np.zeros(2))), "behavior_bad"),
        (lambda ds: ds.assign_attrs(sampling_rate_hz=-1.0), "sampling_rate_hz"),
        (lambda ds: ds.assign_attrs(sampling_rate_hz="fast"), "sampling_rate_hz"),
        (lambda ds: xr.Dataset(ds.data_vars, coords=ds.coords, attrs={"source": "v.nc"}), "animal"),
    ],
)
def test_validator_names_the_field(mutate, field):
    with pytest.raises(InvalidInputError, match=f"v.nc: field '{field}'") as info:
        validate_recording(mutate(_valid()))
    assert isinstance(info.value, NeurodynError) and isinstance(info.value, ValueError)


def test_validator_refuses_non_datasets():
    with pytest.raises(InvalidInputError, match="expected an xarray.Dataset, got ndarray"):
        validate_recording(np.zeros((3, 3)))
