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
import time
from typing import IO, Any

logger = logging.getLogger("neurodyn.progress")


class Progress:
    """Report ``done / total`` with rate, elapsed time and the latest metrics."""

    def __init__(self, total: int | None, desc: str = "", *, every_s: float = 10.0, min_s: float = 1.0,
                 stream: IO[str] | None = None, enabled: bool = True, width: int = 24):
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
        self.start = time.perf_counter()
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
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        metrics = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items())
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * self.width) + "-" * (self.width - int(frac * self.width))
            head = f"{self.desc} [{bar}] {self.done}/{self.total}"
        else:
            head = f"{self.desc} {self.done}"
        return f"{head} {elapsed:.1f}s {rate:.3g} it/s {metrics}".rstrip()

    def update(self, n: int = 1, **metrics: Any) -> None:
        """Advance by ``n`` and record the latest metric values."""
        self.done += n
        self.metrics.update(metrics)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.start < self.min_s:
            return
        if self.interactive:
            if now - self._last >= 0.1:
                self.stream.write("\r" + self._text())
                self.stream.flush()
                self._last = now
                self._shown = True
        elif now - self._last >= self.every_s:
            logger.info(self._text())
            self._last = now
            self._shown = True

    def close(self) -> None:
        """Print the final state (once)."""
        if not self.enabled:
            return
        self.enabled = False
        if not self._shown and time.perf_counter() - self.start < self.min_s:
            return
        if self.interactive:
            self.stream.write("\r" + self._text() + "\n")
            self.stream.flush()
        else:
            logger.info(self._text())
