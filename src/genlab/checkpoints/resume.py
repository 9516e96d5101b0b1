"""Which checkpoint a run starts from: ``ckpt_path=FILE``, or with ``resume=true`` the run
dir's newest checkpoint that can be read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from genlab.errors import CheckpointError, ConfigError
from genlab.models.loading import CONFIG_KEY, read_checkpoint

log = logging.getLogger(__name__)


def check_checkpoint_for_run(path: Path, model_name: str) -> dict[str, Any]:
    """The checkpoint, if it is readable and was written by a run of the same model family."""
    checkpoint = read_checkpoint(path)
    _check_family(checkpoint, path, model_name)
    return checkpoint


def _check_family(checkpoint: dict[str, Any], path: Path, model_name: str) -> None:
    written_by = checkpoint[CONFIG_KEY].get("model_name")
    if written_by != model_name:
        raise CheckpointError(
            f"{path} is a checkpoint of model={written_by}, but this run trains "
            f"model={model_name}; pass model={written_by} or a {model_name} checkpoint"
        )


def newest_valid_checkpoint(folder: Path, model_name: str) -> Path | None:
    """The newest ``*.ckpt`` in ``folder`` that reads back; damaged newer ones are skipped with
    a warning. ``None`` when the folder holds no checkpoint."""
    candidates = sorted(
        (p for p in folder.glob("*.ckpt") if p.is_file()),
        key=lambda p: p.stat().st_mtime_ns,
        reverse=True,
    )
    for path in candidates:
        try:
            checkpoint = read_checkpoint(path)
        except CheckpointError as exc:
            reason = type(exc.__cause__).__name__ if exc.__cause__ else "not a genlab checkpoint"
            log.warning("Skipping %s, which cannot be read (%s); trying an older one", path, reason)
            continue
        # A readable checkpoint of another model is a mistake, not damage: stop there.
        _check_family(checkpoint, path, model_name)
        return path
    if candidates:
        raise CheckpointError(
            f"no checkpoint in {folder} can be read ({len(candidates)} damaged); "
            "start a new run or pass ckpt_path=FILE"
        )
    return None


def start_checkpoint(
    ckpt_path: str | None, resume: bool, checkpoint_dir: Path, model_name: str
) -> Path | None:
    """The checkpoint ``trainer.fit`` starts from, checked before anything is written."""
    if ckpt_path is not None and resume:
        raise ConfigError(
            "set either ckpt_path=FILE (start from that checkpoint) or resume=true (continue "
            "the run in hydra.run.dir), not both"
        )
    if ckpt_path is not None:
        path = Path(ckpt_path)
        check_checkpoint_for_run(path, model_name)
        return path
    if not resume:
        return None
    newest = newest_valid_checkpoint(checkpoint_dir, model_name)
    if newest is None:
        log.warning("resume=true: no checkpoint in %s yet; starting the run", checkpoint_dir)
    else:
        log.info("Resuming from %s", newest)
    return newest
