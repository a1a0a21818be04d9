"""Progress of a run: one live status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("jwcal.run")


class Progress:
    def __init__(self, total: int, stream=None, live: bool | None = None):
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.done = self.failed = self.skipped = 0
        self.running: dict = {}
        self.t0 = time.monotonic()

    def started(self, unit) -> None:
        self.running[unit.id] = unit
        if not self.live:
            log.info("[%d/%d] start %s (%s)", self.finished + 1, self.total, unit.name, unit.pipeline)
        self._draw()

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    def finished_unit(self, unit, status: str, seconds: float = 0.0, message: str = "") -> None:
        self.running.pop(unit.id, None)
        if status in ("ok", "up-to-date"):
            self.done += 1
        elif status == "failed":
            self.failed += 1
        else:
            self.skipped += 1
        if not self.live:
            extra = f": {message}" if message else ""
            log.info("[%d/%d] %s %s in %.1f s%s", self.finished, self.total, unit.name, status, seconds, extra)
        self._draw()

    def eta(self) -> str:
        n = self.finished
        if not n:
            return "?"
        remaining = (time.monotonic() - self.t0) / n * (self.total - n)
        return f"{int(remaining // 60)}m{int(remaining % 60):02d}s"

    def _draw(self) -> None:
        if not self.live:
            return
        current = ", ".join(f"{u.name}:{u.pipeline}" for u in list(self.running.values())[:2])
        line = (f"\r[{self.finished}/{self.total}] ok {self.done} failed {self.failed} skipped {self.skipped}"
                f" | ETA {self.eta()} | {current}")
        self.stream.write(line[:160].ljust(160))
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
