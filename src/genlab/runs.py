"""Every training run under a folder, whatever made it: train.py, a multirun, a sweep, a
baseline table. One row per run dir, read from its summary.json and .hydra/config.yaml.

Finding run dirs and reading their files is done here for every reader (genlab-runs and
compare.py): :func:`run_dirs_under`, :func:`read_run_files`, :func:`is_training_run`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from genlab.markdown import markdown_table
from genlab.metrics.keys import SCORES
from genlab.tracking.summary import SUMMARY_FILE, read_summary

# Columns of the listing, in order: the scores papers report, from the table of metric keys.
COLUMNS = (
    "run", "kind", "status", "model", "data", "experiment", "seed", "group", "swept",
    "generator_steps", "global_step", "budget", "wall_s",
    *(key.name for key in SCORES if key.headline), "degenerate", "metric_extractor",
)  # fmt: skip
# Overrides that tell where a run is or what it is called, never what was swept.
_NOT_SWEPT = ("hydra.", "run_name=", "paths.")


@dataclass(frozen=True)
class RunRow:
    dir: Path
    summary: dict[str, Any]
    config: dict[str, Any]
    overrides: tuple[str, ...] = ()  # the command line's, from .hydra/overrides.yaml

    def kind(self, root: Path) -> str:
        """train, multirun, sweep or reproduce: the tool whose folder holds the run."""
        parts = self.dir.relative_to(root).parts if self.dir.is_relative_to(root) else ()
        for part, kind in (("trials", "sweep"), ("reproduce", "reproduce"),
                           ("multiruns", "multirun"), ("runs", "train")):  # fmt: skip
            if part in parts or part in self.dir.parts:
                return kind
        return "train"

    def row(self, root: Path, swept: str = "") -> dict[str, Any]:
        values = {key: self.summary.get(key) for key in COLUMNS}
        values["run"] = (
            str(self.dir.relative_to(root)) if self.dir.is_relative_to(root) else str(self.dir)
        )
        values["kind"] = self.kind(root)
        values["group"] = self.config.get("group")
        values["swept"] = swept
        values["budget"] = self.budget
        flagged = self.summary.get("degenerate")
        flag = flagged.get("flag") if isinstance(flagged, dict) else None
        values["degenerate"] = {True: "yes", False: "no"}.get(flag)  # absent in older runs
        return values

    @property
    def budget(self) -> str | None:
        """The training budget the run was given: ``trainer.max_steps``, else its epochs."""
        trainer = self.config.get("trainer")
        if not isinstance(trainer, dict):
            return None
        max_steps = trainer.get("max_steps")
        if isinstance(max_steps, int) and max_steps > 0:
            return f"{max_steps} steps"
        max_epochs = trainer.get("max_epochs")
        return f"{max_epochs} epochs" if max_epochs is not None else None

    @property
    def tags(self) -> list[str]:
        return [str(tag) for tag in self.config.get("tags") or []]


def default_root() -> Path:
    """``$GENLAB_ROOT/outputs``, or ``outputs`` in the working directory."""
    return Path(os.environ.get("GENLAB_ROOT", ".")) / "outputs"


def run_dirs_under(root: Path) -> list[Path]:
    """The run dirs (folders with a summary.json) at or below ``root``, in path order."""
    return sorted(summary_file.parent for summary_file in Path(root).rglob(SUMMARY_FILE))


def is_training_run(config: Mapping[str, Any]) -> bool:
    """Whether a run dir's recorded config is a training run's: evaluate.py writes a
    summary.json too. A run dir without its recorded config counts as training."""
    return config.get("task_name", "train") == "train"


@dataclass(frozen=True)
class RunFiles:
    """What a run dir records: its summary, its config as written (nested, interpolations
    unresolved; empty when .hydra/config.yaml is absent) and the command line's overrides."""

    dir: Path
    summary: dict[str, Any]
    config: dict[str, Any]
    overrides: tuple[str, ...]


class DamagedRun(Exception):
    """A run dir whose files cannot be parsed (e.g. a copy interrupted mid-file) or that lacks
    the run's recorded config."""

    def __init__(self, run_dir: Path, reason: str) -> None:
        super().__init__(f"{run_dir} {reason}")
        self.run_dir = run_dir
        self.reason = reason


def read_run_files(run_dir: Path) -> RunFiles:
    """The run dir's summary.json and .hydra/ record, as data only (YAML's safe subset);
    :class:`DamagedRun` when a file cannot be parsed."""
    config_file = run_dir / ".hydra" / "config.yaml"
    overrides_file = run_dir / ".hydra" / "overrides.yaml"
    try:
        config = (
            OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
            if config_file.is_file()
            else {}
        )
        if not isinstance(config, dict):
            raise ValueError(f".hydra/config.yaml holds a {type(config).__name__}, not a mapping")
        overrides = OmegaConf.load(overrides_file) if overrides_file.is_file() else []
        summary = read_summary(run_dir)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise DamagedRun(run_dir, f"cannot be read ({type(exc).__name__}: {exc})") from exc
    return RunFiles(run_dir, summary, config, tuple(map(str, overrides)))


def find_runs(roots: Iterable[Path]) -> list[RunRow]:
    """Training runs below ``roots``, oldest first; other apps' dirs are passed over."""
    rows = []
    for root in roots:
        for run_dir in run_dirs_under(root):
            run = _read(run_dir)
            if run is not None:
                rows.append(run)
    return sorted(rows, key=lambda r: (r.dir / SUMMARY_FILE).stat().st_mtime)


def _read(run_dir: Path) -> RunRow | None:
    """The run, or None for another app's dir; a run whose files cannot be parsed is listed
    as ``unreadable``."""
    try:
        files = read_run_files(run_dir)
    except DamagedRun:
        return RunRow(run_dir, {"status": "unreadable"}, {})
    is_training = is_training_run(files.config) and "global_step" in files.summary
    return RunRow(run_dir, files.summary, files.config, files.overrides) if is_training else None


def swept_values(runs: list[RunRow], root: Path) -> dict[Path, str]:
    """Per multirun job and sweep trial, the overrides that differ between it and the other
    runs of its multirun or sweep (the runs in its folder): ``model.optimizer.lr=0.001``."""
    groups: dict[Path, list[RunRow]] = {}
    for run in runs:
        if run.kind(root) in ("multirun", "sweep"):
            groups.setdefault(run.dir.parent, []).append(run)
    swept = {}
    for members in groups.values():
        chosen = [
            [o for o in run.overrides if not o.lstrip("+~").startswith(_NOT_SWEPT)]
            for run in members
        ]
        common = set.intersection(*(set(c) for c in chosen))
        for run, overrides in zip(members, chosen, strict=True):
            swept[run.dir] = " ".join(o for o in overrides if o not in common)
    return swept


def rows(
    runs: list[RunRow], root: Path, swept: dict[Path, str] | None = None
) -> list[dict[str, Any]]:
    """The listing's rows, run names relative to ``root``; ``swept``: the swept values
    found among all runs when ``runs`` is a selection of them."""
    swept = swept_values(runs, root) if swept is None else swept
    return [run.row(root, swept.get(run.dir, "")) for run in runs]


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


def markdown(runs: list[RunRow], root: Path, swept: dict[Path, str] | None = None) -> str:
    cells = ([row[key] for key in COLUMNS] for row in rows(runs, root, swept))
    return "\n".join(markdown_table(COLUMNS, cells)) + "\n"
