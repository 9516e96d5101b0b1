"""genlab-eval: metrics of a checkpoint (or of a folder of images) under a stated protocol."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from genlab.atomic_write import write_json_atomic
from genlab.cli.app import hydra_app
from genlab.errors import ConfigError, DataNotFoundError
from genlab.metrics.keys import SCORE_NAMES
from genlab.tracking.summary import SUMMARY_FILE
from genlab.training.run_record import run_record

# torch, torch-fidelity and the models load where the evaluation runs, not for `--help` or
# `--cfg job` (docs/decisions.md).
if TYPE_CHECKING:
    import torch

    from genlab.data.base import UInt8RGB

log = logging.getLogger("genlab.evaluate")

_GROUPS = ("data", "metrics")


def _checkpoint_settings(cfg: DictConfig, run_cfg: DictConfig) -> DictConfig:
    """The checkpoint's own data and metrics settings, unless the command line chose another
    group option (``metrics=inception``), refined by its ``data.*`` / ``metrics.*`` values.
    Metrics settings added to genlab after the checkpoint was written take today's defaults."""
    overrides = HydraConfig.get().overrides.task
    settings = cfg.copy()
    with open_dict(settings):
        for group in _GROUPS:
            if not any(o.startswith(f"{group}=") for o in overrides):
                settings[group] = run_cfg[group]
        if not any(o.startswith("metrics=") for o in overrides):
            settings.metrics = OmegaConf.merge(cfg.metrics, run_cfg.metrics)
    refinements = [o for o in overrides if o.startswith(tuple(f"{g}." for g in _GROUPS))]
    return OmegaConf.merge(settings, OmegaConf.from_dotlist(refinements))


def _device(name: str) -> torch.device:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    from genlab.machine import MachineRecord
    from genlab.metrics import degenerate
    from genlab.metrics.evaluator import PRECISION, Evaluator
    from genlab.metrics.protocol import MetricProtocol
    from genlab.models import load_checkpoint

    if bool(cfg.ckpt_path) == bool(cfg.input):
        raise ConfigError(
            "say what to score: ckpt_path=<run dir>/checkpoints/last.ckpt, or input=DIR "
            "(a folder of images, scored against data=...); exactly one of them"
        )
    started, machine = time.monotonic(), MachineRecord(precision=PRECISION)
    scored: dict[str, Any] = {"task": "evaluate"}
    if cfg.ckpt_path:
        model, run_cfg = load_checkpoint(cfg.ckpt_path)
        settings, data_name = _checkpoint_settings(cfg, run_cfg), run_cfg.data_name
        scored.update(
            ckpt_path=str(Path(cfg.ckpt_path).resolve()),
            model=run_cfg.model_name,
            seed=run_cfg.seed,
            global_step=model.checkpoint_global_step,
            images_seen=model.images_seen,
        )
    else:
        model, settings, data_name = None, cfg, HydraConfig.get().runtime.choices.data
        scored.update(input=str(Path(cfg.input).resolve()), model=None)
    protocol = MetricProtocol.from_config(settings.metrics)
    datamodule = instantiate(settings.data)
    datamodule.prepare_data()
    evaluator = Evaluator(protocol, datamodule, Path(settings.metrics.cache_dir))
    if model is not None:
        results = evaluator.score_model(model.to(_device(cfg.device)))
    else:
        results = evaluator.score(_image_folder(Path(cfg.input), datamodule), _device(cfg.device))
    run_dir = Path(cfg.paths.output_dir)
    wall_s = time.monotonic() - started
    flagged = degenerate.record(results)
    summary = run_record(
        "ok", wall_s, cfg.paths.output_dir, machine, **scored, data=data_name, **results,
        **flagged,
    )  # fmt: skip
    write_json_atomic(run_dir / SUMMARY_FILE, summary)
    scores = ", ".join(f"{k}={results[k]:.4g}" for k in SCORE_NAMES if k in results)
    log.info("%s (%s)\nsummary: %s", scores, protocol.extractor, run_dir / SUMMARY_FILE)
    if flagged[degenerate.DEGENERATE_KEY]["flag"]:
        log.info(
            "degenerate: %s; these numbers say nothing about the model",
            "; ".join(flagged[degenerate.DEGENERATE_KEY]["reasons"]),
        )
    return summary


def _image_folder(folder: Path, datamodule: Any) -> UInt8RGB:
    from genlab.data.base import UInt8RGB
    from genlab.data.image_folder import ImageFiles, find_images

    if not folder.is_dir():
        raise DataNotFoundError(
            f"input folder not found: {folder}; pass input=DIR, a folder of images"
        )
    paths = find_images(folder)
    if not paths:
        raise DataNotFoundError(f"no PNG/JPEG images in {folder} (searched recursively)")
    return UInt8RGB(ImageFiles(paths, datamodule.image_size, datamodule.channels))


@hydra_app("evaluate")
def main(cfg: DictConfig) -> dict[str, Any]:
    return evaluate(cfg)


if __name__ == "__main__":
    main()
