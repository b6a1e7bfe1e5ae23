"""Real-data path of the brain-state analysis: causal preprocessing, baselines, AUROC with
permutation p-values, and leave-one-worm-out on small synthetic cohorts (generators
written here, apart from the benchmark's)."""

import itertools

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from neurodyn.states.baselines import (
    GaussianHMM,
    auroc,
    difference_correlation,
    kmeans_states,
    permutation_auroc,
    sticky_transitions,
)
from neurodyn.states.metrics import state_accuracy
from neurodyn.states.model import HMMGLM
from neurodyn.states.real import (
    CausalPreprocessor,
    analyse_cohort,
    causal_filter,
    glm_log_likelihood_bins,
    shared_neurons,
    summary_markdown,
)

NAMES = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR", "AIBL", "SMDVL"]


def planted_ar(T, rng, n=6, switch=0.03):
    """Two-state AR(1) data: a state sets each neuron's level, the AR term its decay and
    one coupling ``0 → 1``. Returns (x, z)."""
    z = np.zeros(T, int)
    for t in range(1, T):
        z[t] = 1 - z[t - 1] if rng.random() < switch else z[t - 1]
    level = np.array([[-1.0] * n, [1.0] * n]) * np.where(np.arange(n) % 2, 1, -1)
    x = np.zeros((T, n))
    for t in range(1, T):
        x[t] = 0.6 * x[t - 1] + 0.4 * level[z[t]] + 0.3 * rng.standard_normal(n)
        x[t, 1] += 0.3 * x[t - 1, 0]
    return x, z


def reversal_cohort(n_animals=2, T=240, seed=0):
    rng = np.random.default_rng(seed)
    N = len(NAMES)
    rev = np.zeros((n_animals, T), dtype=np.int8)
    for a in range(n_animals):
        for start in rng.choice(T - 20, size=4, replace=False):
            rev[a, start: start + 12] = 1
    drive = np.where(rev[..., None] == 1, 1.5, -0.3) * np.array([1, 1, -1, -1, 1, 1, 1, 0])
    traces = np.zeros((n_animals, T, N))
    for t in range(T):  # calcium-like decay toward the behavioural drive
        prev = traces[:, t - 1] if t else 0.0
        traces[:, t] = 0.5 * prev + 0.5 * drive[:, t] + 0.3 * rng.normal(size=(n_animals, N))
    traces = traces.astype(np.float32)
    present = np.ones((n_animals, N), bool)
    present[1, -1] = False
    traces[1, :, -1] = np.nan
    return xr.Dataset(
        {
            "traces": (("animal", "time", "neuron"), traces),
            "present": (("animal", "neuron"), present),
            "behavior_reversal": (("animal", "time"), rev),
        },
        coords={"animal": [f"w{a + 1}" for a in range(n_animals)], "time": np.arange(T) / 1.66, "neuron": NAMES},
        attrs={"sampling_rate_hz": 1.66},
    )


# ---------------------------------------------------------------- causal preprocessing


@pytest.mark.parametrize("representation", ["trace", "derivative"])
@pytest.mark.parametrize("smooth_s", [0.0, 1.5])
def test_future_samples_do_not_change_past_features(representation, smooth_s):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    y = x.copy()
    y[30:] = rng.normal(size=(20, 3)) * 10  # rewrite the future
    fx, _ = causal_filter(x, representation, smooth_s, 2.0)
    fy, _ = causal_filter(y, representation, smooth_s, 2.0)
    np.testing.assert_array_equal(fx[:30], fy[:30])
    assert not np.allclose(fx[30:], fy[30:])
    prep = CausalPreprocessor(representation, smooth_s, 2.0).fit([x[:25]])
    (vx,), _ = prep.transform([x])
    (vy,), _ = prep.transform([y])
    np.testing.assert_array_equal(vx[:30], vy[:30])


def test_causal_filter_is_the_documented_recursion():
    x = np.array([[1.0], [3.0], [2.0], [5.0]])
    a = 1 - np.exp(-1 / (2.0 * 1.0))
    y, alpha = causal_filter(x, "trace", 2.0, 1.0)
    want = [1.0]
    for v in x[1:, 0]:
        want.append(want[-1] + a * (v - want[-1]))
    np.testing.assert_allclose(y[:, 0], want)
    assert alpha == pytest.approx(a)
    d, _ = causal_filter(x, "derivative", 0.0, 1.0)
    np.testing.assert_allclose(d[:, 0], [1.0, 2.0, -1.0, 3.0])


