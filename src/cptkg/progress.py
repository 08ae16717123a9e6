"""A tiny progress bar on stderr: drawn only when stderr is a terminal, silent otherwise.

No dependency. Use as a context manager::

    with Progress("generating", total=n, unit="triples") as bar:
        for ...:
            bar.update(k)

``total=None`` shows a counter without a bar. Redraws are rate-limited (at most ~10 per
second) so updating in a hot loop stays cheap. Set ``CPTKG_PROGRESS=0`` to silence it on
a terminal, ``CPTKG_PROGRESS=1`` to force it (e.g. in a CI log).
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any


def enabled(stream: IO[str] | None = None) -> bool:
    """Whether a progress bar should be drawn on ``stream`` (default stderr)."""
    flag = os.environ.get("CPTKG_PROGRESS")
    if flag is not None:
        return flag not in ("0", "", "false", "no")
    s = stream if stream is not None else sys.stderr
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """A progress indicator for long work; a no-op when stderr is not a terminal."""

    def __init__(
        self,
        label: str,
        total: float | None = None,
        unit: str = "",
        *,
        stream: IO[str] | None = None,
        width: int = 30,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.count = 0.0
        self.stream = stream if stream is not None else sys.stderr
        self.active = enabled(self.stream)
        self.width = width
        self._start = time.monotonic()
        self._last = 0.0

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        self._draw()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        """Advance by ``n`` units (cheap: redraws at most every 0.1 s)."""
        self.count += n
        if self.active:
            now = time.monotonic()
            if now - self._last >= 0.1:
                self._draw(now=now)

    def set(self, value: float) -> None:
        """Set the absolute position."""
        self.count = value
        if self.active:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.active:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self.active = False

    def _draw(self, *, now: float | None = None) -> None:
        if not self.active:
            return
        now = now if now is not None else time.monotonic()
        self._last = now
        elapsed = now - self._start
        count = _human(self.count)
        if self.total:
            frac = min(1.0, self.count / self.total)
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            text = (
                f"\r{self.label} [{bar}] {frac * 100:5.1f}% {count}/{_human(self.total)} "
                f"{self.unit} {elapsed:6.1f}s"
            )
        else:
            text = f"\r{self.label} {count} {self.unit} {elapsed:6.1f}s"
        self.stream.write(text)
        self.stream.flush()


def _human(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f}M"
    if n >= 10_000:
        return f"{n / 1_000:.0f}k"
    return f"{n:.0f}"
