"""Evaluation cost of each feature extractor on this machine, first (cold) and cached.

    python scripts/benchmark_metrics.py [--num 10000] [--inception-num 500]

Scores `--num` Fashion-MNIST training images (the cost of scoring generated images is the
same) against the test split, twice: with an empty real-statistics cache, then with it
filled. Inception runs on a smaller count with random weights of the same architecture (the
published file is not needed for timing; the cost is the architecture's) and is
extrapolated linearly per image. Prints a Markdown table; numbers belong in docs.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from omegaconf import OmegaConf

from genlab.data import FashionMNISTDataModule
from genlab.data.base import UInt8RGB
from genlab.machine import MachineRecord, describe_machine
from genlab.metrics.evaluator import PRECISION, Evaluator
from genlab.metrics.extractor_weights import INCEPTION
from genlab.metrics.protocol import MetricProtocol
from genlab.paths import config_dir


def random_inception_weights(path: Path) -> Path:
    from genlab._compat.torch_fidelity import save_random_inception_weights

    return save_random_inception_weights(path, INCEPTION)


def time_evaluations(
    extractor: str, weights: str | None, num: int, datamodule, cache: Path
) -> tuple[float, float]:
    settings = OmegaConf.merge(OmegaConf.load(config_dir() / "metrics" / "default.yaml"), {
        "extractor": extractor, "weights_path": weights, "metrics": ["fid", "is", "kid", "prc"],
        "num_samples": num, "real_split": "test", "num_real": num, "kid_subset_size": 1000,
        "seed": 0, "batch_size": 200,
    })  # fmt: skip
    evaluator = Evaluator(MetricProtocol.from_config(settings), datamodule, cache)
    generated = UInt8RGB.from_tensor(datamodule.load_split("train").tensors[0][:num])
    times = []
    for _ in range(2):
        started = time.perf_counter()
        evaluator.score(generated)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=10000)
    parser.add_argument("--inception-num", type=int, default=500)
    parser.add_argument("--data-root", default="data")
    args = parser.parse_args()
    machine = MachineRecord(precision=PRECISION)
    datamodule = FashionMNISTDataModule(
        root=args.data_root,
        mirrors=["/usr/share/datasets/fashion-mnist"],
        value_range=(0.0, 1.0),
        val_size=5000,
        num_workers=0,
        metrics_extractor=None,
    )
    datamodule.prepare_data()
    print(
        "| extractor | images (each side) | first evaluation s | cached evaluation s | per 10k generated, cached |"
    )
    print("|---|---|---|---|---|")
    with TemporaryDirectory() as tmp:
        runs = [("genlab-fashion-mnist-cnn", None, args.num)]
        runs.append(
            (
                INCEPTION,
                str(random_inception_weights(Path(tmp) / "inception.pth")),
                args.inception_num,
            )
        )
        for extractor, weights, num in runs:
            first, cached = time_evaluations(
                extractor, weights, num, datamodule, Path(tmp) / extractor
            )
            print(
                f"| {extractor} | {num} | {first:.1f} | {cached:.1f} | {cached * 10000 / num:.0f} s |",
                flush=True,
            )
    print(f"\n{describe_machine(machine.block())}")


if __name__ == "__main__":
    main()
