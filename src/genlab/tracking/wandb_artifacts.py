"""Checkpoint artifacts of an offline W&B run without a second copy of every checkpoint.

W&B stages a read-only copy of each file added to an artifact (its "mutable" policy), so that
the bytes uploaded are the bytes logged even if the file changes before the upload. Offline,
the upload waits for `wandb sync`, and the copies stay in ``WANDB_DATA_DIR`` beside the
checkpoints. genlab writes checkpoints by rename (AtomicCheckpointIO): a checkpoint's bytes
never change in place. A staged copy can therefore be a hard link to the checkpoint: the same
frozen bytes for W&B, stored once on disk, kept when the checkpoint is replaced or removed.
"""

from __future__ import annotations

import filecmp
import os
import stat
from pathlib import Path
from typing import Any

from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from genlab.tracking.wandb_run import WandbLogger, started_run


class LinkedCheckpointsWandbLogger(WandbLogger):
    """genlab's W&B logger whose offline checkpoint artifacts share the checkpoints' bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checkpoint_dirs: set[Path] = set()

    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        if checkpoint_callback.dirpath:
            self._checkpoint_dirs.add(Path(checkpoint_callback.dirpath))
        super().after_save_checkpoint(checkpoint_callback)
        self._link_staged_checkpoints()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        self._link_staged_checkpoints()

    def _link_staged_checkpoints(self) -> None:
        # Online, W&B uploads and deletes its staged copy itself, possibly at this moment.
        run = started_run(self)
        if run is None or not run.offline:
            return
        from genlab._compat.wandb import artifact_staging_dir

        checkpoints = [p for d in self._checkpoint_dirs for p in d.glob("*.ckpt") if p.is_file()]
        link_identical_files(artifact_staging_dir(), checkpoints)


def link_identical_files(folder: Path, originals: list[Path]) -> int:
    """Replaces each file of ``folder`` whose bytes equal one of ``originals`` by a hard link
    to it (keeping the original's permissions); returns how many were replaced."""
    by_size: dict[int, list[Path]] = {}
    for original in originals:
        by_size.setdefault(original.stat().st_size, []).append(original)
    linked = 0
    for copy in folder.iterdir() if folder.is_dir() else ():
        info = copy.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            continue  # not a file, or already a link
        same = (o for o in by_size.get(info.st_size, []) if filecmp.cmp(o, copy, shallow=False))
        original = next(same, None)
        if original is None:
            continue
        temporary = copy.with_name(f".{copy.name}.link")
        temporary.unlink(missing_ok=True)
        os.link(original, temporary)
        os.replace(temporary, copy)
        linked += 1
    return linked
