"""What genlab adds to Lightning's checkpoint file, and how it is read back.

Lightning owns its own entries (``state_dict``, ``global_step``, the loops and optimizers); the
models add their counters through ``on_save_checkpoint``. The entries below are genlab's: the
run's resolved config (which makes a checkpoint rebuild its model), the random-number generator
states (which make a resume continue the interrupted run's draws) and the id of the W&B run the
run logs into (which a resumed run continues). Their keys never change: checkpoints written by
earlier genlab versions stay readable, and one without the W&B run id is still a genlab
checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger

from genlab.errors import CheckpointError

CONFIG_KEY = "genlab_config"
RNG_KEY = "genlab_rng_states"
RANKS_KEY = "genlab_rng_states_of_ranks"
WANDB_RUN_ID_KEY = "genlab_wandb_run_id"


class RunRecordInCheckpoint(pl.Callback):
    """Writes the run's resolved config and the id of its W&B run (when it logs to W&B) into
    every checkpoint. The RNG states have their own callback
    (:class:`genlab.checkpoints.RNGStateInCheckpoint`), which also puts them back."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CONFIG_KEY] = self.config
        # ``version`` is the run's id without starting a run (``experiment`` would start one).
        run_ids = [log.version for log in trainer.loggers if isinstance(log, WandbLogger)]
        if run_ids and run_ids[0] is not None:
            checkpoint[WANDB_RUN_ID_KEY] = run_ids[0]


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A genlab checkpoint's contents, memory-mapped (tensors are read when touched).

    Raises :class:`CheckpointError` for a missing, truncated or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint not found: {path}; pass ckpt_path=<run dir>/checkpoints/last.ckpt"
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(
            f"cannot read checkpoint {path} ({type(exc).__name__}): the file is corrupt or "
            "truncated; use another checkpoint of the run (e.g. checkpoints/last.ckpt)"
        ) from exc
    if not isinstance(checkpoint, dict) or CONFIG_KEY not in checkpoint:
        raise CheckpointError(
            f"{path} is not a genlab checkpoint (no '{CONFIG_KEY}' entry); genlab reloads "
            "checkpoints written by genlab-train"
        )
    return checkpoint


def saved_step(path: Path) -> int | None:
    """The ``global_step`` of the checkpoint at ``path``, as written; None when there is none
    that reads back."""
    try:
        return int(read_checkpoint(path)["global_step"])
    except (CheckpointError, KeyError, TypeError, ValueError):
        return None


def checkpoint_config(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The resolved config of the run that wrote ``checkpoint`` (from :func:`read_checkpoint`)."""
    config: dict[str, Any] = checkpoint[CONFIG_KEY]
    return config


def checkpoint_wandb_run_id(checkpoint: dict[str, Any]) -> str | None:
    """The id of the W&B run that the run which wrote ``checkpoint`` logged into; ``None`` for
    a run without W&B, and for checkpoints written before genlab stored it."""
    return checkpoint.get(WANDB_RUN_ID_KEY)


def checkpoint_rng_states(
    checkpoint: dict[str, Any], rank: int, world_size: int
) -> dict[str, Any] | None:
    """The RNG states ``rank`` saved; ``None`` when there are none for it (a checkpoint from
    before they were saved, or a DDP checkpoint of another world size)."""
    if world_size == 1:
        return checkpoint.get(RNG_KEY)
    of_ranks = checkpoint.get(RANKS_KEY)
    if of_ranks is not None and len(of_ranks) == world_size:
        states: dict[str, Any] = of_ranks[rank]
        return states
    return None
