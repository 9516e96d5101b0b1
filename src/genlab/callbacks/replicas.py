"""Checks that every DDP rank holds the same parameters, and records the evidence."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.distributed as dist

from genlab.atomic_write import write_json_atomic
from genlab.callbacks.every_n_steps import EveryNSteps

REPLICAS_FILE = "replicas.json"


def parameter_digest(module: torch.nn.Module) -> str:
    """SHA-256 of every parameter's bytes, in registration order."""
    digest = hashlib.sha256()
    for name, parameter in module.named_parameters():
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class ReplicasInSync(EveryNSteps):
    """At the end of training (and every N steps when set) the ranks compare parameter
    digests; rank zero writes them to ``replicas.json``. Replicas that differ mean some
    gradient was not synchronised: the run fails, since the checkpoint holds rank zero's
    parameters only."""

    config_key = "callbacks.replicas_in_sync"

    def __init__(self, dirpath: str | Path, every_n_steps: int | None = None) -> None:
        super().__init__(every_n_steps, at_start=False)
        self.dirpath = Path(dirpath)

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.world_size == 1 or not dist.is_initialized():
            return
        digests: list[str | None] = [None] * trainer.world_size
        dist.all_gather_object(digests, parameter_digest(pl_module))
        in_sync = len(set(digests)) == 1
        if trainer.is_global_zero:
            write_json_atomic(
                self.dirpath / REPLICAS_FILE,
                {
                    "global_step": trainer.global_step,
                    "world_size": trainer.world_size,
                    "in_sync": in_sync,
                    "parameter_sha256": digests,
                },
            )
        if not in_sync:
            raise RuntimeError(
                f"DDP ranks hold different parameters at step {trainer.global_step} "
                f"(digests in {self.dirpath / REPLICAS_FILE}): some gradient was not "
                "synchronised across ranks, e.g. a loss term back-propagated outside DDP"
            )
