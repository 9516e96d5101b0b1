"""Fixed-noise sample grids (and VAE reconstructions) as PNGs in the run dir and in the loggers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only
from torch import Tensor

from genlab.errors import ConfigError
from genlab.models.base import GenerativeModule
from genlab.sampling import save_grid

log = logging.getLogger(__name__)


class SampleGrid(pl.Callback):
    """Every ``every_n_steps`` optimizer steps, and at the start and end of training.

    Steps are checked as "a multiple of every_n_steps was crossed", since a GAN's
    global_step advances by more than one per batch.
    """

    def __init__(
        self, dirpath: str, every_n_steps: int = 500, num_reconstructions: int = 32
    ) -> None:
        if every_n_steps < 1:
            raise ConfigError(
                f"callbacks.sample_grid.every_n_steps must be >= 1, got {every_n_steps}"
            )
        self.dirpath = Path(dirpath)
        self.every_n_steps = every_n_steps
        self.num_reconstructions = num_reconstructions
        self._last_step: int | None = None
        self._originals: Tensor | None = None

    @rank_zero_only
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if hasattr(pl_module, "reconstruct") and trainer.datamodule is not None:
            batch = next(iter(trainer.datamodule.val_dataloader()), None)
            if batch is not None:
                self._originals = GenerativeModule.images_of(batch)[: self.num_reconstructions]
        self._write(trainer, pl_module)

    @rank_zero_only
    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_) -> None:
        step = trainer.global_step
        if (
            self._last_step is None
            or step // self.every_n_steps > self._last_step // self.every_n_steps
        ):
            self._write(trainer, pl_module)

    @rank_zero_only
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_step != trainer.global_step:
            self._write(trainer, pl_module)

    def _write(self, trainer: pl.Trainer, model: GenerativeModule) -> None:
        step = trainer.global_step
        self._last_step = step
        self.dirpath.mkdir(parents=True, exist_ok=True)
        images = model.generate(model.fixed_noise)
        grids = {"samples": images}
        if self._originals is not None:
            originals = model.to_unit_range(self._originals.to(model.device)).cpu()
            grids["reconstructions"] = torch.cat([originals, model.reconstruct(self._originals)])
        for name, grid_images in grids.items():
            path = self.dirpath / f"{name}_step{step:07d}.png"
            grid = save_grid(grid_images, path)
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
