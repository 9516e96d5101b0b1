"""Training throughput of each model at its default batch size, on this machine.

    python scripts/benchmark_train.py [--batches 200] [--warmup 20] [--models gan wgan_gp vae]
                                      [--trainers cpu ddp_cpu_spawn] [--precision bf16-mixed]
                                      [--record NAME]

Runs genlab's real training app (Lightning loop, data pipeline, logging off, metrics off) and
times the batches after a warm-up, on rank zero; then times the training data loader alone.
``--trainers cpu ddp_cpu_spawn`` compares one process with two DDP processes (the per-process
batch stays the same, so the global batch doubles). On a GPU: ``--trainers gpu --precision
bf16-mixed`` also reports peak GPU memory. A model may carry overrides of its own, quoted:
``--models gan "vae model/encoder=mlp model/decoder=mlp data.batch_size=128"``.
Prints a Markdown table; numbers belong in docs, not tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
from pathlib import Path
from tempfile import TemporaryDirectory

from hydra.utils import instantiate

from genlab.benchmarking import QUIET, BatchClock, StopAfter, loader_batches_per_s, rates
from genlab.config import compose_train_config
from genlab.machine import MachineRecord, describe_machine
from genlab.markdown import markdown_table
from genlab.results import add_record_option, write_record
from genlab.training import train


def measure(
    model: str, trainer: str, precision: str, batches: int, warmup: int, workdir: Path
) -> dict[str, float]:
    name, *overrides = model.split()
    cfg = compose_train_config(
        [
            f"model={name}",
            f"trainer={trainer}",
            f"trainer.precision={precision}",
            *QUIET,
            *overrides,
        ],
        workdir / f"{name}_{trainer}",
    )
    summary = train(cfg, extra_callbacks=[BatchClock(warmup), StopAfter(warmup + batches)])
    return {
        "batch_size": cfg.data.batch_size,
        "processes": cfg.trainer.devices,
        **rates(summary),
        "loader_batches_per_s": loader_batches_per_s(instantiate(cfg.data), batches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="measured batches per model")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--models", nargs="+", default=["gan", "wgan_gp", "vae"])
    parser.add_argument("--trainers", nargs="+", default=["cpu"], help="e.g. cpu ddp_cpu_spawn")
    parser.add_argument("--precision", default="32-true", help="e.g. bf16-mixed")
    add_record_option(parser)
    args = parser.parse_args()
    machine = MachineRecord(precision=args.precision)
    columns = ["model", "trainer", "processes", "batch per process", "batches/s",
               "optimizer steps/s", "images/s", "loader alone, batches/s",
               "peak GPU memory (GiB)"]  # fmt: skip
    print("\n".join(markdown_table(columns, [])))
    rows = []
    with TemporaryDirectory() as workdir:
        for model in args.models:
            for trainer in args.trainers:
                r = measure(
                    model, trainer, args.precision, args.batches, args.warmup, Path(workdir)
                )
                memory = r.get("peak_gpu_memory_gib")
                rows.append([
                    model, trainer, str(r["processes"]), str(r["batch_size"]),
                    f"{r['batches_per_s']:.2f}", f"{r['optimizer_steps_per_s']:.2f}",
                    f"{r['images_per_s']:.0f}", f"{r['loader_batches_per_s']:.0f}",
                    "-" if memory is None else f"{memory:.2f}",
                ])  # fmt: skip
                print(markdown_table(columns, rows[-1:])[-1], flush=True)
    block = machine.block()
    print(f"\n{describe_machine(block)}")
    if args.record:
        write_record(args.record, block, columns, rows)


if __name__ == "__main__":
    main()
