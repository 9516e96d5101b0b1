"""Rebuild a model from a genlab checkpoint, which carries its own resolved config."""

from __future__ import annotations

from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from genlab.checkpoints.format import checkpoint_config, read_checkpoint
from genlab.models.base import GenerativeModule


def load_checkpoint(path: str | Path) -> tuple[GenerativeModule, DictConfig]:
    """(model in eval mode on the CPU, the run's resolved config) from a ``.ckpt`` file."""
    checkpoint = read_checkpoint(path)
    config = OmegaConf.create(checkpoint_config(checkpoint))
    model: GenerativeModule = instantiate(config.model)
    model.load_state_dict(checkpoint["state_dict"])
    model.on_load_checkpoint(checkpoint)
    return model.eval(), config