def test_normalisation_uses_training_data_only():
    rng = np.random.default_rng(2)
    train = [rng.normal(3.0, 2.0, size=(400, 4)), rng.normal(3.0, 2.0, size=(300, 4))]
    test_a = rng.normal(size=(100, 4))
    test_b = test_a * 50 + 7
    prep = CausalPreprocessor("trace", 0.0, 1.0).fit(train)
    stacked = np.concatenate(train)
    np.testing.assert_allclose(prep.mean_, stacked.mean(0))
    np.testing.assert_allclose(prep.scale_, stacked.std(0))
    values, _ = prep.transform(train)
    np.testing.assert_allclose(np.concatenate(values).mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate(values).std(0), 1, atol=1e-12)
    (va,), _ = prep.transform([test_a])
    (vb,), _ = prep.transform([test_b])
    np.testing.assert_allclose(va, (test_a - prep.mean_) / prep.scale_)
    np.testing.assert_allclose(vb, (test_b - prep.mean_) / prep.scale_)  # test data never rescaled
    assert clone(prep).get_params() == prep.get_params()


@pytest.mark.parametrize("representation", ["trace", "derivative"])
def test_log_det_jacobian_equals_numerical_determinant(representation):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 2))
    prep = CausalPreprocessor(representation, 0.8, 1.0).fit([rng.normal(size=(40, 2))])

    def f(v):
        return prep.transform([v.reshape(6, 2)])[0][0].ravel()

    J = np.empty((12, 12))
    for k in range(12):
        e = np.zeros(12)
        e[k] = 1.0
        J[:, k] = f(x.ravel() + e) - f(x.ravel())  # the map is affine
    sign, logdet = np.linalg.slogdet(J)
    assert sign != 0
    assert prep.log_det_jacobian([np.ones((6, 2), bool)])[0] == pytest.approx(logdet, abs=1e-9)


def test_missing_neuron_is_masked_and_zero():
    x = np.random.default_rng(4).normal(size=(20, 3))
    x[:, 2] = np.nan
    prep = CausalPreprocessor("derivative", 0.0, 1.0).fit([np.random.default_rng(5).normal(size=(20, 3))])
    (v,), (m,) = prep.transform([x])
    assert np.all(v[:, 2] == 0) and not m[:, 2].any() and m[:, :2].all()


def test_shared_neurons_threshold():
    cohort = reversal_cohort(n_animals=2)
    assert "SMDVL" not in shared_neurons(cohort, 1.0)
    assert "SMDVL" in shared_neurons(cohort, 0.5)


# ---------------------------------------------------------------- likelihoods


def test_masked_glm_likelihood_equals_model_score():
    rng = np.random.default_rng(6)
    x, _ = planted_ar(300, rng, n=4)
    model = HMMGLM(2, emission="gaussian", state_bias=True, max_iter=5, m_step_iter=10, random_state=0,
                   log_every=0).fit([x[:200], x[200:]])
    from neurodyn.states import messages

    lls = glm_log_likelihood_bins(model, [x[:200], x[200:]])
    total = sum(messages.forward_backward(model.params_.log_initial, model.params_.log_transmat, ll).log_likelihood
                for ll in lls)
    assert total == pytest.approx(model.score([x[:200], x[200:]]), rel=1e-10)
    # A masked entry drops exactly its own Gaussian term.
    m = np.ones_like(x[:200], bool)
    m[10, 1] = False
    full = glm_log_likelihood_bins(model, [x[:200]])[0]
    masked = glm_log_likelihood_bins(model, [x[:200]], [m])[0]
    diff = full - masked
    assert np.allclose(np.delete(diff, 10, axis=0), 0)
    assert np.all(diff[10] != 0)


def test_gaussian_hmm_score_equals_brute_force_with_mask():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 3))
    m = rng.random((5, 3)) > 0.3
    hmm = GaussianHMM(2, max_iter=3, random_state=0).fit([rng.normal(size=(60, 3))])
    total = -np.inf
    for path in itertools.product(range(2), repeat=5):
        lp = np.log(hmm.initial_[path[0]])
        for t, s in enumerate(path):
            if t:
                lp += np.log(hmm.transmat_[path[t - 1], s])
            lp += norm.logpdf(x[t], hmm.means_[s], np.sqrt(hmm.var_[s]))[m[t]].sum()
        total = np.logaddexp(total, lp)
    assert hmm.score([x], [m]) == pytest.approx(total, rel=1e-10)


