"""Gain-control figures draw from saved-result Datasets and label their axes."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.circuits.gain_control import MODELS, simulate_adaptation, tradeoff_curves
from neurodyn.io import read_netcdf, write_netcdf
from neurodyn.plots import gain_control as plots
from neurodyn.plots import style


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Results round-tripped through NetCDF, as the figure rules read them."""
    folder = tmp_path_factory.mktemp("gc")
    out = {}
    for model in MODELS:
        out[model] = []
        for pi in (0.3, 0.5):
            ds = simulate_adaptation(pi, model)
            ds.attrs["synaptic_converged"] = int(ds.attrs["synaptic_converged"])
            path = folder / f"{model}{pi}.nc"
            write_netcdf(ds, path)
            out[model].append(read_netcdf(path))
    return out


def _labelled(fig):
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert any(ax.get_xlabel() for ax in axes) and any(ax.get_ylabel() for ax in axes)


@pytest.mark.parametrize("kind", ["gain_profile", "max_min_ratios", "repulsion", "stimulus_specific"])
def test_profile_figures(runs, kind, tmp_path):
    fig = getattr(plots, f"plot_{kind}")(runs)
    _labelled(fig)
    assert len(fig.axes) == len(MODELS) * (3 if kind == "stimulus_specific" else 1)
    written = style.save(fig, tmp_path / kind)
    assert all(p.stat().st_size > 0 for p in written)


@pytest.mark.parametrize("model", MODELS)
def test_tuning_and_covariance_figures(runs, model, tmp_path):
    fig = plots.plot_tuning_curves(runs[model])
    _labelled(fig)
    assert len(fig.axes[0].lines) >= 2 * 20
    style.save(fig, tmp_path / "tuning.png")
    fig = plots.plot_covariances(runs[model])
    assert fig.axes[0].get_yticklabels()[0].get_text().startswith("ch")   # neuron names on the axes
    style.save(fig, tmp_path / "cov.png")


def test_tradeoff_figure(tmp_path):
    fig = plots.plot_tradeoff(tradeoff_curves(np.geomspace(0.1, 10, 5), [0.3, 0.5]), 1.0)
    _labelled(fig)
    style.save(fig, tmp_path / "tradeoff.png")
