"""Launch rules for multi-process runs started from a Hydra app."""

from __future__ import annotations

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from genlab._compat.lightning import is_script_relauncher
from genlab.errors import ConfigError


def relaunches_script(trainer: pl.Trainer) -> bool:
    """Whether the strategy starts the other ranks by running this script's command again."""
    strategy = trainer.strategy
    return (
        is_script_relauncher(getattr(strategy, "launcher", None))
        and not strategy.cluster_environment.creates_processes_externally
        and trainer.num_devices > 1
    )


def check_launch_is_safe(trainer: pl.Trainer) -> None:
    """Rejects ``ddp`` (popen) with several devices inside a Hydra multirun.

    Lightning starts ranks 1..N-1 by re-running ``sys.argv``; under ``-m`` that command is the
    whole sweep, so every rank would start a sweep of its own (other output dirs, other jobs).
    """
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return
    if relaunches_script(trainer):
        raise ConfigError(
            "trainer.strategy starts each extra process by re-running this command, which "
            "under -m (multirun) would re-run the whole sweep in every process; for multiruns "
            "use trainer=ddp_spawn (GPUs) or trainer=ddp_cpu_spawn (CPU), or a cluster launcher "
            "that starts the processes itself (hydra/launcher=slurm)"
        )
