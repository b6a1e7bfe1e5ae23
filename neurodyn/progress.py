"""Progress of long loops (EM fits, HALS iterations, RNN training).

A bar redrawn in place when the stream is a terminal; otherwise (Snakemake logs, SLURM
job logs) one plain line every ``every_s`` seconds and one at the end, through
:mod:`logging` (logger ``neurodyn.progress``, level INFO) so a workflow script's log
file receives it and a session that configured no logging sees nothing.  Each line says
which step, how far (``done/total``), the elapsed time, the rate and, when the total is
known, an estimate of the time left (from the mean time per item so far).  Loops shorter
than ``min_s`` seconds print nothing, so the many small fits of a test suite or a rank
sweep stay quiet.

With ``heartbeat=True`` a background thread also logs the line when no update came for
``every_s`` seconds, so a step whose items each take minutes (one community search, one
model fit) still says every ``every_s`` seconds that it is running and where it is.  Use
it as a context manager, so that the thread stops with the loop.

>>> with Progress(total=200, desc="EM") as bar:      # doctest: +SKIP
...     for it in range(200):
...         ...
...         bar.update(1, loglik=ll)
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

logger = logging.getLogger("neurodyn.progress")
#: Seconds between the lines of the long workflow steps (each logs at least every 30 s).
STEP_EVERY_S = 25.0


def _now() -> float:
    """The default clock (looked up at every call, so tests can replace it)."""
    return time.perf_counter()


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


class Progress:
    """Report ``done / total`` with rate, elapsed time and the latest metrics."""

    def __init__(self, total: int | None, desc: str = "", *, every_s: float = 10.0, min_s: float = 1.0,
                 stream: IO[str] | None = None, enabled: bool = True, width: int = 24, heartbeat: bool = False,
                 clock: Callable[[], float] | None = None, log: logging.Logger | None = None):
        self.total = total
        self.desc = desc
        self.every_s = float(every_s)
        self.min_s = float(min_s)
        self._shown = False
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.done = 0
        self.metrics: dict[str, Any] = {}
        self.clock = clock if clock is not None else _now
        self.log = log if log is not None else logger
        self.start = self.clock()
        self._last = self.start
        try:
            self.interactive = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.interactive = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if heartbeat and enabled and not self.interactive:
            self._thread = threading.Thread(target=self._beat, name=f"progress {desc}", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(min(self.every_s, 1.0) if self.every_s > 0 else 0.05):
            now = self.clock()
            with self._lock:
                if self.enabled and now - self.start >= self.min_s and now - self._last >= self.every_s:
                    self.log.info(self._text())
                    self._last = now
                    self._shown = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def eta_s(self) -> float | None:
        """Estimated seconds left: the mean time per item so far times the items left
        (None without a total or before the first item)."""
        if not self.total or self.done <= 0:
            return None
        elapsed = self.clock() - self.start
        return elapsed / self.done * max(0, self.total - self.done)

    def _text(self) -> str:
        elapsed = self.clock() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        metrics = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items())
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * self.width) + "-" * (self.width - int(frac * self.width))
            head = f"{self.desc} [{bar}] {self.done}/{self.total}"
        else:
            head = f"{self.desc} {self.done}"
        eta = self.eta_s()
        if self.total and self.done >= self.total:
            left = "done"
        elif eta is not None:
            left = f"~{format_duration(eta)} left"
        else:
            left = "time left unknown" if self.total else ""
        return " ".join(part for part in (head, f"{elapsed:.1f}s", f"{rate:.3g} it/s", left, metrics) if part)

    def update(self, n: int = 1, **metrics: Any) -> None:
        """Advance by ``n`` and record the latest metric values."""
        self.done += n
        self.metrics.update(metrics)
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.min_s:
            return
        if self.interactive:
            if now - self._last >= 0.1:
                self.stream.write("\r" + self._text())
                self.stream.flush()
                self._last = now
                self._shown = True
        else:
            with self._lock:
                if now - self._last >= self.every_s:
                    self.log.info(self._text())
                    self._last = now
                    self._shown = True

    def close(self) -> None:
        """Print the final state (once) and stop the heartbeat."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if not self.enabled:
            return
        self.enabled = False
        if not self._shown and self.clock() - self.start < self.min_s:
            return
        if self.interactive:
            self.stream.write("\r" + self._text() + "\n")
            self.stream.flush()
        else:
            self.log.info(self._text())


class Heartbeat:
    """Log that a call without progress hooks is still running, every ``every_s`` seconds.

    For a step that gives no progress of its own (a community search on one graph), a
    daemon thread logs ``desc``, the elapsed time and, when ``expected_s`` is given (say
    from the previous items of the same loop), the estimated time left.  Nothing is
    logged when the call ends within ``every_s``.

    >>> with Heartbeat("communities: component 2/5", expected_s=40.0):   # doctest: +SKIP
    ...     fit_one_graph()
    """

    def __init__(self, desc: str, *, every_s: float = 30.0, expected_s: float | None = None,
                 log: logging.Logger | None = None, clock: Callable[[], float] | None = None):
        self.desc = desc
        self.every_s = float(every_s)
        self.expected_s = expected_s
        self.log = log if log is not None else logger
        self.clock = clock if clock is not None else _now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.beats = 0

    def message(self) -> str:
        elapsed = self.clock() - self.start
        text = f"{self.desc}: running for {elapsed:.0f}s"
        if self.expected_s is not None:
            text += f", ~{max(self.expected_s - elapsed, 0.0):.0f}s left (estimate)"
        return text

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.beats += 1
            self.log.info(self.message())

    def __enter__(self) -> Heartbeat:
        self.start = self.clock()
        self._thread = threading.Thread(target=self._run, name="neurodyn-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
