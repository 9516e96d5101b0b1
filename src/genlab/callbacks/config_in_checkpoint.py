"""Stores the run's resolved config in every checkpoint, so a checkpoint rebuilds its model."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from genlab.models.loading import CONFIG_KEY


class ConfigInCheckpoint(pl.Callback):
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CONFIG_KEY] = self.config