# ---------------------------------------------------------------- baselines on planted data


def test_baselines_recover_planted_two_state_ar_states():
    rng = np.random.default_rng(8)
    x, z = planted_ar(1500, rng)
    xt, zt = planted_ar(600, rng)
    hmm = GaussianHMM(2, max_iter=100, random_state=0).fit([x])
    assert hmm.converged_ and hmm.n_iter_ < 100
    assert np.all(np.diff(hmm.history_) > -1e-8)  # EM never decreases the likelihood
    assert state_accuracy(zt, hmm.predict([xt])[0]) > 0.95
    km = kmeans_states([x], [xt], 2, random_state=0)[0]
    assert state_accuracy(zt, km) > 0.9
    assert repr(clone(hmm)) == repr(hmm)


def test_sticky_transitions_is_the_map_of_the_sticky_dirichlet_objective():
    from scipy.optimize import minimize

    rng = np.random.default_rng(21)
    xi = rng.gamma(2.0, 20.0, size=(3, 3))
    for kappa in (0.0, 5.0, 500.0):
        A = sticky_transitions(xi, kappa)
        assert np.allclose(A.sum(1), 1.0)

        def neg(v):  # rows of A as softmax of free logits
            L = v.reshape(3, 3)
            logA = L - np.log(np.exp(L).sum(1, keepdims=True))
            return -((xi * logA).sum() + kappa * np.trace(logA))

        best = minimize(neg, np.zeros(9), method="BFGS", options={"gtol": 1e-10}).x.reshape(3, 3)
        brute = np.exp(best) / np.exp(best).sum(1, keepdims=True)
        assert np.allclose(A, brute, atol=1e-5)
        assert neg(np.log(A).ravel()) <= neg(best.ravel()) + 1e-9
    assert np.allclose(sticky_transitions(xi, 0.0), xi / xi.sum(1, keepdims=True))


def test_gaussian_hmm_stickiness_is_map_em():
    rng = np.random.default_rng(22)
    x, _ = planted_ar(800, rng, switch=0.2)  # fast switching: ML self-transitions near 0.8
    kappa = 40000.0  # bound below: 0.98
    hmm = GaussianHMM(2, max_iter=60, stickiness=kappa, random_state=0).fit([x])
    assert np.all(np.diff(hmm.history_) > -1e-8)  # MAP-EM never decreases the posterior objective
    # A_ii = (ξ_ii + κ) / (Σ_j ξ_ij + κ) >= κ / (T − 1 + κ), whatever the data.
    assert np.all(np.diag(hmm.transmat_) >= kappa / (len(x) - 1 + kappa) - 1e-12)
    ml = GaussianHMM(2, max_iter=60, random_state=0).fit([x])
    assert np.diag(ml.transmat_).min() < kappa / (len(x) - 1 + kappa)
    assert GaussianHMM(2, stickiness=3.0).get_params()["stickiness"] == 3.0


def test_difference_correlation_matches_numpy():
    rng = np.random.default_rng(9)
    seqs = [rng.normal(size=(100, 4)).cumsum(0), rng.normal(size=(80, 4)).cumsum(0)]
    D = np.concatenate([np.diff(s, axis=0) for s in seqs])
    want = np.abs(np.corrcoef(D.T))
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(difference_correlation(seqs), want, atol=1e-12)


# ---------------------------------------------------------------- AUROC and permutation test


def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(10)
    y = rng.random(300) < 0.2
    s = np.round(rng.normal(size=300) + y, 1)  # many ties
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def _planted_adjacency(n, rng, p=0.2):
    A = rng.random((n, n)) < p
    np.fill_diagonal(A, False)
    return A


