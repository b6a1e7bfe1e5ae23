"""Time per training step: hand-written BPTT (numpy, and torch without autograd) vs. torch autograd.

The same network (N = 300 hidden units, batch 32, 8 steps, 3 inputs, 3 outputs, α = 1)
and the same SGD-with-momentum step.  Target: numpy BPTT ≤ 1.5 × torch autograd's time on
the CPU with the same number of threads.  When CUDA is available, a second table gives the
torch backend on the GPU and its speed-up over the CPU.

Run::

    .venv/bin/python benchmarks/rnn_backprop.py [--threads 1] [--steps 200] [--dtype float32]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from neurodyn.backend import Backend
from neurodyn.circuits import inits, rnn, tasks
from neurodyn.circuits.training import TrainConfig, _Optimizer


def _timed(step, n_steps: int, repeats: int, sync=lambda: None) -> float:
    """Median over ``repeats`` of the mean seconds per step (after a warm-up)."""
    for _ in range(5):
        step()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        sync()
        times.append((time.perf_counter() - start) / n_steps)
    return statistics.median(times)


def manual_step_fn(params, x, labels, backend: Backend):
    """One SGD step with the hand-written BPTT on ``backend``."""
    state = {"params": {k: backend.asarray(v) for k, v in params.items()}}
    opt = _Optimizer(state["params"], TrainConfig(lr=3e-3, momentum=0.9))
    xb, lb = backend.asarray(x), backend.asarray(labels)

    def step():
        _, grads, _ = rnn.bptt(state["params"], xb, lb, 1.0)
        state["params"] = opt.step(state["params"], grads)

    return step


def autograd_step_fn(params, x, labels, device: str):
    """One SGD step of the same network written in torch and differentiated by autograd."""
    import torch

    p = {k: torch.tensor(v, device=device, requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x, device=device)
    lt = torch.tensor(labels, device=device).reshape(-1)
    opt = torch.optim.SGD(list(p.values()), lr=3e-3, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        h = torch.zeros(x.shape[1], p["W_h"].shape[0], dtype=xt.dtype, device=device)
        drive = xt @ p["W_x"].T
        outs = []
        for t in range(x.shape[0]):
            h = torch.relu(drive[t] + h @ p["W_h"].T)
            outs.append(h)
        logits = torch.stack(outs) @ p["W_y"].T
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), lt)
        loss.backward()
        opt.step()

    return step


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-hidden", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for numpy BLAS and torch")
    ap.add_argument("--steps", type=int, default=200, help="steps per timing repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    dtype = np.dtype(args.dtype)
    spec = tasks.get_task("2AF")
    params = rnn.init_params(args.n_hidden, spec.n_in, spec.n_out, inits.gaussian_init(args.n_hidden, random_state=0), 1,
                             dtype=dtype)
    trials = tasks.sample_trials("2AF", args.batch, 2)
    x, labels = trials.inputs.astype(dtype), trials.labels
    print(f"RNN training step: N = {args.n_hidden}, batch {args.batch}, {x.shape[0]} steps, {args.dtype}, "
          f"{args.threads} CPU thread(s); median of {args.repeats} × {args.steps} steps")
    rows = []
    with threadpool_limits(args.threads):
        numpy_s = _timed(manual_step_fn(params, x, labels, Backend("numpy")), args.steps, args.repeats)
        rows.append(("numpy, hand-written BPTT", numpy_s))
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            torch.set_num_threads(args.threads)
            rows.append(("torch CPU, hand-written BPTT",
                         _timed(manual_step_fn(params, x, labels, Backend("torch", "cpu")), args.steps, args.repeats)))
            torch_s = _timed(autograd_step_fn(params, x, labels, "cpu"), args.steps, args.repeats)
            rows.append(("torch CPU, autograd", torch_s))
    reference = dict(rows).get("torch CPU, autograd")
    print(f"\n{'implementation':34s} {'ms/step':>9s} {'÷ torch autograd':>17s}")
    for name, sec in rows:
        ratio = f"{sec / reference:17.2f}" if reference else f"{'n/a':>17s}"
        print(f"{name:34s} {sec * 1e3:9.3f} {ratio}")
    if reference:
        verdict = "meets" if numpy_s <= 1.5 * reference else "MISSES"
        print(f"\nnumpy BPTT / torch autograd = {numpy_s / reference:.2f} ({verdict} the ≤ 1.5 target)")

    if torch is not None and torch.cuda.is_available():
        def sync():
            torch.cuda.synchronize()

        gpu = [("torch CUDA, hand-written BPTT",
                _timed(manual_step_fn(params, x, labels, Backend("torch", "cuda")), args.steps, args.repeats, sync)),
               ("torch CUDA, autograd", _timed(autograd_step_fn(params, x, labels, "cuda"), args.steps,
                                               args.repeats, sync))]
        cpu = dict(rows)
        print(f"\nGPU ({torch.cuda.get_device_name()})")
        print(f"{'implementation':34s} {'ms/step':>9s} {'speed-up vs CPU':>17s}")
        for (name, sec), cpu_name in zip(gpu, ("torch CPU, hand-written BPTT", "torch CPU, autograd")):
            print(f"{name:34s} {sec * 1e3:9.3f} {cpu[cpu_name] / sec:17.2f}")
    else:
        print("\n(no CUDA device: GPU section skipped)")


if __name__ == "__main__":
    main()
