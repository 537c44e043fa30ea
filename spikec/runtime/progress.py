"""`report='text'`: progress of a long run, printed as Brian prints it."""

from __future__ import annotations

import sys
import time


class TextReport:
    """Prints a line at the start, every `period` seconds of wall time, and at the end."""

    def __init__(self, start: float, duration: float, period: float, stream: str = "text"):
        self.duration = duration
        self.period = period
        self.output = sys.stderr if stream == "stderr" else sys.stdout
        self.started = self.last = time.perf_counter()
        print(f"Starting simulation at t={start:g} s for a duration of {duration:g} s",
              file=self.output, flush=True)

    def update(self, fraction: float) -> None:
        now = time.perf_counter()
        if now - self.last >= self.period and fraction < 1:
            self.last = now
            self._line(fraction, now)

    def _line(self, fraction: float, now: float) -> None:
        elapsed = now - self.started
        remaining = elapsed / fraction * (1 - fraction) if fraction > 0 else float("nan")
        print(f"{fraction * self.duration:g} s ({fraction:.0%}) simulated in {elapsed:.2f}s, "
              f"estimated {remaining:.2f}s remaining.", file=self.output, flush=True)

    def finish(self) -> None:
        now = time.perf_counter()
        print(f"{self.duration:g} s (100%) simulated in {now - self.started:.2f}s",
              file=self.output, flush=True)
