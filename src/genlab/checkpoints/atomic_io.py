"""A checkpoint is either complete on disk or absent: written to a temporary file, then renamed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning_fabric.utilities.types import _PATH
from pytorch_lightning.plugins.io import TorchCheckpointIO

from genlab.atomic_write import write_atomic


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save through :func:`genlab.atomic_write.write_atomic` (a partial file in the
    target folder, fsync, ``os.replace``).

    Lightning's own writer streams the bytes into the final name, so a kill or a full disk
    mid-write leaves a truncated file under a valid-looking name.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        write_atomic(Path(path), lambda file: torch.save(checkpoint, file))
