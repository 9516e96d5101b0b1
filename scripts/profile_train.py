"""Where a training batch's time goes: torch.profiler over a few batches of genlab's training.

    python scripts/profile_train.py [--models gan wgan_gp vae] [--batches 10] [--warmup 5]
                                    [--threads N] [--precision bf16-mixed] [--rows 15]

Runs genlab's real training app (Lightning loop, logging off, metrics off) and profiles the
batches after a warm-up: the operators by self CPU time, grouped by input shape, and the
seconds per batch. Each extra argument after ``--`` is a config override for every model
(e.g. ``-- model.generator.width=32``). Numbers belong in docs, not tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import pytorch_lightning as pl
import torch
from torch.profiler import ProfilerActivity, profile

from genlab.benchmarking import QUIET
from genlab.config import compose_train_config
from genlab.machine import MachineRecord, describe_machine
from genlab.training import train


class ProfileBatches(pl.Callback):
    """Profiles ``batches`` training batches after ``warmup``, then stops training."""

    def __init__(self, warmup: int, batches: int) -> None:
        self.warmup, self.batches, self.seen = warmup, batches, 0
        self.profiler = profile(activities=[ProfilerActivity.CPU], record_shapes=True)
        self.started = 0.0
        self.seconds_per_batch = float("nan")

    def on_train_batch_start(self, *_) -> None:
        if self.seen == self.warmup:
            self.profiler.__enter__()
            self.started = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, *_) -> None:
        self.seen += 1
        if self.seen == self.warmup + self.batches:
            self.seconds_per_batch = (time.perf_counter() - self.started) / self.batches
            self.profiler.__exit__(None, None, None)
            trainer.should_stop = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["gan", "wgan_gp", "vae"])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--precision", default="32-true", help="e.g. bf16-mixed")
    parser.add_argument("--rows", type=int, default=15)
    parser.add_argument("overrides", nargs="*", help="config overrides, after --")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = MachineRecord(precision=args.precision)
    with TemporaryDirectory() as workdir:
        for model in args.models:
            cfg = compose_train_config(
                [
                    f"model={model}",
                    f"trainer.precision={args.precision}",
                    *QUIET,
                    *args.overrides,
                ],
                Path(workdir) / model,
            )
            clock = ProfileBatches(args.warmup, args.batches)
            train(cfg, extra_callbacks=[clock])
            table = clock.profiler.key_averages(group_by_input_shape=True).table(
                sort_by="self_cpu_time_total",
                row_limit=args.rows,
                max_name_column_width=32,
                max_shapes_column_width=60,
            )
            print(
                f"\n## {model}, {args.precision}, {torch.get_num_threads()} threads: "
                f"{clock.seconds_per_batch:.3f} s per batch over {args.batches} batches\n"
                f"{table}",
                flush=True,
            )
    print(f"\n{describe_machine(machine.block())}")


if __name__ == "__main__":
    main()
