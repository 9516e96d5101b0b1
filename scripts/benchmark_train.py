"""Training throughput of each model at its default batch size, on this machine.

    python scripts/benchmark_train.py [--steps 200] [--warmup 20] [--models gan wgan_gp vae]

Runs genlab's real training app (Lightning loop, data pipeline, logging off, metrics off) and
times the batches after a warm-up. Prints a Markdown table; numbers belong in docs, not tests.
"""

from __future__ import annotations

import argparse
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
    """Timestamps every training batch end."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.steps: list[int] = []

    def on_train_batch_end(self, trainer: pl.Trainer, *_) -> None:
        self.times.append(time.perf_counter())
        self.steps.append(trainer.global_step)


def measure(model: str, batches: int, warmup: int, workdir: Path) -> dict[str, float]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose(
            "train",
            overrides=[f"model={model}", "logger=none", "metrics=off", "trainer.max_steps=1000000",
                       "+trainer.enable_progress_bar=false", "~callbacks.progress_bar"],
            return_hydra_config=True,
        )  # fmt: skip
    HydraConfig.instance().set_config(cfg)
    clock = BatchClock()
    with open_dict(cfg):
        cfg.paths.output_dir = str(workdir / model)
        cfg.trainer.max_time = None
        del cfg["hydra"]
    # Stop after warm-up + measured batches, whatever a batch's optimizer-step count is.
    train(cfg, extra_callbacks=[clock, _StopAfter(warmup + batches)])
    elapsed = clock.times[-1] - clock.times[warmup - 1]
    steps = clock.steps[-1] - clock.steps[warmup - 1]
    return {
        "batch_size": cfg.data.batch_size,
        "batches_per_s": batches / elapsed,
        "optimizer_steps_per_s": steps / elapsed,
        "images_per_s": batches * cfg.data.batch_size / elapsed,
    }


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
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    print("\n| model | batch | batches/s | optimizer steps/s | images/s |\n|---|---|---|---|---|")
    with TemporaryDirectory() as workdir:
        for model in args.models:
            r = measure(model, args.batches, args.warmup, Path(workdir))
            print(
                f"| {model} | {r['batch_size']} | {r['batches_per_s']:.2f} | "
                f"{r['optimizer_steps_per_s']:.2f} | {r['images_per_s']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
