"""Evaluation noise: one checkpoint re-scored under its own protocol with other metric seeds
(other latents, KID subsets and IS shuffles), so a comparison can tell how much of the spread
over training seeds the measurement itself adds."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from genlab.compare.runs import Run
from genlab.errors import ConfigError

log = logging.getLogger("genlab.compare")


def checkpoint_of(run: Run) -> Path:
    configured = run.config.get("callbacks.model_checkpoint.dirpath")
    folder = Path(configured) if configured else run.dir / "checkpoints"
    if not (folder / "last.ckpt").is_file() and (run.dir / "checkpoints" / "last.ckpt").is_file():
        folder = run.dir / "checkpoints"  # the run dir was moved after training
    return folder / "last.ckpt"


def evaluation_noise(run: Run, repeats: int, scores: list[str]) -> dict[str, float]:
    """The sample standard deviation of each score over ``repeats`` evaluations of ``run``'s
    last checkpoint, with metric seeds following the run's own."""
    from hydra.utils import instantiate

    from genlab.metrics.evaluator import Evaluator
    from genlab.metrics.protocol import MetricProtocol
    from genlab.models import load_checkpoint

    if repeats < 2:
        raise ConfigError(f"eval_noise needs 2 or more evaluations, got {repeats}")
    checkpoint = checkpoint_of(run)
    if not checkpoint.is_file():
        raise ConfigError(
            f"eval_noise re-scores each variant's first run, but {checkpoint} is missing; "
            "compare without eval_noise, or give run dirs that kept their checkpoints"
        )
    model, config = load_checkpoint(checkpoint)
    protocol = MetricProtocol.from_config(config.metrics)
    datamodule = instantiate(config.data)
    datamodule.prepare_data()
    values: dict[str, list[float]] = {score: [] for score in scores}
    for repeat in range(repeats):
        seeded = replace(protocol, seed=protocol.seed + 1 + repeat)
        evaluator = Evaluator(seeded, datamodule, Path(config.metrics.cache_dir))
        results = evaluator.score_model(model)
        log.info(
            "Evaluation noise of %s: metric seed %d, fid %s",
            run.dir.name, seeded.seed, results.get("fid"),
        )  # fmt: skip
        for score in scores:
            if results.get(score) is not None:
                values[score].append(float(results[score]))
    return {
        score: float(np.std(v, ddof=1)) if len(v) >= 2 else math.nan for score, v in values.items()
    }
