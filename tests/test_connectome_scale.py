"""Mouse scale: the chain's steps hold no (W, N, N) stacks or full-size bool masks they do
not need, say how far they are, and are planned before they start."""

import logging
import time
import tracemalloc

import numpy as np
import pytest
import xarray as xr

from neurodyn.connectome.affinity import pair_coverage, window_affinities, window_bounds, windowed_affinity
from neurodyn.connectome.chain import community_step, model_step, rank_step
from neurodyn.connectome.communities import component_communities
from neurodyn.connectome.crossval import PackedMask, cv_fit, guard_mask, heldout_mask, rank_sweep
from neurodyn.connectome.memory import (GIB, HEADROOM, chain_memory_plan, check_chain_memory,
                                        connectome_memory_plan)
from neurodyn.connectome.tensor import affinity_tensor, pair_index
from neurodyn.errors import MemoryBudgetError
from neurodyn.progress import Heartbeat, Progress


def _cohort(n_animals=2, n_time=600, n_neurons=12, seed=0, gaps=True):
    rng = np.random.default_rng(seed)
    drive = rng.normal(size=(n_animals, n_time, 3)).cumsum(axis=1)
    groups = np.arange(n_neurons) % 3
    x = drive[:, :, groups] + rng.normal(size=(n_animals, n_time, n_neurons))
    if gaps:
        x[0, 100:160, 2] = np.nan
        x[1, :, 5] = np.nan
    return xr.Dataset({"traces": (("animal", "time", "neuron"), x)},
                      coords={"animal": [f"a{i}" for i in range(n_animals)],
                              "neuron": [f"n{i}" for i in range(n_neurons)]},
                      attrs={"sampling_rate_hz": 5.0})


def _reference_tensor(cohort, method, chance, **params):
    """The tensor as it was assembled from the whole (W, N, N) stacks."""
    fs = cohort.attrs["sampling_rate_hz"]
    traces = np.asarray(cohort["traces"].values, dtype=np.float64)
    present = ~np.isnan(traces).all(axis=1)
    n_animals, n_time, n = traces.shape
    windows = window_bounds(n_time, fs, 40.0, 20.0)
    ii, jj = pair_index(n)
    out = np.zeros((len(windows), n_animals, ii.size))
    for a in range(n_animals):
        keep = np.flatnonzero(present[a])
        local = np.full(n, -1)
        local[keep] = np.arange(keep.size)
        pairs = np.flatnonzero(present[a, ii] & present[a, jj])
        li, lj = local[ii[pairs]], local[jj[pairs]]
        x = traces[a][:, keep]
        extra = {"chance": "independent"} if chance == "independent" and method != "correlation" else {}
        vals = windowed_affinity(x, fs, windows, method, **params, **extra)[:, li, lj]
        observed = pair_coverage(x, windows)[:, li, lj] >= 0.5 - 1e-12
        out[:, a, pairs] = np.where(observed, vals, 0.0)
    return out


@pytest.mark.parametrize("method", ["windowed_cosine", "differential", "correlation"])
def test_tensor_built_window_by_window_equals_the_stacked_build(method):
    cohort = _cohort()
    params = {} if method == "correlation" else {"smooth_s": 1.0, "saturation": None}
    aff = affinity_tensor(cohort, method=method, dtype="float64")
    ref = _reference_tensor(cohort, method, "independent", **params)
    np.testing.assert_allclose(aff["affinity"].values, ref, rtol=0, atol=1e-13)
    assert aff["affinity"].dtype == np.float64
    assert affinity_tensor(cohort, method=method)["affinity"].dtype == np.float32


def test_all_tracked_windows_match_the_formulas_pair_by_pair():
    """An all-tracked window takes column sums where a window with gaps takes GEMMs; both
    give the module doc's formulas, written out pair by pair."""
    from neurodyn.connectome.affinity import robust_derivative

    x = _cohort(n_animals=1, n_neurons=6, gaps=False)["traces"].values[0]
    windows = window_bounds(x.shape[0], 5.0, 40.0, 20.0)
    g = robust_derivative(x, 5.0, 1.0)
    a, b = windows[1]
    gw = g[a:b]
    gp, gm = np.maximum(gw, 0), np.maximum(-gw, 0)
    cos = np.stack(list(window_affinities(x, 5.0, windows, "windowed_cosine", chance="independent")))[1]
    diff = np.stack(list(window_affinities(x, 5.0, windows, "differential", chance="independent")))[1]
    n = b - a
    for i in range(6):
        for j in range(6):
            num = (gp[:, i] * gp[:, j] + gm[:, i] * gm[:, j]).sum()
            chance = (gp[:, i].sum() * gp[:, j].sum() + gm[:, i].sum() * gm[:, j].sum()) / n
            ref = (num - chance) / np.sqrt((gw[:, i] ** 2).sum() * (gw[:, j] ** 2).sum())
            assert np.isclose(cos[i, j], ref, rtol=1e-12, atol=1e-14)
            ref_d = num / n - (gp[:, i].mean() * gp[:, j].mean() + gm[:, i].mean() * gm[:, j].mean())
            assert np.isclose(diff[i, j], ref_d, rtol=1e-12, atol=1e-14)
    # a window with a gap goes through the GEMMs and still equals the stacked function
    y = x.copy()
    y[a + 5, 0] = np.nan
    gen = np.stack(list(window_affinities(y, 5.0, windows, "windowed_cosine", chance="independent")))
    np.testing.assert_array_equal(gen, windowed_affinity(y, 5.0, windows, "windowed_cosine",
                                                         chance="independent"))


