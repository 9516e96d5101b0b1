"""A training run's parts built from its config: model, loggers, callbacks, metrics, Trainer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from genlab.errors import ConfigError
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.summary import METRIC_PROTOCOL_KEY

# Lightning and torch load when a run is built, not when `genlab-train --help` imports this.
if TYPE_CHECKING:
    import pytorch_lightning as pl

    from genlab.callbacks import FidelityMetrics
    from genlab.checkpoints import StopSignals
    from genlab.models.base import GenerativeModule


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Every entry of a config group that has a ``_target_`` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node and "_target_" in node]


def instantiate_model(cfg: DictConfig) -> GenerativeModule:
    """The configured model, its networks compiled when ``compile.enabled``. Training needs
    more than the sampling interface (the step values the divergence guard reads, the progress
    summary.json reports): a model that is not a GenerativeModule is refused here, not by the
    first callback that reaches for them."""
    from genlab.models.base import GenerativeModule

    model = instantiate(cfg.model)
    if not isinstance(model, GenerativeModule):
        raise ConfigError(
            f"model._target_={cfg.model._target_} is not a genlab model; genlab-train trains "
            "subclasses of genlab.models.GenerativeModule"
        )
    if cfg.get("compile") and cfg.compile.enabled:
        model.compile_networks(backend=cfg.compile.backend, mode=cfg.compile.mode)
    return model


def metrics_callback(
    cfg: DictConfig, datamodule: pl.LightningDataModule, stop_signals: StopSignals | None = None
) -> FidelityMetrics | None:
    """The periodic and final evaluation under the configured protocol, abandoned by
    ``stop_signals``; None when off."""
    from genlab.callbacks import FidelityMetrics
    from genlab.metrics.evaluator import Evaluator
    from genlab.metrics.protocol import MetricProtocol

    if not cfg.metrics.enabled:
        return None
    protocol = MetricProtocol.from_config(cfg.metrics)
    evaluator = Evaluator(protocol, datamodule, Path(cfg.metrics.cache_dir))
    return FidelityMetrics(
        evaluator,
        every_n_steps=cfg.metrics.every_n_steps,
        history_path=Path(cfg.paths.output_dir) / HISTORY_FILE,
        stop_signals=stop_signals,
        resumed=bool(cfg.get("resume")),
    )


def build_trainer(
    trainer_cfg: DictConfig,
    callbacks: list[pl.Callback],
    loggers: list[Any],
    metrics: FidelityMetrics | None,
) -> pl.Trainer:
    """Lightning's Trainer, the evaluation last among its callbacks; its own argument checks
    become user errors with its message."""
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    callbacks = callbacks if metrics is None else [*callbacks, metrics]
    try:
        return instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, MisconfigurationException | ValueError | ModuleNotFoundError):
            raise ConfigError(f"trainer: {cause}") from exc
        raise


def log_run_config(
    loggers: list[Any], resolved: dict[str, Any], metrics: FidelityMetrics | None
) -> None:
    """The resolved config and the metric protocol as each logger's hyperparameters."""
    protocol = metrics.evaluator.fields() if metrics is not None else {}
    for logger in loggers:
        logger.log_hyperparams({**resolved, METRIC_PROTOCOL_KEY: protocol})
