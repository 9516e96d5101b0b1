"""Random-number generator states in every checkpoint, restored when training resumes."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from genlab.checkpoints.format import RANKS_KEY, RNG_KEY, checkpoint_rng_states


class RNGStateInCheckpoint(pl.Callback):
    """Lightning saves model, optimizer and loop state but not the global RNGs, which draw the
    GAN latents and the VAE's noise; without them a resumed run continues from the seed's
    initial state instead of where the interrupted run was.

    Under DDP every rank draws its own latents (``GenerativeModule.on_fit_start`` seeds each
    rank apart), so the states of all ranks are saved, in rank order, and each rank takes its
    own back. They are put back when training starts, after that seeding; a DDP checkpoint of
    another world size keeps the seeding. ``RNG_KEY`` holds rank zero's (or the only) states.

    The states are stored as tensors and plain Python values, so checkpoints stay loadable
    with ``torch.load(weights_only=True)`` (Lightning's default)."""

    def __init__(self) -> None:
        self._restore: dict[str, Any] | None = None

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        states = collect_rng_states(cuda=pl_module.device.type == "cuda")
        checkpoint[RNG_KEY] = states
        if trainer.world_size > 1:
            # Every rank builds the checkpoint (rank zero writes it): a collective is safe here.
            checkpoint[RANKS_KEY] = _gather(states, trainer.world_size)

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        self._restore = checkpoint_rng_states(checkpoint, trainer.global_rank, trainer.world_size)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._restore is not None:
            set_rng_states(self._restore)
            self._restore = None


def _gather(states: dict[str, Any], world_size: int) -> list[dict[str, Any]]:
    gathered: list[Any] = [None] * world_size
    torch.distributed.all_gather_object(gathered, states)
    return gathered


def collect_rng_states(cuda: bool) -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, python_state, gauss = random.getstate()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": [version, list(python_state), gauss],
    }
    if cuda:
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, python_state, gauss = states["python"]
    random.setstate((version, tuple(python_state), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
