"""What genlab's benchmark scripts share: quiet training overrides and batch timing callbacks."""

from __future__ import annotations

import itertools
import time

import pytorch_lightning as pl
import torch

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

    def on_train_batch_end(self, trainer: pl.Trainer, *_) -> None:
        self.times.append(time.perf_counter())
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
