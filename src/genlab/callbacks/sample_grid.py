"""Fixed-noise sample grids (and VAE reconstructions) as PNGs in the run dir and in the loggers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger
from torch import Tensor

from genlab.callbacks.every_n_steps import EveryNSteps
from genlab.models.base import GenerativeModel, GenerativeModule, Reconstructs
from genlab.sampling import save_grid

log = logging.getLogger(__name__)


class SampleGrid(EveryNSteps):
    """Grids at the start, every ``every_n_steps`` optimizer steps, and at the end; rank zero."""

    config_key = "callbacks.sample_grid"

    def __init__(self, dirpath: str, every_n_steps: int | None, num_reconstructions: int) -> None:
        super().__init__(every_n_steps, at_start=True)
        self.dirpath = Path(dirpath)
        self.num_reconstructions = num_reconstructions
        self._originals: Tensor | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if isinstance(pl_module, Reconstructs) and trainer.datamodule is not None:
            batch = next(iter(trainer.datamodule.val_dataloader()), None)
            if batch is not None:
                self._originals = GenerativeModule.images_of(batch)[: self.num_reconstructions]
        super().on_train_start(trainer, pl_module)

    def run(self, trainer: pl.Trainer, model: GenerativeModel) -> None:
        if not trainer.is_global_zero:
            return
        step = trainer.global_step
        grids = {"samples": model.generate(model.fixed_noise)}
        if self._originals is not None and isinstance(model, Reconstructs):
            originals = model.to_unit_range(self._originals)
            grids["reconstructions"] = torch.cat([originals, model.reconstruct(self._originals)])
        for name, images in grids.items():
            path = self.dirpath / f"{name}_step{step:07d}.png"
            grid = save_grid(images, path)
            _log_image(trainer, name, path, grid, step)
        log.info("Wrote sample grid at step %d to %s", step, self.dirpath)


def _log_image(trainer: pl.Trainer, key: str, path: Path, grid: Tensor, step: int) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            # No explicit step: W&B syncs the image to the last logged trainer/global_step,
            # Lightning's logging step (training batches), which differs from the optimizer
            # step count of a GAN.
            logger.log_image(key=key, images=[str(path)], caption=[f"step {step}"])
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, grid, global_step=step)
