"""Inception FID of the same generated images scored on the GPU and on the CPU: the two must
agree to 1e-3 relative (float32 convolutions differ in their last bits between devices)."""

from __future__ import annotations

import time
from pathlib import Path

from hydra.utils import instantiate

from genlab.gpu_check.budget import Budget
from genlab.gpu_check.report import FAILED, PASSED, SKIPPED, CheckResult
from genlab.gpu_check.runs import compose

RELATIVE_TOLERANCE = 1e-3


def fid_checks(budget: Budget, runs_dir: Path, overrides: list[str]) -> list[CheckResult]:
    if budget.device != "cuda":
        return [CheckResult("fid", "inception GPU vs CPU", SKIPPED, "needs a GPU")]
    return [fid_agreement(budget, runs_dir / "fid", overrides)]


def fid_agreement(budget: Budget, run_dir: Path, overrides: list[str]) -> CheckResult:
    """FID of an untrained GAN's images (the numbers need not be good, only equal), real
    features extracted again on each device (no cache)."""
    from genlab.data.base import UInt8RGB
    from genlab.metrics.evaluator import Evaluator
    from genlab.metrics.fidelity import to_uint8
    from genlab.metrics.protocol import MetricProtocol

    images = budget.fid_images
    cfg = compose(
        [
            "model=gan", "metrics=inception", "metrics.metrics=[fid]",
            f"metrics.num_samples={images}", f"metrics.num_real={images}", *overrides,
        ],
        run_dir,
        budget,
    )  # fmt: skip
    started = time.monotonic()
    # A missing weights file fails here with genlab's message: where to put it, or
    # metrics.weights_path=FILE (docs/metrics.md, "Inception weights").
    protocol = MetricProtocol.from_config(cfg.metrics)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    model = instantiate(cfg.model)
    generated = UInt8RGB.from_tensor(to_uint8(model.sample(images, seed=protocol.seed)))
    evaluator = Evaluator(protocol, datamodule, cache_dir=None)
    fid = {device: evaluator.score(generated, device=device)["fid"] for device in ("cuda", "cpu")}
    relative = abs(fid["cuda"] - fid["cpu"]) / abs(fid["cpu"])
    values = {"fid_cuda": fid["cuda"], "fid_cpu": fid["cpu"], "relative_difference": relative, "images": images}  # fmt: skip
    status = PASSED if relative <= RELATIVE_TOLERANCE else FAILED
    detail = (
        f"FID {fid['cuda']:.4f} on the GPU, {fid['cpu']:.4f} on the CPU ({images} generated and "
        f"{images} real images): relative difference {relative:.1e} "
        f"({'within' if status == PASSED else 'beyond'} {RELATIVE_TOLERANCE:.0e})"
    )
    return CheckResult("fid", "inception GPU vs CPU", status, detail, time.monotonic() - started, values)  # fmt: skip
