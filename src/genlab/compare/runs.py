"""Run dirs as compare.py reads them: summary, resolved-config diff, metric history, sample grids."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.config import flatten_config
from genlab.errors import ConfigError
from genlab.runs import DamagedRun, is_training_run, read_run_files, run_dirs_under
from genlab.tracking.history import read_history
from genlab.tracking.summary import SUMMARY_FILE

log = logging.getLogger("genlab.compare")


@dataclass
class Run:
    dir: Path
    summary: dict[str, Any]
    config: dict[str, Any]  # flat: dotted keys -> values, as in .hydra/config.yaml
    history: list[dict[str, Any]] = field(default_factory=list)
    overrides: tuple[str, ...] = ()  # the command line's, from .hydra/overrides.yaml
    unreadable: str | None = None  # why its files could not be read: it is left out

    @classmethod
    def left_out(cls, damaged: DamagedRun) -> Run:
        """A run dir whose files cannot be read, kept only to be named in the report."""
        return cls(damaged.run_dir, {}, {}, unreadable=damaged.reason)

    @property
    def seed(self) -> Any:
        return self.summary.get("seed", self.config.get("seed"))

    @property
    def ok(self) -> bool:
        return self.summary.get("status") == "ok"

    @property
    def why_left_out(self) -> str | None:
        """Why a comparison cannot use this run; None when it can."""
        if self.unreadable is not None:
            return self.unreadable
        if not self.ok:
            return str(self.summary.get("status", "no status"))
        if not self.summary.get("metric_extractor"):
            return "no metrics"
        return None

    def last_grid(self) -> Path | None:
        grids = sorted((self.dir / "samples").glob("samples_step*.png"))
        return grids[-1] if grids else None


def find_run_dirs(paths: Iterable[Path]) -> list[Path]:
    """Run dirs (those with a summary.json) at or below each path: run dirs, sweep dirs,
    multirun dirs, folders of runs."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path} does not exist: give run dirs or sweep dirs to compare")
        if (path / SUMMARY_FILE).is_file():
            found.append(path)
            continue
        below = run_dirs_under(path)
        if not below:
            raise ConfigError(f"no run dirs (summary.json) under {path}")
        found += below
    return list(dict.fromkeys(p.resolve() for p in found))


def load_run(run_dir: Path) -> Run:
    config_file = run_dir / ".hydra" / "config.yaml"
    if not config_file.is_file():
        raise DamagedRun(
            run_dir,
            "has no .hydra/config.yaml: it is not a genlab run dir, or its .hydra/ was not copied",
        )
    files = read_run_files(run_dir)
    try:
        history = read_history(run_dir)
    except (OSError, ValueError) as exc:
        raise DamagedRun(run_dir, f"cannot be read ({type(exc).__name__}: {exc})") from exc
    return Run(run_dir, files.summary, flat_config(files.config), history, files.overrides)


def load_training_runs(run_dirs: Iterable[Path]) -> list[Run]:
    """The training runs among ``run_dirs``; other apps' dirs (evaluate.py writes a summary.json
    too) are passed over; a damaged one is named in a warning and kept, to be listed among the
    runs the comparison leaves out."""
    runs = []
    for run_dir in run_dirs:
        try:
            run = load_run(run_dir)
        except DamagedRun as damaged:
            log.warning("Leaving out %s", damaged)
            runs.append(Run.left_out(damaged))
            continue
        if is_training_run(run.config):
            runs.append(run)
    return runs


def flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run's config as dotted keys (:func:`genlab.config.flatten_config`), lists and mappings
    as JSON text: values a comparison can group runs by."""
    return {
        key: json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value
        for key, value in flatten_config(config).items()
    }
