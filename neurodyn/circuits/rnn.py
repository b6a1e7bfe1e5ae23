"""Rate RNN with hand-written backpropagation through time, on any array backend.

The model of Liu et al. (ICLR 2024, "How connectivity structure shapes rich and lazy
learning in neural circuits", Sec. 2 and App. B), leaky ReLU units with no biases::

    a_t = (1 − α) h_{t−1} + α (W_x x_t + W_h h_{t−1}),    h_t = relu(a_t),    h_{−1} = 0
    y_t = W_y h_t                                          (logits at every step)

with α = dt/τ.  The loss is the cross-entropy of ``softmax(y_t)`` against the label of
every step, averaged over steps and trials.

Everything here is written against the array-API namespace of the inputs
(``xp = get_namespace(x)``), so the same code runs on numpy (no torch needed), torch-CPU
and torch-CUDA.  Gradients are derived by hand (:func:`bptt`); torch autograd only
serves as a reference in the tests.

Shapes
------
``T`` steps, ``B`` trials, ``N`` hidden units, ``n_in`` inputs, ``K`` outputs (classes).
Inputs ``x`` are ``(T, B, n_in)``, labels ``(T, B)`` integers in ``[0, K)``, parameters a
dict ``{"W_x": (N, n_in), "W_h": (N, N), "W_y": (K, N)}``; ``W_h[i, j]`` is the weight
from unit ``j`` onto unit ``i``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from neurodyn.backend import device_of, get_namespace
from neurodyn.errors import InvalidInputError

PARAM_NAMES = ("W_x", "W_h", "W_y")


class ForwardCache(NamedTuple):
    """What the backward pass needs from the forward pass.

    Attributes
    ----------
    x : (T, B, n_in) inputs.
    h_prev : (T, B, N) state entering each step (``h_{t−1}``; zeros at t = 0).
    h : (T, B, N) hidden states ``h_t``.
    active : (T, B, N) ReLU derivative (1 where ``a_t > 0``), in the float dtype.
    logits : (T, B, K) outputs ``y_t``.
    """

    x: Any
    h_prev: Any
    h: Any
    active: Any
    logits: Any


def check_params(params: dict, n_in: int | None = None) -> tuple[int, int, int]:
    """Validate a parameter dict; return ``(N, n_in, K)``."""
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise InvalidInputError(f"missing parameters {missing}; expected {list(PARAM_NAMES)}", field="params")
    W_x, W_h, W_y = (params[k] for k in PARAM_NAMES)
    n = W_h.shape[0]
    if tuple(W_h.shape) != (n, n):
        raise InvalidInputError(f"W_h must be square (N, N), got {tuple(W_h.shape)}", field="W_h")
    if W_x.ndim != 2 or W_x.shape[0] != n:
        raise InvalidInputError(f"W_x must be (N={n}, n_in), got {tuple(W_x.shape)}", field="W_x")
    if W_y.ndim != 2 or W_y.shape[1] != n:
        raise InvalidInputError(f"W_y must be (K, N={n}), got {tuple(W_y.shape)}", field="W_y")
    if n_in is not None and W_x.shape[1] != n_in:
        raise InvalidInputError(f"inputs have {n_in} channels but W_x expects {W_x.shape[1]}", field="x")
    return n, int(W_x.shape[1]), int(W_y.shape[0])


def init_params(n_hidden: int, n_in: int, n_out: int, W_h, random_state: np.random.Generator | int | None = None,
                dtype=np.float64) -> dict[str, np.ndarray]:
    """Input and readout weights drawn uniform ±1/√fan_in (PyTorch's default), with ``W_h`` given.

    Parameters
    ----------
    n_hidden, n_in, n_out : sizes N, n_in, K.
    W_h : (N, N) recurrent weights (see :mod:`neurodyn.circuits.inits`).
    random_state : int, numpy Generator or None.

    Returns
    -------
    dict of numpy arrays ``W_x (N, n_in)``, ``W_h (N, N)``, ``W_y (K, N)``.
    """
    rng = np.random.default_rng(random_state)
    W_h = np.asarray(W_h, dtype=dtype)
    if W_h.shape != (n_hidden, n_hidden):
        raise InvalidInputError(f"W_h must be ({n_hidden}, {n_hidden}), got {W_h.shape}", field="W_h")
    W_x = rng.uniform(-1, 1, (n_hidden, n_in)) / np.sqrt(n_in)
    W_y = rng.uniform(-1, 1, (n_out, n_hidden)) / np.sqrt(n_hidden)
    return {"W_x": W_x.astype(dtype), "W_h": W_h.copy(), "W_y": W_y.astype(dtype)}


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0 < alpha <= 1:
        raise InvalidInputError(f"alpha = dt/tau must lie in (0, 1], got {alpha}", field="alpha")
    return alpha


def forward(params: dict, x, alpha: float = 1.0) -> ForwardCache:
    """Run the RNN over ``x`` (T, B, n_in); return the :class:`ForwardCache`.

    Implements ``a_t = (1−α) h_{t−1} + α (W_x x_t + W_h h_{t−1})``, ``h_t = relu(a_t)``,
    ``y_t = W_y h_t`` (Liu et al. 2024, Eq. 1).
    """
    xp = get_namespace(x, params["W_h"])
    alpha = _check_alpha(alpha)
    if x.ndim != 3:
        raise InvalidInputError(f"inputs must be (T, B, n_in), got shape {tuple(x.shape)}", field="x")
    n, _, _ = check_params(params, x.shape[2])
    W_x, W_h, W_y = params["W_x"], params["W_h"], params["W_y"]
    T, B = x.shape[0], x.shape[1]
    # The input drive of all steps in one matmul: cheaper than T small ones.
    drive = alpha * xp.reshape(xp.reshape(x, (T * B, -1)) @ W_x.T, (T, B, n))
    h = xp.zeros((B, n), dtype=x.dtype, device=device_of(x))
    h_prev, hs, active = [], [], []
    for t in range(T):
        h_prev.append(h)
        a = (1.0 - alpha) * h + drive[t] + alpha * (h @ W_h.T)
        on = xp.astype(a > 0, a.dtype)
        h = a * on
        hs.append(h)
        active.append(on)
    h_all = xp.stack(hs)
    logits = xp.reshape(xp.reshape(h_all, (T * B, n)) @ W_y.T, (T, B, -1))
    return ForwardCache(x, xp.stack(h_prev), h_all, xp.stack(active), logits)


def _one_hot(labels, n_classes: int, dtype, xp):
    classes = xp.arange(n_classes, device=device_of(labels))
    return xp.astype(labels[..., None] == classes, dtype)


def _log_softmax(logits, xp):
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def check_labels(labels, shape: tuple[int, int], n_classes: int) -> None:
    if tuple(labels.shape) != tuple(shape):
        raise InvalidInputError(f"labels must be (T, B) = {tuple(shape)}, got {tuple(labels.shape)}",
                                field="labels")


def cross_entropy(logits, labels):
    """Mean cross-entropy over all steps and trials.

    Parameters
    ----------
    logits : (T, B, K).
    labels : (T, B) integer classes.

    Returns
    -------
    0-d array ``−mean_{t,b} log softmax(y_{t,b})[label_{t,b}]``.
    """
    xp = get_namespace(logits)
    logp = _log_softmax(logits, xp)
    onehot = _one_hot(labels, logits.shape[-1], logits.dtype, xp)
    return -xp.sum(onehot * logp) / (logits.shape[0] * logits.shape[1])


def loss_and_logits(params: dict, x, labels, alpha: float = 1.0):
    """``(loss, logits)`` of a forward pass (no gradient)."""
    cache = forward(params, x, alpha)
    return cross_entropy(cache.logits, labels), cache.logits


def backprop_hidden(dh_out, cache: ForwardCache, W_h, alpha: float):
    """Backpropagate hidden-state gradients through time.

    Parameters
    ----------
    dh_out : (..., T, B, N) direct gradient of the objective w.r.t. each ``h_t`` (from the
        readout); leading axes are independent objectives sharing one forward pass (used
        by the Jacobian).
    cache : forward pass.
    W_h : (N, N).

    Returns
    -------
    (..., T, B, N) gradients w.r.t. the pre-activations ``a_t`` (the BPTT "deltas").
    The recursion is ``δ_t = (∂L/∂h_t + (1−α) δ_{t+1} + α W_hᵀ δ_{t+1}) ⊙ relu'(a_t)``.
    """
    xp = get_namespace(dh_out, W_h)
    T = cache.h.shape[0]
    carry = None
    deltas = [None] * T
    for t in range(T - 1, -1, -1):
        dh = dh_out[..., t, :, :] if carry is None else dh_out[..., t, :, :] + carry
        delta = dh * cache.active[t]
        deltas[t] = delta
        carry = (1.0 - alpha) * delta + alpha * (delta @ W_h)
    return xp.stack(deltas, axis=-3)


def bptt(params: dict, x, labels, alpha: float = 1.0, cache: ForwardCache | None = None):
    """Loss and its gradients by backpropagation through time, written out by hand.

    Parameters
    ----------
    params : dict ``W_x (N, n_in)``, ``W_h (N, N)``, ``W_y (K, N)``.
    x : (T, B, n_in) inputs.
    labels : (T, B) integer classes.
    alpha : dt/τ.
    cache : a forward pass of the same inputs, if already computed.

    Returns
    -------
    loss : 0-d array, mean cross-entropy.
    grads : dict with the same keys and shapes as ``params``.
    cache : the forward pass.

    Notes
    -----
    With ``g_t = (softmax(y_t) − onehot_t)/(T B)`` and deltas ``δ_t`` from
    :func:`backprop_hidden`: ``∂L/∂W_y = Σ_t g_tᵀ h_t``,
    ``∂L/∂W_h = α Σ_t δ_tᵀ h_{t−1}``, ``∂L/∂W_x = α Σ_t δ_tᵀ x_t``.
    """
    xp = get_namespace(x, params["W_h"])
    alpha = _check_alpha(alpha)
    cache = forward(params, x, alpha) if cache is None else cache
    T, B, n = cache.h.shape
    n_out = params["W_y"].shape[0]
    check_labels(labels, (T, B), n_out)
    logp = _log_softmax(cache.logits, xp)
    onehot = _one_hot(labels, n_out, logp.dtype, xp)
    loss = -xp.sum(onehot * logp) / (T * B)
    g = (xp.exp(logp) - onehot) / (T * B)
    g2 = xp.reshape(g, (T * B, n_out))
    dW_y = g2.T @ xp.reshape(cache.h, (T * B, n))
    dh_out = xp.reshape(g2 @ params["W_y"], (T, B, n))
    delta = xp.reshape(backprop_hidden(dh_out, cache, params["W_h"], alpha), (T * B, n))
    dW_h = alpha * (delta.T @ xp.reshape(cache.h_prev, (T * B, n)))
    dW_x = alpha * (delta.T @ xp.reshape(cache.x, (T * B, -1)))
    return loss, {"W_x": dW_x, "W_h": dW_h, "W_y": dW_y}, cache


def _output_deltas(params: dict, cache: ForwardCache, alpha: float):
    """Deltas of every output ``y_{t,b,k}`` w.r.t. the pre-activations: (T, K, T_s, B, N)."""
    xp = get_namespace(cache.h, params["W_h"])
    T, B, n = cache.h.shape
    W_y = params["W_y"]
    n_out = W_y.shape[0]
    eye_t = xp.eye(T, dtype=W_y.dtype, device=device_of(W_y))
    # Objective (t, k) injects W_y[k] into ∂/∂h at step t only, for every trial at once.
    seeds = eye_t[:, None, :, None, None] * W_y[None, :, None, None, :]
    seeds = seeds * xp.ones((1, 1, 1, B, 1), dtype=W_y.dtype, device=device_of(W_y))
    return backprop_hidden(seeds, cache, params["W_h"], alpha)  # (T, K, T_s, B, N)


def output_jacobian(params: dict, x, alpha: float = 1.0):
    """Jacobian of every output w.r.t. ``W_h``, as an explicit matrix.

    Parameters
    ----------
    params, x, alpha : as in :func:`forward`.

    Returns
    -------
    (T·B·K, N·N) array; row ``(t, b, k)`` (C order) is ``vec ∂y_{t,b,k}/∂W_h`` (C order
    over ``W_h[i, j]``).  Memory grows as T·B·K·N², so use :func:`tangent_kernel` for the
    kernel of large networks.

    Notes
    -----
    ``∂y_{t,b,k}/∂W_h = α Σ_{s≤t} δ^{(t,k)}_{s,b} h_{s−1,b}ᵀ``, with the deltas from one
    backward pass per (step, output) pair, batched over trials.
    """
    xp = get_namespace(x, params["W_h"])
    alpha = _check_alpha(alpha)
    cache = forward(params, x, alpha)
    T, B, n = cache.h.shape
    n_out = params["W_y"].shape[0]
    d = _output_deltas(params, cache, alpha)  # (t, k, s, b, i)
    d = xp.permute_dims(d, (0, 3, 1, 4, 2))  # (t, b, k, i, s)
    hp = xp.permute_dims(cache.h_prev, (1, 0, 2))  # (b, s, j)
    jac = alpha * (d @ hp[None, :, None, :, :])  # (t, b, k, i, j)
    return xp.reshape(jac, (T * B * n_out, n * n))


def tangent_kernel(params: dict, x, alpha: float = 1.0):
    """Empirical tangent kernel ``K = J Jᵀ`` of the outputs w.r.t. ``W_h``, without forming J.

    Parameters
    ----------
    params, x, alpha : as in :func:`forward`; ``x`` is the probe set (T, B, n_in).

    Returns
    -------
    (T·B·K, T·B·K) kernel with rows/columns ordered ``(t, b, k)`` as in
    :func:`output_jacobian`.

    Notes
    -----
    Each Jacobian row is ``α Σ_s δ_{r,s} ⊗ h_{s−1,b(r)}``, so
    ``K[r, r'] = α² Σ_{s,s'} (δ_{r,s}·δ_{r',s'}) (h_{s−1,b}·h_{s'−1,b'})``: two Gram
    matrices of size (T·B·K)·T instead of a (T·B·K) × N² Jacobian, i.e. T²/N of the work.
    """
    xp = get_namespace(x, params["W_h"])
    alpha = _check_alpha(alpha)
    cache = forward(params, x, alpha)
    T, B, n = cache.h.shape
    n_out = params["W_y"].shape[0]
    n_rows = T * B * n_out
    d = _output_deltas(params, cache, alpha)  # (t, k, s, b, i)
    d = xp.reshape(xp.permute_dims(d, (0, 3, 1, 2, 4)), (n_rows, T, n))  # rows (t, b, k), s, i
    d_flat = xp.reshape(d, (n_rows * T, n))
    hp = xp.reshape(cache.h_prev, (T * B, n))
    gram_h = xp.reshape(hp @ hp.T, (T, B, T, B))  # (s, b, s', b')
    dev = device_of(x)
    trial_of_row = xp.asarray((np.arange(n_rows) // n_out) % B, device=dev)
    kernel = xp.zeros((n_rows, n_rows), dtype=x.dtype, device=dev)
    for s in range(T):
        gram_d = xp.reshape(d[:, s, :] @ d_flat.T, (n_rows, n_rows, T))  # (r, r', s')
        gh = xp.take(gram_h[s], trial_of_row, axis=0)  # (r, s', b')
        gh = xp.take(gh, trial_of_row, axis=2)  # (r, s', r')
        kernel = kernel + xp.sum(gram_d * xp.permute_dims(gh, (0, 2, 1)), axis=2)
    return alpha**2 * kernel


def accuracy(logits, labels, decision_steps) -> Any:
    """Fraction of trials whose argmax output at the decision step(s) equals the label.

    Parameters
    ----------
    logits : (T, B, K).
    labels : (T, B).
    decision_steps : sequence of step indices scored.
    """
    xp = get_namespace(logits)
    steps = list(decision_steps)
    pred = xp.argmax(logits[steps[0]:steps[-1] + 1], axis=-1)
    target = labels[steps[0]:steps[-1] + 1]
    return xp.mean(xp.astype(pred == target, logits.dtype))
