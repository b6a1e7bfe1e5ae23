"""The array backend: namespace follows the input, moves between backends, seeded RNG parity."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn import backend as B
from neurodyn.errors import InvalidInputError, NeurodynError


def _generic_fn(x):
    """A backend-generic computation (softplus Gram + solve) used to compare backends."""
    xp = B.get_namespace(x)
    g = x.T @ x + xp.eye(x.shape[1], dtype=x.dtype, device=B.device_of(x))
    sp = xp.log(1 + xp.exp(-xp.abs(x))) + xp.maximum(x, xp.zeros_like(x))
    return xp.linalg.solve(g, xp.sum(sp, axis=0))


def test_numpy_is_default_and_always_available():
    assert B.is_available("numpy")
    assert "numpy" in B.available_backends()
    x = np.arange(6.0).reshape(2, 3)
    assert B.backend_name(x) == "numpy"
    xp = B.get_namespace(x)
    assert xp.sum(x) == 15.0
    assert B.get_namespace() is B.get_namespace(np.zeros(1))


def test_generic_function_matches_closed_form_on_numpy(rng):
    x = rng.normal(size=(7, 3))
    got = _generic_fn(x)
    want = np.linalg.solve(x.T @ x + np.eye(3), np.logaddexp(0, x).sum(0))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_backend_config_errors_are_clear():
    with pytest.raises(InvalidInputError, match="unknown backend 'jax'"):
        B.Backend.from_config({"backend": "jax"})
    with pytest.raises(InvalidInputError, match="numpy backend runs on the CPU only"):
        B.Backend("numpy", "cuda")
    with pytest.raises(NeurodynError, match="unknown device"):
        B.Backend("numpy", "tpu")


def test_to_backend_keeps_float32_and_numpy_roundtrip():
    x = np.linspace(0, 1, 5, dtype=np.float32)
    y = B.to_backend(x, "numpy")
    assert y.dtype == np.float32
    assert B.to_backend(x, "numpy", dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(B.to_numpy(y), x)


def test_rng_is_deterministic_given_seed():
    a = B.BackendRNG(3).normal((4, 2))
    b = B.BackendRNG(3).normal((4, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, B.BackendRNG(4).normal((4, 2)))


@pytest.mark.torch
def test_torch_parity_of_generic_function(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(9, 4))
    xt = B.to_backend(x, "torch")
    assert isinstance(xt, torch.Tensor) and xt.dtype == torch.float64
    assert B.backend_name(xt) == "torch"
    np.testing.assert_allclose(B.to_numpy(_generic_fn(xt)), _generic_fn(x), rtol=1e-10)


@pytest.mark.torch
def test_torch_rng_draws_equal_numpy_draws():
    pytest.importorskip("torch")
    be = B.Backend("torch", "cpu")
    t = be.rng(11).uniform((5, 3), dtype=np.float32)
    n = B.Backend().rng(11).uniform((5, 3), dtype=np.float32)
    np.testing.assert_array_equal(B.to_numpy(t), n)
    p = B.to_numpy(be.rng(2).permutation(10))
    np.testing.assert_array_equal(p, np.random.default_rng(2).permutation(10))


@pytest.mark.torch
def test_mixing_backends_is_refused():
    pytest.importorskip("torch")
    with pytest.raises(InvalidInputError, match="different backends"):
        B.get_namespace(np.zeros(2), B.to_backend(np.zeros(2), "torch"))


@pytest.mark.torch
def test_cuda_request_without_gpu_is_refused_or_works():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        x = B.to_backend(np.ones(3), "torch", "cuda")
        assert x.device.type == "cuda"
        np.testing.assert_array_equal(B.to_numpy(x), np.ones(3))
    else:
        with pytest.raises(InvalidInputError, match="no CUDA device"):
            B.Backend("torch", "cuda")


def test_namespaces_resolve_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = ("from neurodyn.backend import Backend, get_namespace; "
            "assert Backend().xp.__name__.endswith('numpy'); assert get_namespace() is Backend().xp")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_device_names_follow_the_array():
    assert B.device_name(np.zeros(3)) == "cpu"
    assert B.Backend("numpy", "cpu").device == "cpu"
    with pytest.raises(NeurodynError, match="cuda:<index>"):
        B.Backend("numpy", "cuda:x")
    with pytest.raises(InvalidInputError, match="numpy backend runs on the CPU only"):
        B.Backend("numpy", "cuda:1")


@pytest.mark.torch
def test_torch_device_name_keeps_the_gpu_index():
    torch = pytest.importorskip("torch")
    assert B.device_name(torch.zeros(2)) == "cpu"
    if torch.cuda.is_available():
        last = torch.cuda.device_count() - 1
        x = torch.zeros(2, device=f"cuda:{last}")
        assert B.device_name(x) == f"cuda:{last}"
        moved = B.to_backend(np.ones(2), "torch", B.device_name(x))
        assert moved.device == x.device
    else:
        with pytest.raises(InvalidInputError, match="no CUDA device"):
            B.Backend("torch", "cuda:0")
