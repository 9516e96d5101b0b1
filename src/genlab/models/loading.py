"""Rebuild a model from a genlab checkpoint, which carries its own resolved config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from genlab.errors import CheckpointError
from genlab.models.base import GenerativeModule

CONFIG_KEY = "genlab_config"


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


def load_checkpoint(path: str | Path) -> tuple[GenerativeModule, DictConfig]:
    """(model in eval mode on the CPU, the run's resolved config) from a ``.ckpt`` file."""
    checkpoint = read_checkpoint(path)
    config = OmegaConf.create(checkpoint[CONFIG_KEY])
    model: GenerativeModule = instantiate(config.model)
    model.load_state_dict(checkpoint["state_dict"])
    model.on_load_checkpoint(checkpoint)
    return model.eval(), config
