"""Training throughput of each model at its default batch size, on this machine.

    python scripts/benchmark_train.py [--batches 200] [--warmup 20] [--models gan wgan_gp vae]
                                      [--trainers cpu ddp_cpu_spawn]

Runs genlab's real training app (Lightning loop, data pipeline, logging off, metrics off) and
times the batches after a warm-up, on rank zero. ``--trainers cpu ddp_cpu_spawn`` compares one
process with two DDP processes (the per-process batch stays the same, so the global batch
doubles). Prints a Markdown table; numbers belong in docs, not tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from genlab.cli.train import train
from genlab.paths import config_dir


class BatchClock(pl.Callback):
    """Times the batches after a warm-up; reports through callback_metrics, which Lightning
    also hands back from a spawned rank zero."""

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
        trainer.callback_metrics.update(
            {
                "benchmark/batches_per_s": torch.tensor(batches / elapsed),
                "benchmark/optimizer_steps_per_s": torch.tensor(steps / elapsed),
                "benchmark/images_per_s": torch.tensor(images / elapsed),
            }
        )


def measure(model: str, trainer: str, batches: int, warmup: int, workdir: Path) -> dict[str, float]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose(
            "train",
            overrides=[f"model={model}", f"trainer={trainer}", "logger=none", "metrics=off",
                       "trainer.max_steps=1000000", "+trainer.enable_progress_bar=false",
                       "~callbacks.progress_bar"],
            return_hydra_config=True,
        )  # fmt: skip
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(workdir / f"{model}_{trainer}")
        cfg.trainer.max_time = None
        del cfg["hydra"]
    # Stop after warm-up + measured batches, whatever a batch's optimizer-step count is.
    summary = train(cfg, extra_callbacks=[BatchClock(warmup), _StopAfter(warmup + batches)])
    rates = {
        k.removeprefix("benchmark/"): v for k, v in summary.items() if k.startswith("benchmark/")
    }
    return {"batch_size": cfg.data.batch_size, "processes": cfg.trainer.devices, **rates}


class _StopAfter(pl.Callback):
    def __init__(self, batches: int) -> None:
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, trainer: pl.Trainer, *_) -> None:
        self.seen += 1
        if self.seen >= self.batches:
            trainer.should_stop = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="measured batches per model")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--models", nargs="+", default=["gan", "wgan_gp", "vae"])
    parser.add_argument("--trainers", nargs="+", default=["cpu"], help="e.g. cpu ddp_cpu_spawn")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}"
    )
    print(
        "\n| model | trainer | processes | batch per process | batches/s | optimizer steps/s "
        "| images/s |\n|---|---|---|---|---|---|---|"
    )
    with TemporaryDirectory() as workdir:
        for model in args.models:
            for trainer in args.trainers:
                r = measure(model, trainer, args.batches, args.warmup, Path(workdir))
                print(
                    f"| {model} | {trainer} | {r['processes']} | {r['batch_size']} | "
                    f"{r['batches_per_s']:.2f} | {r['optimizer_steps_per_s']:.2f} | "
                    f"{r['images_per_s']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
