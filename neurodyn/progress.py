"""Progress of long loops (EM fits, HALS iterations, RNN training).

A bar redrawn in place when the stream is a terminal; otherwise (Snakemake logs, SLURM
job logs) one plain line every ``every_s`` seconds and one at the end, through
:mod:`logging` so a workflow script's log file receives it.  Loops shorter than
``min_s`` seconds print nothing, so the many small fits of a test suite or a rank sweep
stay quiet.

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


class Progress:
    """Report ``done / total`` with rate, elapsed time and the latest metrics."""

    def __init__(self, total: int | None, desc: str = "", *, every_s: float = 10.0, min_s: float = 1.0,
                 stream: IO[str] | None = None, enabled: bool = True, width: int = 24,
                 clock: Callable[[], float] = time.perf_counter, log: logging.Logger | None = None):
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
        self.clock = clock
        self.log = log if log is not None else logger
        self.start = clock()
        self._last = self.start
        try:
            self.interactive = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.interactive = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _text(self) -> str:
        elapsed = self.clock() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        metrics = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items())
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * self.width) + "-" * (self.width - int(frac * self.width))
            head = f"{self.desc} [{bar}] {self.done}/{self.total}"
            if 0 < self.done < self.total and rate > 0:
                # For loops that may stop early (a tolerance) this is an upper bound.
                head += f" ~{(self.total - self.done) / rate:.0f}s left"
        else:
            head = f"{self.desc} {self.done}"
        return f"{head} {elapsed:.1f}s {rate:.3g} it/s {metrics}".rstrip()

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
        elif now - self._last >= self.every_s:
            self.log.info(self._text())
            self._last = now
            self._shown = True

    def close(self) -> None:
        """Print the final state (once)."""
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
                 log: logging.Logger | None = None, clock: Callable[[], float] = time.perf_counter):
        self.desc = desc
        self.every_s = float(every_s)
        self.expected_s = expected_s
        self.log = log if log is not None else logger
        self.clock = clock
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
