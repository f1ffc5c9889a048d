"""A plain-text progress line: redrawn in place on a terminal, one line per change (at most every few
seconds) in a log or a pipe.

    [########----------------] 412/1200 done, 301 found | Hunter 688 credits, Perplexity $0.41 | 3m10s, ETA 7m

The ETA is the time left at the pace of the leads finished in this run so far (the ones a resumed run
found already done do not count towards the pace); it shows once a few leads have finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

WIDTH = 24
LOG_EVERY_SECONDS = 5.0  # not a terminal: a line per change, but not more often than this
MIN_DONE_FOR_ETA = 3


@dataclass(frozen=True)
class Tally:
    processed: int = 0
    found: int = 0
    credits: float = 0.0
    dollars: float = 0.0


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._first: int | None = None  # processed when the first update came (done before this run)
        self._printed: Tally | None = None  # the last tally written (not a terminal)
        self._last_logged = 0.0
        self._drawn = False
        self._broken = False

    def update(self, tally: Tally) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = tally.processed
        if self._tty:
            self._draw("\r", tally, now)
        elif tally != self._printed and (
            now - self._last_logged >= LOG_EVERY_SECONDS or tally.processed >= self._total
        ):
            self._draw("", tally, now, end="\n")
            self._last_logged = now
            self._printed = tally

    def finish(self) -> None:
        if self._tty and self._drawn:
            self._write("\n")

    def line(self, tally: Tally, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        filled = WIDTH * tally.processed // self._total if self._total else WIDTH
        bar = "#" * filled + "-" * (WIDTH - filled)
        elapsed = now - self._started
        text = (
            f"[{bar}] {tally.processed}/{self._total} done, {tally.found} found | "
            f"Hunter {tally.credits:g} credits, Perplexity ${tally.dollars:.2f} | {duration(elapsed)}"
        )
        done_here = tally.processed - (self._first or 0)
        left = self._total - tally.processed
        if left > 0 and done_here >= MIN_DONE_FOR_ETA and elapsed > 0:
            text += f", ETA {duration(left * elapsed / done_here)}"
        return text

    def _draw(self, prefix: str, tally: Tally, now: float, end: str = "") -> None:
        clear = "\033[K" if self._tty else ""  # a shorter line must not leave the old one's tail
        self._write(f"{prefix}{self.line(tally, now)}{clear}{end}")
        self._drawn = True

    def _write(self, text: str) -> None:
        """A progress line is never worth a run: once its reader is gone (a closed pipe), it goes quiet."""
        if self._broken:
            return
        try:
            self._stream.write(text)
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            self._broken = True
