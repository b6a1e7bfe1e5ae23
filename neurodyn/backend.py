"""Array backends: numpy by default, torch (CPU or CUDA) and cupy when installed.

The namespace of a computation follows its input (``array_api_compat``), so a function
written against ``xp = get_namespace(x)`` runs unchanged on every backend.  Randomness is
always drawn from a seeded :class:`numpy.random.Generator` and then moved to the backend,
so a seed gives the same numbers everywhere (up to the backend's float arithmetic).

Typical use inside a science function::

    xp = get_namespace(tensor)
    out = xp.zeros((n, r), dtype=tensor.dtype, device=device_of(tensor))

and at an entry point that receives a configuration::

    be = Backend.from_config({"backend": "torch", "device": "cpu"})
    x = be.asarray(numpy_array)            # moved to torch, float dtype kept
    y = to_numpy(some_function(x))         # back to numpy for saving
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import array_api_compat
import array_api_compat.numpy  # noqa: F401  (makes array_api_compat.numpy an attribute)
import numpy as np

from neurodyn.errors import InvalidInputError

BACKENDS = ("numpy", "torch", "cupy")
DEVICES = ("cpu", "cuda")


def is_available(name: str) -> bool:
    """Whether backend ``name`` can be imported here (``numpy`` always can)."""
    if name == "numpy":
        return True
    if name not in BACKENDS:
        return False
    return importlib.util.find_spec(name) is not None


def available_backends() -> list[str]:
    """Names of the backends importable in this environment."""
    return [b for b in BACKENDS if is_available(b)]


def cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    if not is_available("torch"):
        return False
    import torch

    return bool(torch.cuda.is_available())


def get_namespace(*arrays: Any):
    """The array-API namespace of ``arrays`` (numpy's for plain Python/numpy input).

    Mixing backends (a numpy and a torch array) raises a clear error instead of a silent
    copy, because that is the usual source of device mismatches.
    """
    arrays = tuple(a for a in arrays if a is not None and not isinstance(a, (int, float, complex, bool)))
    if not arrays:
        return array_api_compat.numpy
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        kinds = sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__ for a in arrays})
        raise InvalidInputError(f"arrays from different backends were mixed ({', '.join(kinds)}); "
                                "move them to one backend with neurodyn.backend.to_backend") from exc


def backend_name(x: Any) -> str:
    """``'numpy'``, ``'torch'`` or ``'cupy'`` for an array of that library."""
    if array_api_compat.is_torch_array(x):
        return "torch"
    if array_api_compat.is_cupy_array(x):
        return "cupy"
    return "numpy"


def device_of(x: Any):
    """The device object of ``x`` (``'cpu'`` for numpy), usable as ``device=`` argument."""
    return array_api_compat.device(x)


def to_numpy(x: Any) -> np.ndarray:
    """A numpy copy (or view) of any backend array, detached from autograd."""
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def _is_cuda_index(device: str) -> bool:
    head, _, index = device.partition(":")
    return head == "cuda" and index.isdigit()


def device_name(x: Any) -> str:
    """The device of array ``x`` as a string this module accepts: ``'cpu'``, or
    ``'cuda:<index>'`` for a torch or cupy array on a GPU (so that arrays made to go with
    ``x`` land on the same GPU, not on the current one)."""
    if array_api_compat.is_torch_array(x):
        return f"cuda:{x.device.index or 0}" if x.device.type == "cuda" else "cpu"
    if array_api_compat.is_cupy_array(x):
        return f"cuda:{x.device.id}"
    return "cpu"


def _check(name: str, device: str) -> None:
    if name not in BACKENDS:
        raise InvalidInputError(f"unknown backend {name!r}; expected one of {BACKENDS}", field="backend")
    if device not in DEVICES and not _is_cuda_index(device):
        raise InvalidInputError(f"unknown device {device!r}; expected one of {DEVICES} or 'cuda:<index>'",
                                field="device")
    if not is_available(name):
        raise InvalidInputError(f"backend {name!r} is not installed (pip install 'neurodyn[{name}]')",
                                field="backend")
    if name == "numpy" and device != "cpu":
        raise InvalidInputError("the numpy backend runs on the CPU only; use backend: torch or cupy for "
                                "device: cuda", field="device")
    if name == "torch" and device.startswith("cuda") and not cuda_available():
        raise InvalidInputError("device 'cuda' was requested but torch sees no CUDA device", field="device")


def to_backend(x: Any, name: str = "numpy", device: str = "cpu", dtype: Any = None):
    """Move ``x`` to backend ``name`` on ``device``; ``dtype`` is a numpy dtype or ``None``.

    Floating dtypes are preserved (float32 stays float32); ``dtype`` overrides.
    """
    _check(name, device)
    arr = to_numpy(x)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    if name == "numpy":
        return arr
    if name == "torch":
        import torch

        return torch.as_tensor(np.ascontiguousarray(arr), device=device)
    import cupy

    if _is_cuda_index(device):
        with cupy.cuda.Device(int(device.partition(":")[2])):
            return cupy.asarray(arr)
    return cupy.asarray(arr)


@dataclass(frozen=True)
class Backend:
    """A chosen backend and device: ``Backend('torch', 'cuda')``."""

    name: str = "numpy"
    device: str = "cpu"

    def __post_init__(self) -> None:
        _check(self.name, self.device)

    @classmethod
    def from_config(cls, config: dict | None = None) -> Backend:
        """From a mapping with optional keys ``backend`` and ``device``."""
        config = config or {}
        return cls(str(config.get("backend", "numpy")), str(config.get("device", "cpu")))

    @property
    def xp(self):
        """The array-API namespace of this backend."""
        return importlib.import_module(f"array_api_compat.{self.name}")

    def asarray(self, x: Any, dtype: Any = None):
        """``x`` moved onto this backend and device."""
        return to_backend(x, self.name, self.device, dtype)

    def rng(self, random_state: int | np.random.Generator | None) -> BackendRNG:
        """A seeded generator whose draws land on this backend."""
        return BackendRNG(random_state, self)


class BackendRNG:
    """Random draws from a seeded numpy ``Generator``, moved to a backend.

    Because every draw is made by numpy, the same seed gives identical numbers on numpy,
    torch-CPU and torch-CUDA.
    """

    def __init__(self, random_state: int | np.random.Generator | None, backend: Backend | None = None):
        self.generator = default_rng(random_state)
        self.backend = backend or Backend()

    def _move(self, arr: np.ndarray, dtype: Any):
        return self.backend.asarray(arr, dtype=dtype)

    def normal(self, size, loc: float = 0.0, scale: float = 1.0, dtype: Any = np.float64):
        return self._move(self.generator.normal(loc, scale, size), dtype)

    def uniform(self, size, low: float = 0.0, high: float = 1.0, dtype: Any = np.float64):
        return self._move(self.generator.uniform(low, high, size), dtype)

    def integers(self, low: int, high: int | None = None, size=None):
        return self._move(self.generator.integers(low, high, size), np.int64)

    def permutation(self, n: int):
        return self._move(self.generator.permutation(n), np.int64)

    def poisson(self, lam, size=None, dtype: Any = np.float64):
        return self._move(self.generator.poisson(to_numpy(lam), size), dtype)


def default_rng(random_state: int | np.random.Generator | None = None) -> np.random.Generator:
    """The project's seeded generator (numpy PCG64).

    ``random_state`` is what every ``random_state`` parameter of the library accepts: an
    int seed, ``None`` (fresh entropy) or a ``numpy.random.Generator``, which is returned
    as is (its stream continues; no copy).
    """
    return np.random.default_rng(random_state)


def seed_attrs(random_state: int | np.random.Generator | None) -> dict[str, int]:
    """``{"seed": int}`` for result attrs when ``random_state`` is an int seed, else ``{}``."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return {"seed": int(random_state)}
    return {}