def test_affinity_build_holds_no_window_stack():
    from neurodyn.connectome.memory import tensor_stages

    n, n_time = 400, 1000
    cohort = _cohort(n_animals=1, n_time=n_time, n_neurons=n, gaps=False)
    w = len(window_bounds(n_time, 5.0, 4.0, 2.0))
    tracemalloc.start()
    try:
        aff = affinity_tensor(cohort, window_s=4.0, stride_s=2.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    stack = w * n * n * 8
    assert aff["affinity"].shape == (w, 1, n * (n - 1) // 2)
    assert peak < stack  # the build held two float64 (W, N, N) stacks before
    assert peak <= tensor_stages(w, 1, n, n_time=n_time)["affinity"] + 2 * aff.sizes["pair"] * 4 * 4


def test_packed_heldout_sets_round_trip():
    rng = np.random.default_rng(0)
    observed = rng.random((13, 2, 301)) > 0.2
    held = heldout_mask(observed, 0.2, random_state=3, block=4)
    packed = PackedMask(held)
    assert packed.shape == held.shape and packed.nbytes <= held.nbytes // 8 + 13
    np.testing.assert_array_equal(packed.unpack(), held)
    np.testing.assert_array_equal(packed[4:9], held[4:9])
    # the no-mask sweep draws from an all-observed broadcast view: same sets as from an array
    ones = np.broadcast_to(np.ones((1, 1, 1), bool), held.shape)
    np.testing.assert_array_equal(heldout_mask(ones, 0.2, random_state=3, block=4),
                                  heldout_mask(np.ones(held.shape, bool), 0.2, random_state=3, block=4))


def test_cv_fit_takes_packed_sets_and_builds_the_same_training_set():
    rng = np.random.default_rng(1)
    x = (rng.random((20, 2, 3)) @ rng.random((3, 200)) / 3).astype(np.float32)
    observed = rng.random(x.shape) > 0.1
    held = heldout_mask(observed, 0.15, random_state=0, block=3)
    a = cv_fit(x, 2, heldout=held, mask=observed, guard=1, max_iter=40, random_state=0)
    b = cv_fit(x, 2, heldout=PackedMask(held), mask=observed, guard=1, max_iter=40, random_state=0)
    assert a.train_error == b.train_error and a.test_error == b.test_error
    # the guard removed what guard_mask names, and nothing else
    train = observed & ~held & ~guard_mask(held, 1)
    c = cv_fit(x, 2, heldout=held | (observed & ~train & ~held), mask=observed, guard=0, max_iter=40,
               random_state=0)
    assert np.isclose(a.train_error, c.train_error, rtol=1e-5)


def test_progress_reports_time_left_with_a_fake_clock(caplog):
    now = [0.0]
    log = logging.getLogger("neurodyn.test_progress")
    with caplog.at_level(logging.INFO, logger="neurodyn.test_progress"):
        bar = Progress(10, "affinity windows", every_s=30.0, min_s=0.0, clock=lambda: now[0], log=log)
        for _ in range(10):
            now[0] += 12.0  # 12 s per window: a line every 30 s
            bar.update(1)
        bar.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4  # at 36, 72 and 108 s (30 s apart at least), and the final line
    assert lines[0].startswith("affinity windows [") and "3/10" in lines[0] and "~1m24s left" in lines[0]
    assert "10/10" in lines[-1] and "left" not in lines[-1]


def test_heartbeat_logs_a_call_without_progress_hooks(caplog):
    with caplog.at_level(logging.INFO, logger="neurodyn.test_heartbeat"):
        log = logging.getLogger("neurodyn.test_heartbeat")
        with Heartbeat("communities (sbm): component 1, 2 of 3", every_s=0.05, expected_s=10.0, log=log) as hb:
            time.sleep(0.3)
        assert hb.beats >= 2
        with Heartbeat("quick", every_s=5.0, log=log):
            pass
    lines = [r.getMessage() for r in caplog.records]
    assert all(line.startswith("communities (sbm): component 1, 2 of 3: running for") for line in lines)
    assert "s left (estimate)" in lines[0] and len(lines) == hb.beats


def test_rank_sweep_logs_each_replicate_with_time_left(caplog, monkeypatch):
    import neurodyn.connectome.crossval as crossval

    monkeypatch.setattr(crossval, "SWEEP_QUIET_S", 0.0)
    rng = np.random.default_rng(0)
    x = (rng.random((20, 1, 2)) @ rng.random((2, 300))).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="neurodyn.connectome"):
        with pytest.warns(UserWarning):
            rank_sweep(x, ranks=(1, 2), restarts=2, max_iter=20, max_rank=None)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("neurodyn.connectome")]
    assert any("rank sweep fits [" in m and "1/4" in m and "left" in m for m in lines), lines
    assert any("4/4" in m for m in lines)


