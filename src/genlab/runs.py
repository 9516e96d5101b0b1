"""Every training run under a folder, whatever made it: train.py, a multirun, a sweep, a
baseline table. One row per run dir, read from its summary.json and .hydra/config.yaml."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genlab.markdown import markdown_table
from genlab.metrics.keys import SCORES
from genlab.tracking.summary import SUMMARY_FILE

# Columns of the listing, in order: the scores papers report, from the table of metric keys.
COLUMNS = (
    "run", "kind", "status", "model", "data", "experiment", "seed", "group",
    "generator_steps", "global_step", "wall_s",
    *(key.name for key in SCORES if key.headline), "metric_extractor",
)  # fmt: skip


@dataclass(frozen=True)
class RunRow:
    dir: Path
    summary: dict[str, Any]
    config: dict[str, Any]

    def kind(self, root: Path) -> str:
        """train, multirun, sweep or reproduce: the tool whose folder holds the run."""
        parts = self.dir.relative_to(root).parts if self.dir.is_relative_to(root) else ()
        for part, kind in (("trials", "sweep"), ("reproduce", "reproduce"),
                           ("multiruns", "multirun"), ("runs", "train")):  # fmt: skip
            if part in parts or part in self.dir.parts:
                return kind
        return "train"

    def row(self, root: Path) -> dict[str, Any]:
        values = {key: self.summary.get(key) for key in COLUMNS}
        values["run"] = (
            str(self.dir.relative_to(root)) if self.dir.is_relative_to(root) else str(self.dir)
        )
        values["kind"] = self.kind(root)
        values["group"] = self.config.get("group")
        return values

    @property
    def tags(self) -> list[str]:
        return [str(tag) for tag in self.config.get("tags") or []]


def default_root() -> Path:
    """``$GENLAB_ROOT/outputs``, or ``outputs`` in the working directory."""
    return Path(os.environ.get("GENLAB_ROOT", ".")) / "outputs"


def find_runs(roots: Iterable[Path]) -> list[RunRow]:
    """Training runs below ``roots``, oldest first; other apps' dirs are passed over."""
    rows = []
    for root in roots:
        for summary_file in sorted(Path(root).rglob(SUMMARY_FILE)):
            run = _read(summary_file.parent)
            if run is not None:
                rows.append(run)
    return sorted(rows, key=lambda r: (r.dir / SUMMARY_FILE).stat().st_mtime)


def _read(run_dir: Path) -> RunRow | None:
    """The run, or None for another app's dir (evaluate.py writes a summary.json too); a run
    whose files cannot be parsed is listed as ``unreadable``."""
    config_file = run_dir / ".hydra" / "config.yaml"
    try:
        summary = json.loads((run_dir / SUMMARY_FILE).read_text())
        config = (yaml.safe_load(config_file.read_text()) if config_file.is_file() else {}) or {}
    except (OSError, ValueError, yaml.YAMLError):
        return RunRow(run_dir, {"status": "unreadable"}, {})
    is_training = config.get("task_name", "train") == "train" and "global_step" in summary
    return RunRow(run_dir, summary, config) if is_training else None


def select(
    runs: list[RunRow],
    status: str | None = None,
    model: str | None = None,
    group: str | None = None,
    tag: str | None = None,
) -> list[RunRow]:
    return [
        run
        for run in runs
        if (status is None or run.summary.get("status") == status)
        and (model is None or run.summary.get("model") == model)
        and (group is None or run.config.get("group") == group)
        and (tag is None or tag in run.tags)
    ]


def markdown(runs: list[RunRow], root: Path) -> str:
    rows = ([row[key] for key in COLUMNS] for row in (run.row(root) for run in runs))
    return "\n".join(markdown_table(COLUMNS, rows)) + "\n"