def test_permutation_p_value_matches_exhaustive_enumeration():
    rng = np.random.default_rng(11)
    n = 5
    A = _planted_adjacency(n, rng, 0.35)
    S = rng.normal(size=(n, n)) + 0.8 * A
    off = ~np.eye(n, dtype=bool)
    obs = roc_auc_score(A[off], S[off])
    exact = np.mean([roc_auc_score(A[np.ix_(p, p)][off], S[off]) >= obs - 1e-12
                     for p in map(list, itertools.permutations(range(n)))])
    auc, p = permutation_auroc(S, A, n_permutations=20000, random_state=0)
    assert auc == pytest.approx(obs, abs=1e-12)
    assert p == pytest.approx(exact, abs=0.01)  # Monte Carlo sd ≈ 0.0035


def test_permutation_test_rejects_planted_scores_and_not_random_ones():
    rng = np.random.default_rng(12)
    n = 30
    A = _planted_adjacency(n, rng)
    sym = A | A.T
    planted = rng.normal(size=(n, n)) + 1.0 * A
    auc, p = permutation_auroc(planted, A, n_permutations=1000, random_state=1)
    assert auc > 0.7 and p < 0.01
    auc_s, p_s = permutation_auroc(planted + planted.T, sym, symmetric=True, n_permutations=1000, random_state=1)
    assert auc_s > 0.65 and p_s < 0.01
    # Random scores: the test must not call them significant (p-values ~ uniform).
    ps = np.array([permutation_auroc(rng.normal(size=(n, n)), A, n_permutations=300, random_state=k)[1]
                   for k in range(40)])
    assert np.mean(ps < 0.05) <= 0.15  # Binomial(40, 0.05): P(> 6 of 40) < 0.02
    assert 0.3 < np.median(ps) < 0.7


# ---------------------------------------------------------------- leave-one-worm-out end to end


@pytest.fixture(scope="module")
def analysed():
    cohort = reversal_cohort(n_animals=3)
    return analyse_cohort(cohort, neuron_fraction=0.6, representations=["trace", "derivative"], n_states_range=[2],
                          l1=[0.01], max_iter=15, m_step_iter=10, n_permutations=200, random_state=0)


def test_analyse_cohort_finds_reversal_states_on_held_out_worms(analysed):
    beh = analysed["behaviour"]
    assert set(beh["model"]) == {"hmmglm", "gaussian_hmm", "kmeans"}
    assert sorted(set(beh["heldout_animal"])) == ["w1", "w2", "w3"]
    glm = beh[beh.model == "hmmglm"]
    assert (glm["ami_reversal"] > 0.4).all(), glm
    assert (glm["n_neurons"] == 8).all() and list(glm["n_neurons_present"]) == [8, 7, 8]
    sel = analysed["selection"]
    # Candidates are scored for every fold and for the final fit; settings come from them.
    assert set(sel["heldout_animal"]) == {"w1", "w2", "w3", "none (all animals)"}
    assert np.isfinite(sel["heldout_ll_per_entry"]).all()
    fit = analysed["fit"]
    assert fit["weights"].shape == (2, 8, 8) and fit["viterbi_state"].shape == (3, 240)
    anat = analysed["anatomy"]
    assert set(anat["score"]) == {"couplings", "prior_connection", "correlation"}
    assert anat["p_value"].dropna().between(1 / 201, 1).all()
    text = summary_markdown(beh, anat, "cmd")
    assert text.startswith("## ") and "| w1 |" in text and "couplings" in text


def test_figures_draw(analysed, tmp_path):
    from neurodyn.plots import states_real as plots

    figs = {
        "raster": plots.state_raster(analysed["fit"]),
        "ami": plots.heldout_ami(analysed["behaviour"]),
        "anatomy": plots.anatomy_roc(analysed["fit"]),
        "selection": plots.selection(analysed["selection"]),
    }
    for name, fig in figs.items():
        png, pdf = plots.save(fig, tmp_path / name)
        assert png.stat().st_size > 1000 and pdf.exists()


def test_input_errors():
    from neurodyn.errors import InvalidInputError

    cohort = reversal_cohort(n_animals=2)
    with pytest.raises(InvalidInputError, match="n_states_range"):
        analyse_cohort(cohort, n_states_range=[1])
    with pytest.raises(InvalidInputError, match="representations"):
        analyse_cohort(cohort, representations=["events"])
    with pytest.raises(InvalidInputError, match="behavior_reversal"):
        analyse_cohort(cohort.drop_vars("behavior_reversal"))
    from neurodyn.states.real import single_animal_cohort

    assert single_animal_cohort(cohort.isel(animal=[0])) and not single_animal_cohort(cohort)
