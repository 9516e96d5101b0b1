"""Which checkpoint a run starts from: ``ckpt_path=FILE``, or with ``resume=true`` the run
dir's readable checkpoint of the highest step; whether it fits the model; whether a resumed run has
anything left to do. All of it is decided before the run dir is written to."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from genlab.checkpoints.format import checkpoint_config, read_checkpoint
from genlab.config import flatten_config
from genlab.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)


def check_checkpoint_for_run(path: Path, model_name: str) -> dict[str, Any]:
    """The checkpoint, if it is readable and was written by a run of the same model family."""
    checkpoint = read_checkpoint(path)
    _check_family(checkpoint, path, model_name)
    return checkpoint


def _check_family(checkpoint: dict[str, Any], path: Path, model_name: str) -> None:
    written_by = checkpoint_config(checkpoint).get("model_name")
    if written_by != model_name:
        raise CheckpointError(
            f"{path} is a checkpoint of model={written_by}, but this run trains "
            f"model={model_name}; pass model={written_by} or a {model_name} checkpoint"
        )


def newest_valid_checkpoint(folder: Path, model_name: str) -> tuple[Path, int] | None:
    """The checkpoint in ``folder`` at the highest training step recorded in it, and that step;
    of two at one step (``last.ckpt`` and its periodic twin), the one written last. Files that
    cannot be read are skipped with a warning. ``None`` when the folder holds no checkpoint.

    The step inside decides, not the file's time: an older checkpoint that was copied, restored
    or touched must not pass for the run's latest state, since training from it would overwrite
    the later checkpoints."""
    candidates = [p for p in folder.glob("*.ckpt") if p.is_file()]
    newest: tuple[tuple[int, int, bool], Path] | None = None
    for path in candidates:
        try:
            checkpoint = read_checkpoint(path)
        except CheckpointError as exc:
            reason = type(exc.__cause__).__name__ if exc.__cause__ else "not a genlab checkpoint"
            log.warning("Skipping %s, which cannot be read (%s)", path, reason)
            continue
        # The file time and name only break a tie between two files of one step.
        step = int(checkpoint.get("global_step", 0))
        rank = (step, path.stat().st_mtime_ns, path.name == "last.ckpt")
        if newest is None or rank > newest[0]:
            newest = (rank, path)
    if newest is None:
        if candidates:
            raise CheckpointError(
                f"no checkpoint in {folder} can be read ({len(candidates)} damaged); "
                "start a new run or pass ckpt_path=FILE"
            )
        return None
    (step, _, _), path = newest
    # A readable checkpoint of another model is a mistake, not damage: stop there.
    _check_family(read_checkpoint(path), path, model_name)
    return path, step


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
        return None
    path, step = newest
    log.info("Resuming from %s (step %d)", path, step)
    return path


def check_weights_fit(path: Path, model: nn.Module, run_config: DictConfig) -> None:
    """Refuses a checkpoint whose weights do not fit ``model`` (another width, depth or latent
    size), naming the config values that differ, before Lightning fails half-way into a run."""
    checkpoint = read_checkpoint(path)
    saved = {key: tuple(value.shape) for key, value in checkpoint["state_dict"].items()}
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    if saved == expected:
        return
    differing = _differing_values(checkpoint_config(checkpoint).get("model", {}), run_config.model)
    mismatch = next(
        (
            f"{key}: {saved.get(key, 'missing')} in the checkpoint, {expected.get(key, 'absent')} here"
        )
        for key in sorted(saved.keys() | expected.keys())
        if saved.get(key) != expected.get(key)
    )
    hint = (
        "the checkpoint was written with " + ", ".join(differing)
        if differing
        else "the networks differ"
    )
    raise CheckpointError(
        f"{path} does not fit this model ({mismatch}): {hint}; pass the checkpoint's values "
        "or start a new run without resume/ckpt_path"
    )


def _differing_values(saved: dict[str, Any], current: DictConfig) -> list[str]:
    flat_saved = flatten_config(saved, "model")
    flat_current = flatten_config(OmegaConf.to_container(current, resolve=True), "model")
    return [
        f"{key}={flat_saved[key]} (this run: {flat_current.get(key)})"
        for key in sorted(flat_saved)
        if flat_saved[key] != flat_current.get(key)
    ][:5]


_BUDGET_KEYS = ("max_steps", "max_epochs", "max_time")


def finished_run(
    summary: dict[str, Any] | None, checkpoint_path: Path, trainer_config: DictConfig
) -> bool:
    """True when a resumed run has nothing left to do: it ended ``ok`` at the step of its newest
    checkpoint, and this command's budget is not larger than the one it was trained with."""
    if summary is None or summary.get("status") != "ok":
        return False
    checkpoint = read_checkpoint(checkpoint_path)
    if checkpoint.get("global_step") != summary.get("global_step"):
        return False
    trained_with = checkpoint_config(checkpoint).get("trainer", {})
    return not any(
        _larger_budget(trainer_config.get(key), trained_with.get(key)) for key in _BUDGET_KEYS
    )


def summary_if_finished(
    run_dir: Path,
    summary: dict[str, Any] | None,
    checkpoint_path: Path,
    trainer_config: DictConfig,
) -> dict[str, Any] | None:
    """The run dir's ``summary`` when a resumed run has nothing left to do
    (:func:`finished_run`), said in the log; None when there is training left."""
    if summary is None or not finished_run(summary, checkpoint_path, trainer_config):
        return None
    log.info(
        "resume=true: %s already finished (status ok at step %d); nothing to do. "
        "To train longer, pass a larger trainer.max_steps.",
        run_dir,
        summary["global_step"],
    )
    return summary


def _larger_budget(new: Any, old: Any) -> bool:
    """Whether a Trainer limit grew; None, -1 and absent mean no limit."""
    unlimited = (None, -1)
    if new == old:
        return False
    if new in unlimited:
        return True
    if old in unlimited:
        return False
    if isinstance(new, int | float) and isinstance(old, int | float):
        return new > old
    return True  # a changed max_time string ("00:01:00:00"): train on, Lightning's Timer decides
