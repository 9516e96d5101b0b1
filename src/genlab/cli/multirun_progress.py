"""A Hydra callback that numbers the jobs of a multirun ``[i/N]`` and reports an ETA.

Hydra's basic launcher runs the jobs one after another in this process, so one callback
instance sees them all; other launchers start each job elsewhere and print nothing here.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from genlab.job_progress import JobProgress

log = logging.getLogger("genlab.multirun")


def count_jobs(overrides: list[str]) -> int | None:
    """The number of jobs the basic sweeper makes of ``overrides`` (the product of the sweep
    lengths); None when a sweep's length is not known before it runs (e.g. a glob)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        return math.prod(
            len(list(o.sweep_string_iterator())) for o in parsed if o.is_sweep_override()
        )
    except Exception:
        return None


class MultirunProgress(Callback):
    def __init__(self) -> None:
        self.progress: JobProgress | None = None
        self.started = 0.0

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not str(config.hydra.launcher._target_).endswith("BasicLauncher"):
            return
        total = count_jobs(list(config.hydra.overrides.task))
        if total:
            self.progress = JobProgress(total)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if self.progress is None or config.hydra.mode.name != "MULTIRUN":
            return
        self.started = time.monotonic()
        overrides = " ".join(config.hydra.overrides.task)
        log.info("%s Job %d: %s", self.progress.start(), config.hydra.job.num, overrides)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self.progress is None or config.hydra.mode.name != "MULTIRUN":
            return
        wall_s = time.monotonic() - self.started
        status = "ok" if job_return.status.name == "COMPLETED" else "failed"
        log.info(
            "Job %d: %s in %.0f s (%s)",
            config.hydra.job.num, status, wall_s, self.progress.finish(wall_s),
        )  # fmt: skip
