"""Forward–backward, Viterbi and sampling against brute-force enumeration."""

import itertools

import numpy as np
import pytest

from neurodyn.errors import InvalidInputError
from neurodyn.states.messages import forward_backward, sample_states, viterbi


def _random_hmm(rng, S, T):
    pi0 = rng.dirichlet(np.ones(S))
    A = rng.dirichlet(np.ones(S), size=S)
    ll = rng.normal(size=(T, S)) * 3
    return np.log(pi0), np.log(A), ll


def _brute(log_pi0, log_A, ll):
    T, S = ll.shape
    paths = np.array(list(itertools.product(range(S), repeat=T)))
    lp = log_pi0[paths[:, 0]] + ll[0, paths[:, 0]]
    for t in range(1, T):
        lp = lp + log_A[paths[:, t - 1], paths[:, t]] + ll[t, paths[:, t]]
    total = np.logaddexp.reduce(lp)
    w = np.exp(lp - total)
    gamma = np.zeros((T, S))
    for t in range(T):
        np.add.at(gamma[t], paths[:, t], w)
    xi = np.zeros((S, S))
    for t in range(1, T):
        np.add.at(xi, (paths[:, t - 1], paths[:, t]), w)
    return total, gamma, xi, paths[np.argmax(lp)]


@pytest.mark.parametrize("S,T", [(2, 1), (2, 6), (3, 5), (4, 4)])
def test_forward_backward_and_viterbi_equal_enumeration(S, T):
    rng = np.random.default_rng(S * 10 + T)
    log_pi0, log_A, ll = _random_hmm(rng, S, T)
    total, gamma, xi, best = _brute(log_pi0, log_A, ll)
    post = forward_backward(log_pi0, log_A, ll)
    assert post.log_likelihood == pytest.approx(total, abs=1e-10)
    np.testing.assert_allclose(post.posterior, gamma, atol=1e-10)
    np.testing.assert_allclose(post.expected_transitions, xi, atol=1e-10)
    np.testing.assert_array_equal(viterbi(log_pi0, log_A, ll), best)


def test_batched_equals_single():
    rng = np.random.default_rng(1)
    log_pi0, log_A, _ = _random_hmm(rng, 3, 1)
    ll = rng.normal(size=(4, 7, 3))
    post = forward_backward(log_pi0, log_A, ll)
    paths = viterbi(log_pi0, log_A, ll)
    for b in range(4):
        one = forward_backward(log_pi0, log_A, ll[b])
        assert post.log_likelihood[b] == pytest.approx(one.log_likelihood)
        np.testing.assert_allclose(post.posterior[b], one.posterior)
        np.testing.assert_array_equal(paths[b], viterbi(log_pi0, log_A, ll[b]))


def test_stable_for_long_sequences_and_many_states():
    # T = 1e5, S = 20 with emission log-likelihoods of a realistic size (-1e3 per bin).
    rng = np.random.default_rng(2)
    S, T = 20, 100_000
    A = np.full((S, S), 0.01 / (S - 1))
    np.fill_diagonal(A, 0.99)
    z = sample_states(np.full(S, 1 / S), A, T, rng)
    ll = rng.normal(-1000.0, 5.0, size=(T, S))
    ll[np.arange(T), z] += 15.0
    post = forward_backward(np.full(S, -np.log(S)), np.log(A), ll)
    assert np.isfinite(post.log_likelihood)
    assert np.all(np.isfinite(post.posterior))
    np.testing.assert_allclose(post.posterior.sum(1), 1.0, atol=1e-9)
    assert post.expected_transitions.sum() == pytest.approx(T - 1, rel=1e-9)
    # The log-likelihood is bounded by the best path and the sum over all paths.
    path = viterbi(np.full(S, -np.log(S)), np.log(A), ll)
    assert np.mean(path == z) > 0.95
    assert np.mean(post.posterior.argmax(1) == z) > 0.95


def test_sample_states_follows_transitions():
    rng = np.random.default_rng(3)
    A = np.array([[0.9, 0.1], [0.3, 0.7]])
    z = sample_states(np.array([1.0, 0.0]), A, 50_000, rng)
    assert z[0] == 0
    counts = np.zeros((2, 2))
    np.add.at(counts, (z[:-1], z[1:]), 1)
    np.testing.assert_allclose(counts / counts.sum(1, keepdims=True), A, atol=0.01)


def test_bad_shapes_raise():
    with pytest.raises(InvalidInputError, match="log_transmat"):
        forward_backward(np.zeros(2), np.zeros((3, 3)), np.zeros((4, 2)))
    with pytest.raises(InvalidInputError, match="NaN"):
        forward_backward(np.zeros(2), np.zeros((2, 2)), np.full((4, 2), np.nan))