def test_community_step_equals_one_call_and_logs_per_component(caplog):
    cohort = _cohort(n_animals=1, n_time=1500, n_neurons=15, gaps=False)
    aff = affinity_tensor(cohort)
    sweep = rank_step(aff, rank={"ranks": (1, 2), "restarts": 1, "max_rank": None}, ntf={"max_iter": 50})
    model = model_step(sweep, aff)
    keep = ~model["background"].values
    with caplog.at_level(logging.INFO, logger="neurodyn.connectome"):
        table = community_step(model, every_s=0.0)
    ref = component_communities(model.isel(component=np.flatnonzero(keep)))
    assert table.equals(ref)
    assert set(table.attrs["time_s"]) == set(model["component"].values[keep].tolist())
    # the workflow passes the SBM's own `model` keyword through (config connectome.communities.model)
    assert community_step(model, every_s=0.0, model="nested", weight_model="auto").equals(ref)
    if keep.any():
        assert any("communities (leiden_dl): component" in r.getMessage() for r in caplog.records)


def test_chain_plan_refuses_the_mouse_size_that_does_not_fit():
    small = chain_memory_plan(1, 12000, 500, sampling_rate_hz=10.0)
    assert small["peak"] == int(HEADROOM * max(small[k] for k in small["steps"]))
    assert check_chain_memory(small, 4) is small
    big = chain_memory_plan(1, 12000, 5000, sampling_rate_hz=10.0)
    with pytest.raises(MemoryBudgetError, match="stride_s") as info:
        check_chain_memory(big, 4)
    assert "'affinity' step" in str(info.value) or "'rank_sweep' step" in str(info.value)
    # a coarser stride is what would fit
    wider = chain_memory_plan(1, 12000, 5000, sampling_rate_hz=10.0, stride_s=60.0)
    assert wider["peak"] < big["peak"] and wider["n_windows"] < big["n_windows"]
    # one tensor and its bool mask at least, and no (W, N, N) float64 stacks any more
    assert big["affinity"] >= big["tensor"] + big["entries"]
    old = connectome_memory_plan(1, 12000, 5000, sampling_rate_hz=10.0, window_s=40.0, stride_s=20.0)
    assert big["affinity"] < old["affinity"] + 2 * big["n_pairs"] * 64 + GIB


def test_connectome_refuses_before_starting_and_names_what_fits(monkeypatch):
    from neurodyn.connectome import chain
    from neurodyn.connectome.chain import connectome, plan_chain
    from neurodyn.connectome.memory import chain_fitting_settings

    cohort = _cohort(n_animals=1, n_time=3000, n_neurons=900, gaps=False)
    plan = plan_chain(cohort)
    budget = 0.95 * plan["peak"] / GIB
    called = []
    monkeypatch.setattr(chain, "affinity_step", lambda *a, **k: called.append(1))
    with pytest.raises(MemoryBudgetError, match="it fits with") as info:
        connectome(cohort, max_memory_gb=budget)
    assert not called  # refused before the first step
    hint = chain_fitting_settings(plan["settings"], budget)
    assert f"n_neurons={hint['n_neurons']}" in str(info.value)
    fits = chain_memory_plan(**{**plan["settings"], "n_neurons": hint["n_neurons"]})
    over = chain_memory_plan(**{**plan["settings"], "n_neurons": hint["n_neurons"] + 1})
    assert fits["peak"] <= budget * GIB < over["peak"]
    if hint["stride_s"] is not None:
        assert chain_memory_plan(**{**plan["settings"], "stride_s": hint["stride_s"]})["peak"] <= budget * GIB
