"""The training data order: one permutation per epoch drawn from ``seed + epoch``, each process
its shard, and a loader that a checkpoint taken mid-epoch resumes at the next unseen batch.

Lightning saves a loader's ``state_dict`` in every checkpoint and loads it into the new loader
before the first batch is fetched. The position saved is what the training loop has *trained
on*, not what the loader has handed out: Lightning fetches one batch ahead, and worker
processes prefetch more.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset, DistributedSampler


class EpochShuffle(DistributedSampler):
    """``DistributedSampler``'s order (``randperm`` seeded with ``seed + epoch``; rank r takes
    every num_replicas-th index from r, the last ones repeated to even the shards) on one process
    too, so a run's order depends on its seed and epoch only, never on the global RNG. Being a
    ``DistributedSampler``, Lightning keeps it under DDP instead of wrapping it in its own.

    With a trainer, each pass takes its epoch from ``trainer.current_epoch``: the counter
    Lightning passes to ``set_epoch`` runs one ahead after a resume from a checkpoint written
    when a run stopped mid-epoch (``max_steps``, ``max_time``), while the batches continue the
    interrupted epoch."""

    def __init__(self, dataset: Dataset, seed: int, trainer: pl.Trainer | None = None) -> None:
        super().__init__(
            dataset,
            num_replicas=trainer.world_size if trainer is not None else 1,
            rank=trainer.global_rank if trainer is not None else 0,
            shuffle=True,
            seed=seed,
        )
        self.trainer = trainer
        self._resume_epoch = -1
        self._skip = 0

    def resume(self, epoch: int, skip: int) -> None:
        """Passes over ``epoch`` leave out its first ``skip`` indices (of this rank)."""
        self.set_epoch(epoch)
        self._resume_epoch, self._skip = epoch, skip

    def __iter__(self) -> Iterator[int]:
        if self.trainer is not None:
            self.set_epoch(self.trainer.current_epoch)
        order = super().__iter__()
        return islice(order, self._skip, None) if self.epoch == self._resume_epoch else order


class ResumableLoader(DataLoader):
    """A DataLoader over an :class:`EpochShuffle`; its state (saved when the sampler has a
    trainer) is the training position: the epoch, and the samples of this rank trained on."""

    def __init__(self, dataset: Dataset, sampler: EpochShuffle, **kwargs: Any) -> None:
        super().__init__(dataset, sampler=sampler, **kwargs)

    def state_dict(self) -> dict[str, int]:
        assert isinstance(self.sampler, EpochShuffle) and self.sampler.trainer is not None
        assert self.batch_size is not None
        trainer = self.sampler.trainer
        trained_on = trainer.fit_loop.epoch_loop.batch_progress.current.processed
        return {"epoch": trainer.current_epoch, "samples": trained_on * self.batch_size}

    def load_state_dict(self, state: dict[str, int]) -> None:
        assert isinstance(self.sampler, EpochShuffle)
        self.sampler.resume(state["epoch"], state["samples"])
