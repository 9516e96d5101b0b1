"""A checkpoint is either complete on disk or absent: written to a temporary file, then renamed."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

from genlab.atomic_write import partial_files, write_atomic

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save through :func:`genlab.atomic_write.write_atomic` (a partial file in the
    target folder, fsync, ``os.replace``).

    Lightning's own writer streams the bytes into the final name, so a kill or a full disk
    mid-write leaves a truncated file under a valid-looking name.
    """

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | os.PathLike[str],
        storage_options: Any | None = None,
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        write_atomic(Path(path), lambda file: torch.save(checkpoint, file))


def remove_partial_checkpoints(folder: Path) -> list[Path]:
    """Removes the partial files of checkpoint saves that a killed process left in ``folder``
    (one log line names them); returns them.

    Only for a folder no other process can be writing to: the caller holds its run dir's lock.
    """
    partials = partial_files(folder) if folder.is_dir() else []
    for partial in partials:
        partial.unlink(missing_ok=True)
    if partials:
        log.info(
            "Removed %d partial checkpoint file(s) that an interrupted save left in %s: %s",
            len(partials),
            folder,
            ", ".join(p.name for p in partials),
        )
    return partials
