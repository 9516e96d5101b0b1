"""Lightning internals genlab relies on, each with why the public API does not serve."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint, RichProgressBar
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.strategies.launchers import _SubprocessScriptLauncher
from torch import Tensor

from genlab._compat import Internal


def logs_this_batch(trainer: pl.Trainer) -> bool:
    """Whether Lightning writes this training batch's logged values to the loggers."""
    # Lightning's own decision (log_every_n_steps counted in batches that stepped, and the last
    # batch of an epoch): the counter behind it is private as well, so a copy of the rule
    # would read a private name too, and drift from Lightning's when it changes.
    return bool(trainer._logger_connector.should_update_logs or trainer.fast_dev_run)


def is_script_relauncher(launcher: object) -> bool:
    """Whether a strategy's launcher starts the other ranks by running ``sys.argv`` again."""
    # The launchers' public interface (``is_interactive_compatible``) is False for this one
    # and for ``spawn`` alike; only the class tells them apart.
    return isinstance(launcher, _SubprocessScriptLauncher)


def leave_out_wandb_init_argument(logger: WandbLogger, name: str) -> None:
    """Leaves ``name`` out of the ``wandb.init`` arguments Lightning's W&B logger passes."""
    # The logger collects them in __init__ and passes them all, ``anonymous`` always (which
    # W&B warns about at every run); no argument or method removes one.
    logger._wandb_init.pop(name, None)


class CheckpointInternals(ModelCheckpoint):
    """ModelCheckpoint's bookkeeping and saving under public names, for a subclass that adds a
    trigger of its own. ModelCheckpoint's public hooks save on its own triggers only; saving
    elsewhere through ``trainer.save_checkpoint`` would bypass its list of kept files
    (``save_top_k``), its file names and ``last.ckpt``, so a subclass saves as it does."""

    @property
    def last_saved_step(self) -> int:
        return int(self._last_global_step_saved)

    @last_saved_step.setter
    def last_saved_step(self, step: int) -> None:
        self._last_global_step_saved = step

    def skips_saving(self, trainer: pl.Trainer) -> bool:
        """ModelCheckpoint's own reasons not to save now (sanity check, fast_dev_run, ...)."""
        return bool(self._should_skip_saving_checkpoint(trainer))

    def monitor_candidates(self, trainer: pl.Trainer) -> dict[str, Tensor]:
        return self._monitor_candidates(trainer)

    def save_top_k_and_last(self, trainer: pl.Trainer) -> None:
        """Saves as ModelCheckpoint does on its own triggers."""
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def write_last_checkpoint(self, trainer: pl.Trainer) -> None:
        """Writes ``last.ckpt`` (or its link) only."""
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


class RichProgressBarInternals(RichProgressBar):
    """RichProgressBar's description and bar updates under public names: its public hooks
    always count batches of an epoch, so a bar that counts something else updates the bar the
    way the hooks do, through the helpers they use."""

    def train_bar_description(self, current_epoch: int) -> str:
        """The training bar's label; a subclass overrides this."""
        return super()._get_train_description(current_epoch)

    def _get_train_description(self, current_epoch: int) -> str:
        return self.train_bar_description(current_epoch)

    def start_train_bar(self) -> None:
        self._initialize_train_progress_bar_id()

    def advance_train_bar(self, completed: int) -> None:
        self._update(self.train_progress_bar_id, completed)

    def show_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._update_metrics(trainer, pl_module)


def _trainer() -> Any:
    return pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)


_PL = "pytorch-lightning"
RELIES_ON = (
    Internal(_PL, "pytorch_lightning.Trainer", "_logger_connector", instance=_trainer),
    Internal(
        _PL,
        "pytorch_lightning.trainer.connectors.logger_connector.logger_connector._LoggerConnector",
        "should_update_logs",
    ),
    Internal(_PL, "pytorch_lightning.strategies.launchers", "_SubprocessScriptLauncher"),
    Internal(
        _PL,
        "pytorch_lightning.loggers.WandbLogger",
        "_wandb_init",
        instance=lambda: WandbLogger(offline=True),
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "_last_global_step_saved",
        instance=ModelCheckpoint,
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "_should_skip_saving_checkpoint",
        ("trainer",),
    ),
    Internal(
        _PL, "pytorch_lightning.callbacks.ModelCheckpoint", "_monitor_candidates", ("trainer",)
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "_save_topk_checkpoint",
        ("trainer", "monitor_candidates"),
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "_save_last_checkpoint",
        ("trainer", "monitor_candidates"),
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.RichProgressBar",
        "_get_train_description",
        ("current_epoch",),
    ),
    Internal(
        _PL, "pytorch_lightning.callbacks.RichProgressBar", "_initialize_train_progress_bar_id", ()
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.RichProgressBar",
        "_update",
        ("progress_bar_id", "current"),
    ),
    Internal(
        _PL,
        "pytorch_lightning.callbacks.RichProgressBar",
        "_update_metrics",
        ("trainer", "pl_module"),
    ),
)
