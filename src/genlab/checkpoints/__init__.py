"""Checkpoint files: what genlab stores in them, atomic writes, periodic saving, resuming a run
from its valid checkpoint of the highest step, with the changed settings it can take."""

from genlab.checkpoints.atomic_io import AtomicCheckpointIO, remove_partial_checkpoints
from genlab.checkpoints.config_changes import (
    ApplyOptimizerSettings,
    OptimizerSetting,
    optimizer_settings_to_apply,
)
from genlab.checkpoints.format import RunRecordInCheckpoint
from genlab.checkpoints.periodic import PeriodicCheckpoint
from genlab.checkpoints.resume import (
    check_checkpoint_for_run,
    check_weights_fit,
    finished_run,
    newest_valid_checkpoint,
    start_checkpoint,
    summary_if_finished,
)
from genlab.checkpoints.rng_state import RNGStateInCheckpoint
from genlab.checkpoints.stop_signals import EvaluationAbandoned, StopRequested, StopSignals

__all__ = [
    "ApplyOptimizerSettings",
    "AtomicCheckpointIO",
    "EvaluationAbandoned",
    "OptimizerSetting",
    "PeriodicCheckpoint",
    "RNGStateInCheckpoint",
    "RunRecordInCheckpoint",
    "StopRequested",
    "StopSignals",
    "check_checkpoint_for_run",
    "check_weights_fit",
    "finished_run",
    "newest_valid_checkpoint",
    "optimizer_settings_to_apply",
    "remove_partial_checkpoints",
    "start_checkpoint",
    "summary_if_finished",
]
