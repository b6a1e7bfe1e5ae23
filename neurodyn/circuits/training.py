"""Training the rate RNN on a task: SGD with momentum (Adam optional), gradient clipping.

As in Liu et al. (ICLR 2024, App. B): SGD with momentum 0.9, learning rate 3e-3, batches
of 32 fresh trials per iteration, mean cross-entropy over all steps, all three weight
matrices trained.  Gradients come from the hand-written BPTT
(:func:`neurodyn.circuits.rnn.bptt`), so training runs on numpy, torch-CPU or torch-CUDA
with the same code; trial batches are drawn with numpy from a seeded generator and moved
to the backend, so a seed gives the same curve on every backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from neurodyn.backend import Backend, get_namespace, to_numpy
from neurodyn.circuits import rnn
from neurodyn.circuits.tasks import get_task, sample_trials
from neurodyn.errors import InvalidInputError, NeurodynError
from neurodyn.progress import Progress

OPTIMIZERS = ("sgd", "adam")


class ExplodingGradientError(NeurodynError, FloatingPointError):
    """The loss or a gradient became non-finite during training."""


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`train` (defaults: Liu et al. 2024, App. B)."""

    max_iter: int = 10_000
    batch_size: int = 32
    lr: float = 3e-3
    momentum: float = 0.9
    optimizer: str = "sgd"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    clip_grad_norm: float | None = None
    alpha: float = 1.0
    noise_sd: float = 0.1
    check_every: int = 1
    trained: tuple[str, ...] = rnn.PARAM_NAMES

    def validate(self) -> TrainConfig:
        if int(self.max_iter) < 0:
            raise InvalidInputError(f"max_iter must be >= 0, got {self.max_iter}", field="max_iter")
        if int(self.batch_size) < 1:
            raise InvalidInputError(f"batch_size must be >= 1, got {self.batch_size}", field="batch_size")
        if not self.lr > 0:
            raise InvalidInputError(f"lr must be > 0, got {self.lr}", field="lr")
        if not 0 <= self.momentum < 1:
            raise InvalidInputError(f"momentum must lie in [0, 1), got {self.momentum}", field="momentum")
        if self.optimizer not in OPTIMIZERS:
            raise InvalidInputError(f"unknown optimizer {self.optimizer!r}; expected one of {OPTIMIZERS}",
                                    field="optimizer")
        if self.clip_grad_norm is not None and not self.clip_grad_norm > 0:
            raise InvalidInputError(f"clip_grad_norm must be > 0 or null, got {self.clip_grad_norm}",
                                    field="clip_grad_norm")
        bad = sorted(set(self.trained) - set(rnn.PARAM_NAMES))
        if bad:
            raise InvalidInputError(f"unknown trained parameters {bad}; expected a subset of "
                                    f"{list(rnn.PARAM_NAMES)}", field="trained")
        return self


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    params : trained parameters (backend arrays).
    loss : (max_iter,) numpy training loss per iteration (before that iteration's update).
    accuracy : (max_iter,) numpy decision-step accuracy per iteration.
    grad_norm : (max_iter,) numpy global gradient norm before clipping.
    config : the :class:`TrainConfig` used.
    """

    params: dict
    loss: np.ndarray
    accuracy: np.ndarray
    grad_norm: np.ndarray
    config: TrainConfig = field(default_factory=TrainConfig)


def clip_by_global_norm(grads: dict, max_norm: float | None):
    """Scale all gradients by ``min(1, max_norm/‖g‖)``; return ``(grads, ‖g‖)``.

    The scale is computed on the device (no host synchronisation).
    """
    any_grad = next(iter(grads.values()))
    xp = get_namespace(any_grad)
    total = xp.sqrt(sum(xp.sum(g * g) for g in grads.values()))
    if max_norm is None:
        return grads, total
    scale = max_norm / xp.clip(total, min=float(max_norm))
    return {k: g * scale for k, g in grads.items()}, total


class _Optimizer:
    def __init__(self, params: dict, cfg: TrainConfig):
        self.cfg = cfg
        xp = get_namespace(next(iter(params.values())))
        self.state = {k: xp.zeros_like(params[k]) for k in cfg.trained}
        self.state2 = {k: xp.zeros_like(params[k]) for k in cfg.trained} if cfg.optimizer == "adam" else None
        self.t = 0

    def step(self, params: dict, grads: dict) -> dict:
        cfg = self.cfg
        self.t += 1
        new = dict(params)
        for k in cfg.trained:
            if cfg.optimizer == "sgd":
                # PyTorch's form: v ← μ v + g, W ← W − lr v.
                self.state[k] = cfg.momentum * self.state[k] + grads[k]
                new[k] = params[k] - cfg.lr * self.state[k]
            else:
                b1, b2 = cfg.betas
                self.state[k] = b1 * self.state[k] + (1 - b1) * grads[k]
                self.state2[k] = b2 * self.state2[k] + (1 - b2) * grads[k] ** 2
                m_hat = self.state[k] / (1 - b1**self.t)
                v_hat = self.state2[k] / (1 - b2**self.t)
                xp = get_namespace(m_hat)
                new[k] = params[k] - cfg.lr * m_hat / (xp.sqrt(v_hat) + cfg.eps)
        return new


def train(params: dict, task: str, config: TrainConfig | None = None, random_state=None,
          backend: Backend | None = None, callback=None) -> TrainResult:
    """Train the RNN on fresh batches of ``task`` with hand-written BPTT.

    Parameters
    ----------
    params : dict ``W_x, W_h, W_y`` (numpy or backend arrays; moved to ``backend``).
    task : ``2AF``, ``DMS`` or ``CXT``.
    config : :class:`TrainConfig`.
    random_state : int, numpy Generator or None; draws the trial batches.
    backend : where to compute (default numpy CPU); inputs keep the params' dtype.
    callback : optional ``callback(iteration, params, loss)``.

    Returns
    -------
    :class:`TrainResult`.

    Raises
    ------
    ExplodingGradientError
        When the loss or the gradient norm becomes non-finite (checked every
        ``check_every`` iterations): lower ``lr`` or set ``clip_grad_norm``.
    """
    cfg = (config or TrainConfig()).validate()
    spec = get_task(task)
    backend = backend or Backend()
    rng = np.random.default_rng(random_state)
    dtype = to_numpy(params["W_h"]).dtype
    params = {k: backend.asarray(v, dtype=dtype) for k, v in params.items()}
    rnn.check_params(params, spec.n_in)
    xp = get_namespace(params["W_h"])
    opt = _Optimizer(params, cfg)
    losses, accs, norms = [], [], []
    bar = Progress(int(cfg.max_iter), f"train {task}")
    for it in range(int(cfg.max_iter)):
        trials = sample_trials(task, cfg.batch_size, rng, cfg.noise_sd)
        x = backend.asarray(trials.inputs, dtype=dtype)
        labels = backend.asarray(trials.labels)
        loss, grads, cache = rnn.bptt(params, x, labels, cfg.alpha)
        grads, gnorm = clip_by_global_norm({k: grads[k] for k in cfg.trained}, cfg.clip_grad_norm)
        losses.append(loss)
        norms.append(gnorm)
        accs.append(rnn.accuracy(cache.logits, labels, [spec.decision_step]))
        if cfg.check_every and (it + 1) % cfg.check_every == 0:
            _check_finite(loss, gnorm, it, cfg)
            # the loss is read on the host only here, to keep GPU steps asynchronous
            bar.update(cfg.check_every, loss=float(loss))
        params = opt.step(params, grads)
        if callback is not None:
            callback(it, params, loss)
    bar.close()
    stacked = [to_numpy(xp.stack(v)) if v else np.zeros(0) for v in (losses, accs, norms)]
    if stacked[0].size and not (np.all(np.isfinite(stacked[0])) and np.all(np.isfinite(stacked[2]))):
        bad = int(np.argmin(np.isfinite(stacked[0]) & np.isfinite(stacked[2])))
        _raise_exploding(bad, cfg)
    # The last update is applied after the last loss was checked: never return inf/NaN weights.
    if not all(bool(xp.all(xp.isfinite(params[k]))) for k in cfg.trained):
        _raise_exploding(int(cfg.max_iter) - 1, cfg, what="weights became non-finite after the update")
    return TrainResult(params, stacked[0], stacked[1], stacked[2], cfg)


def _check_finite(loss, gnorm, it: int, cfg: TrainConfig) -> None:
    if not (np.isfinite(float(loss)) and np.isfinite(float(gnorm))):
        _raise_exploding(it, cfg)


def _raise_exploding(it: int, cfg: TrainConfig, what: str = "loss or gradient became non-finite") -> None:
    raise ExplodingGradientError(
        f"{what} at iteration {it} (lr={cfg.lr}, optimizer={cfg.optimizer}, "
        f"clip_grad_norm={cfg.clip_grad_norm}); lower the learning rate or set clip_grad_norm",
        field="lr")


class RateRNN:
    """A rate RNN trained on a simulated task: ``RateRNN(max_iter=…).train(task, W_h)``.

    Training on trials drawn from a task generator is a simulation, not a fit to data, so
    the verb is :meth:`train`.

    Parameters
    ----------
    n_hidden : N (must match ``W_h`` given to :meth:`train`).
    random_state : int, numpy Generator or None; seeds the input/readout weights and the
        trial batches.
    backend, device : array backend (``numpy`` | ``torch``) and device (``cpu`` | ``cuda``).
    dtype : float dtype of the computation.
    **train_kwargs : fields of :class:`TrainConfig`.

    Attributes (after train)
    ----------------------
    params_init_, params_ : parameters before and after training (backend arrays).
    loss_, accuracy_ : (max_iter,) training curves.
    task_ : the task trained on.
    """

    def __init__(self, n_hidden: int = 300, random_state: int | np.random.Generator | None = 0,
                 backend: str = "numpy", device: str = "cpu", dtype: str = "float64", **train_kwargs: Any):
        self.n_hidden = n_hidden
        self.random_state = random_state
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.train_kwargs = train_kwargs
        TrainConfig(**train_kwargs).validate()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"n_hidden": self.n_hidden, "random_state": self.random_state, "backend": self.backend,
                "device": self.device,
                "dtype": self.dtype, **self.train_kwargs}

    def train(self, task: str, W_h) -> RateRNN:
        """Train on fresh trial batches of ``task`` from the recurrent weights ``W_h``.

        Parameters
        ----------
        task : str
            ``2AF``, ``DMS`` or ``CXT``.
        W_h : array, shape (n_hidden, n_hidden)
            Initial recurrent weights (see :mod:`neurodyn.circuits.inits`).

        Returns
        -------
        RateRNN
            ``self``, with ``params_init_``, ``params_``, ``loss_``, ``accuracy_``,
            ``grad_norm_``, ``task_``, ``config_`` and ``n_iter_`` set.
        """
        spec = get_task(task)
        be = Backend(self.backend, self.device)
        rng_init, rng_batches = np.random.default_rng(self.random_state).spawn(2)
        init = rnn.init_params(self.n_hidden, spec.n_in, spec.n_out, W_h, rng_init, dtype=np.dtype(self.dtype))
        self.params_init_ = {k: be.asarray(v) for k, v in init.items()}
        result = train(init, task, TrainConfig(**self.train_kwargs), rng_batches, be)
        self.params_ = result.params
        self.loss_, self.accuracy_, self.grad_norm_ = result.loss, result.accuracy, result.grad_norm
        self.task_ = task
        self.config_ = asdict(result.config)
        self.n_iter_ = int(result.loss.size)
        return self

    def regime_metrics(self, probe_x) -> dict[str, float]:
        """:func:`neurodyn.circuits.regime.regime_metrics` between init and trained weights."""
        from neurodyn.circuits.regime import regime_metrics

        be = Backend(self.backend, self.device)
        x = be.asarray(probe_x, dtype=np.dtype(self.dtype))
        return regime_metrics(self.params_init_, self.params_, x, self.train_kwargs.get("alpha", 1.0))
