"""A plain-text progress bar: redrawn in place on a terminal, one line per change in a log or a pipe."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 24


class Progress:
    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._last: tuple[int, int] | None = None
        self._drawn = False

    def update(self, processed: int, found: int) -> None:
        if self._tty:
            self._draw("\r", processed, found)
        elif (processed, found) != self._last:
            self._draw("", processed, found, end="\n")
        self._last = (processed, found)

    def finish(self) -> None:
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, prefix: str, processed: int, found: int, end: str = "") -> None:
        filled = WIDTH * processed // self._total if self._total else WIDTH
        bar = "#" * filled + "-" * (WIDTH - filled)
        elapsed = time.monotonic() - self._started
        self._stream.write(
            f"{prefix}[{bar}] {processed}/{self._total} processed, {found} found  {elapsed:4.0f}s{end}"
        )
        self._stream.flush()
        self._drawn = True
