"""genlab against its floors: the Lightning module vs a plain PyTorch loop, genlab's evaluation vs
a direct torch-fidelity call, the data pipeline vs training, and achieved vs peak FLOP/s.

    python scripts/benchmark.py [--quick] [--json FILE] [--record NAME]

Model: the default GAN (DCGAN, Fashion-MNIST, batch 64), one process. Each timing is the best
of --repeats alternating repetitions, which keeps other load on a shared machine from landing
on one side of a ratio only. --quick finishes within about 3 minutes on 2 CPU cores.
Numbers belong in docs/benchmarks.md, never in tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import json
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import torch
import torch_fidelity
from hydra.utils import instantiate
from torch.utils.flop_counter import FlopCounterMode

from genlab.benchmarking import (
    QUIET,
    BatchClock,
    StopAfter,
    gan_batch,
    loader_batches_per_s,
    plain_seconds_per_batch,
    plain_setup,
    rates,
)
from genlab.config import compose_train_config
from genlab.data.base import UInt8RGB
from genlab.machine import MachineRecord
from genlab.metrics.domain import register_domain_extractors
from genlab.metrics.evaluator import Evaluator
from genlab.metrics.fidelity import to_uint8
from genlab.metrics.protocol import MetricProtocol
from genlab.models import GAN
from genlab.results import add_record_option, figure_cell, write_record
from genlab.training import train


def lightning_seconds_per_batch(cfg, batches: int, warmup: int) -> float:
    summary = train(cfg, extra_callbacks=[BatchClock(warmup), StopAfter(warmup + batches)])
    return 1.0 / rates(summary)["batches_per_s"]


def flops_per_batch(cfg) -> int:
    model, opt_g, opt_d, datamodule = plain_setup(cfg)
    real = GAN.images_of(next(iter(datamodule.train_dataloader())))
    with FlopCounterMode(display=False) as counter:
        gan_batch(model, opt_g, opt_d, real)
    return counter.get_total_flops()


def data_images_per_s(cfg, batches: int) -> float:
    _, _, _, datamodule = plain_setup(cfg)
    return loader_batches_per_s(datamodule, batches) * cfg.data.batch_size


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def evaluation_timings(cfg, repeats: int) -> dict[str, float]:
    """genlab's Evaluator vs torch_fidelity.calculate_metrics on the same generated images,
    real statistics cached; and the Evaluator's first (uncached) vs cached call."""
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    protocol = MetricProtocol.from_config(cfg.metrics)
    model: GAN = instantiate(cfg.model)
    generated = UInt8RGB.from_tensor(
        to_uint8(model.sample(protocol.num_samples, seed=protocol.seed))
    )
    with TemporaryDirectory() as cache:
        evaluator = Evaluator(protocol, datamodule, Path(cache))
        started = time.perf_counter()
        evaluator.score(generated)
        first = time.perf_counter() - started
        cache_name = protocol.real_cache_name(
            datamodule.cache_key, datamodule.image_size, len(evaluator.real)
        )
        register_domain_extractors()
        direct_options = {
            "input1": generated, "input2": evaluator.real, "cuda": False,
            "batch_size": protocol.batch_size, "isc": True, "fid": True, "kid": True,
            "prc": True, "feature_extractor": protocol.extractor,
            "feature_extractor_weights_path": str(protocol.weights_path),
            "kid_subset_size": protocol.kid_subset_size, "rng_seed": protocol.seed,
            "verbose": False, "cache": True, "input2_cache_name": cache_name,
            "cache_root": cache,
        }  # fmt: skip
        genlab_s, direct_s = float("inf"), float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            evaluator.score(generated)
            genlab_s = min(genlab_s, time.perf_counter() - started)
            started = time.perf_counter()
            torch_fidelity.calculate_metrics(**direct_options)
            direct_s = min(direct_s, time.perf_counter() - started)
    return {"eval_first_s": first, "eval_cached_s": genlab_s, "eval_torch_fidelity_s": direct_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: about 3 minutes")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--repeats", type=int, default=2)
    add_record_option(parser)
    args = parser.parse_args()
    batches, warmup, num_samples = (40, 10, 2000) if args.quick else (200, 20, 10000)

    results: dict[str, Any] = {
        "model": "gan (DCGAN, width 64, batch 64), fashion_mnist, 1 CPU process",
        "quick": args.quick,
    }
    with TemporaryDirectory() as workdir:
        cfg = compose_train_config(
            ["model=gan", *QUIET, f"metrics.num_samples={num_samples}"], Path(workdir) / "run"
        )
        machine = MachineRecord(precision=cfg.trainer.precision)
        lightning_s, plain_s = float("inf"), float("inf")
        for _ in range(args.repeats):
            plain_s = min(plain_s, plain_seconds_per_batch(cfg, batches, warmup))
            lightning_s = min(lightning_s, lightning_seconds_per_batch(cfg, batches, warmup))
        batch_size = cfg.data.batch_size
        flops = flops_per_batch(cfg)
        peak = matmul_peak_gflops()
        results.update(
            lightning_s_per_batch=lightning_s,
            plain_s_per_batch=plain_s,
            lightning_vs_plain_ratio=lightning_s / plain_s,
            train_images_per_s=batch_size / lightning_s,
            data_images_per_s=data_images_per_s(cfg, batches),
            train_gflop_per_batch=flops / 1e9,
            train_gflops_per_s=flops / lightning_s / 1e9,
            matmul_peak_gflops_per_s=peak,
            train_fraction_of_peak=flops / lightning_s / 1e9 / peak,
        )
        evaluation = evaluation_timings(cfg, args.repeats)
        results.update(
            evaluation,
            eval_num_generated=num_samples,
            eval_vs_torch_fidelity_ratio=evaluation["eval_cached_s"]
            / evaluation["eval_torch_fidelity_s"],
        )
    results["machine"] = machine.block()
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    if args.record:
        figures = {k: v for k, v in results.items() if k not in ("machine", "model", "quick")}
        rows = [[f"`{key}`", figure_cell(value)] for key, value in figures.items()]
        write_record(args.record, results["machine"], ["key", "value"], rows, figures)


if __name__ == "__main__":
    main()
