"""What genlab's benchmark scripts share: quiet training overrides, batch timing callbacks and
genlab's GAN algorithm as a plain PyTorch loop (the floor the Lightning module is measured
against)."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from genlab.models import GAN

# Training only: no logger, no metrics, no progress bar.
QUIET = [
    "logger=none",
    "metrics=off",
    "trainer.max_steps=1000000",
    "+trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
]


class BatchClock(pl.Callback):
    """Times the batches after a warm-up; reports through callback_metrics, which Lightning
    also hands back from a spawned rank zero, so the rates reach the run's summary."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.times: list[float] = []
        self.steps: list[int] = []

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_: Any
    ) -> None:
        self.times.append(finished_at(pl_module.device))
        self.steps.append(trainer.global_step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        batches = len(self.times) - self.warmup
        elapsed = self.times[-1] - self.times[self.warmup - 1]
        steps = self.steps[-1] - self.steps[self.warmup - 1]
        images = batches * trainer.datamodule.batch_size * trainer.world_size
        measured = {
            "benchmark/batches_per_s": batches / elapsed,
            "benchmark/optimizer_steps_per_s": steps / elapsed,
            "benchmark/images_per_s": images / elapsed,
        }
        if pl_module.device.type == "cuda":
            measured["benchmark/peak_gpu_memory_gib"] = (
                torch.cuda.max_memory_allocated(pl_module.device) / 2**30
            )
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in measured.items()})


def finished_at(device: torch.device) -> float:
    """The time once the work queued on ``device`` is done: CUDA runs kernels after the Python
    call that launched them returns, so a clock read without waiting times the launches."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


class StopAfter(pl.Callback):
    """Stops training after a number of batches, whatever a batch's optimizer-step count is."""

    def __init__(self, batches: int) -> None:
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, trainer: pl.Trainer, *_) -> None:
        self.seen += 1
        if self.seen >= self.batches:
            trainer.should_stop = True


def loader_batches_per_s(datamodule: pl.LightningDataModule, batches: int) -> float:
    """The training loader alone: batches per second, counted after the first batch (which
    starts any worker processes), epoch after epoch as training would take them."""
    datamodule.prepare_data()
    datamodule.setup("fit")
    train_loader = datamodule.train_dataloader()
    loader = (batch for _ in itertools.count() for batch in train_loader)
    next(loader)
    started = time.perf_counter()
    for _ in range(batches):
        next(loader)
    return batches / (time.perf_counter() - started)


def rates(summary: dict) -> dict[str, float]:
    """The BatchClock's rates from a run's summary."""
    return {
        k.removeprefix("benchmark/"): v for k, v in summary.items() if k.startswith("benchmark/")
    }


def gan_batch(model: GAN, opt_g: Any, opt_d: Any, real: torch.Tensor) -> None:
    """One batch of genlab's GAN algorithm, written as a plain PyTorch loop: a discriminator
    step on it, then a generator step (n_disc=1), the other network frozen in each."""
    generator, discriminator, loss = model.generator, model.discriminator, model.loss
    size, device = real.size(0), real.device
    with torch.no_grad():
        fake = generator(torch.randn(size, model.latent_dim, device=device))
    d_loss = loss.discriminator(discriminator(real), discriminator(fake))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    discriminator.requires_grad_(False)
    g_loss = loss.generator(
        discriminator(generator(torch.randn(size, model.latent_dim, device=device)))
    )
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)


def plain_setup(
    cfg: DictConfig, device: str = "cpu"
) -> tuple[GAN, Any, Any, pl.LightningDataModule]:
    """The GAN of ``cfg`` on ``device`` in training mode, its two optimizers and its data."""
    pl.seed_everything(cfg.seed)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    model: GAN = instantiate(cfg.model).to(device)
    model.train()
    opt_g = model.optimizer_g(model.generator.parameters())
    opt_d = model.optimizer_d(model.discriminator.parameters())
    return model, opt_g, opt_d, datamodule


def plain_seconds_per_batch(
    cfg: DictConfig, batches: int, warmup: int, device: str = "cpu", compiled: bool = False
) -> float:
    """Seconds per batch of :func:`gan_batch` after ``warmup`` batches; ``compiled``: the
    networks through ``torch.compile`` as ``compile.enabled=true`` compiles them."""
    model, opt_g, opt_d, datamodule = plain_setup(cfg, device)
    if compiled:
        model.compile_networks(backend=cfg.compile.backend, mode=cfg.compile.mode)
    loader = (batch for _ in itertools.count() for batch in datamodule.train_dataloader())
    times = []
    for _ in range(warmup + batches):
        gan_batch(model, opt_g, opt_d, GAN.images_of(next(loader)).to(device))
        times.append(finished_at(torch.device(device)))
    return (times[-1] - times[warmup - 1]) / batches
