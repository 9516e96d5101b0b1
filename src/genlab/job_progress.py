"""``[i/N]`` and an ETA for a batch of training processes (sweep trials, baseline runs)."""

from __future__ import annotations

import threading
import time


class JobProgress:
    """Counts jobs started and finished, ``workers`` at a time; the ETA assumes the jobs left
    take as long as the finished ones did on average."""

    def __init__(self, total: int, workers: int = 1) -> None:
        self.total = total
        self.workers = max(1, workers)
        self._started = 0
        self._finished: list[float] = []
        self._lock = threading.Lock()
        self._clock = time.monotonic()

    def start(self) -> str:
        """``[i/N]`` for the job that starts now."""
        with self._lock:
            self._started += 1
            return f"[{self._started}/{self.total}]"

    def finish(self, wall_s: float) -> str:
        """``k/N done, ETA …`` once a job ended."""
        with self._lock:
            self._finished.append(wall_s)
            done = len(self._finished)
            left = self.total - done
            if left <= 0:
                return f"{done}/{self.total} done in {duration(time.monotonic() - self._clock)}"
            eta = sum(self._finished) / done * left / min(self.workers, left)
            return f"{done}/{self.total} done, about {duration(eta)} left"


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
