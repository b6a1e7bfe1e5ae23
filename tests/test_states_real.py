"""Real-data path of the brain-state analysis on a small synthetic cohort, and figures."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurodyn.states.real import behaviour_agreement, fit_brain_states, prior_anatomy_auroc, select_state_neurons

NAMES = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR", "AIBL", "SMDVL"]


@pytest.fixture
def cohort():
    rng = np.random.default_rng(0)
    A, T, N = 2, 240, len(NAMES)
    rev = np.zeros((A, T), dtype=np.int8)
    for a in range(A):
        for start in rng.choice(T - 20, size=4, replace=False):
            rev[a, start : start + 12] = 1
    drive = np.where(rev[..., None] == 1, 1.5, -0.3) * np.array([1, 1, -1, -1, 1, 1, 1, 0])
    traces = (drive + 0.4 * rng.normal(size=(A, T, N))).astype(np.float32)
    present = np.ones((A, N), bool)
    present[1, -1] = False
    traces[1, :, -1] = np.nan
    return xr.Dataset(
        {
            "traces": (("animal", "time", "neuron"), traces),
            "present": (("animal", "neuron"), present),
            "behavior_reversal": (("animal", "time"), rev),
            "behavior_velocity": (("animal", "time"), np.where(rev == 1, -0.05, 0.03) + 0.01 * rng.normal(size=(A, T))),
        },
        coords={"animal": ["w1", "w2"], "time": np.arange(T) / 1.66, "neuron": NAMES},
        attrs={"sampling_rate_hz": 1.66},
    )


def test_neuron_selection_needs_every_animal(cohort):
    chosen = select_state_neurons(cohort, 10)
    assert "SMDVL" not in chosen and len(chosen) == 7


def test_fit_brain_states_recovers_reversal_state(cohort):
    result, selection = fit_brain_states(cohort, n_neurons=6, n_states_range=(1, 2), smooth_s=0.0,
                                         fit={"max_iter": 8, "m_step_iter": 10, "polish_iter": 2, "log_every": 0})
    assert list(selection["n_states"]) == [1, 2]
    assert selection["heldout_ll"].iloc[1] > selection["heldout_ll"].iloc[0]
    assert result.attrs["n_states"] == 2
    assert result["weights"].shape == (2, 6, 6)
    table = behaviour_agreement(result)
    assert list(table["animal"]) == ["w1", "w2", "pooled"]
    assert table["ami_reversal"].iloc[-1] > 0.5
    auc = prior_anatomy_auroc(result, connectomes=("witvliet_2020_8",))
    assert set(auc["kind"]) == {"chemical", "electrical", "any"}
    assert auc["auroc"].dropna().between(0, 1).all()


def test_figures_draw(cohort, tmp_path):
    from neurodyn.data.anatomy import connectome_matrix
    from neurodyn.plots import states as plots
    from neurodyn.plots.style import save

    result, selection = fit_brain_states(cohort, n_neurons=4, n_states_range=(2,), smooth_s=0.0,
                                         fit={"max_iter": 2, "m_step_iter": 5, "polish_iter": 1, "log_every": 0})
    names = [str(n) for n in result["pre"].values]
    figs = {
        "raster": plots.state_raster(result),
        "weights": plots.state_weights(result),
        "prior": plots.prior_vs_connectome(result, connectome_matrix(names), "witvliet_2020_8", 0.6),
        "ll": plots.heldout_ll_vs_states(pd.DataFrame(selection)),
    }
    for name, fig in figs.items():
        png, pdf = save(fig, tmp_path / name)
        assert png.stat().st_size > 1000 and pdf.exists()
