"""A quiet console: genlab's own lines, Lightning's progress bar and the end-of-run block.

Each filter below names one library message that tells a genlab user nothing they can act on,
and why; everything else a library says still reaches the console.
"""

from __future__ import annotations

import logging
import warnings

# (message pattern, why it is noise in a genlab run)
_IGNORED_WARNINGS = (
    (
        "Using ModelCheckpoint with manual optimization",
        "genlab's GAN steps are manual on purpose; checkpoints hold the post-update state",
    ),
    (".*isinstance\\(treespec, LeafSpec\\)", "a deprecation inside Lightning, not in genlab"),
    (
        "You passed in a `val_dataloader` but have no `validation_step`",
        "GANs are scored by the metrics callback; the data module serves the VAE's validation",
    ),
    (
        "Checkpoint directory .* exists and is not empty",
        "a resumed run writes into its own checkpoint folder on purpose",
    ),
)

# Lightning's info lines that are advertisements, not information about the run.
_IGNORED_LIGHTNING_INFO = ("💡 Tip:",)


class _DropPrefixes(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


def quiet_console() -> None:
    """Installs the filters (idempotent)."""
    for pattern, _why in _IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    lightning_info = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if not any(isinstance(f, _DropPrefixes) for f in lightning_info.filters):
        lightning_info.addFilter(_DropPrefixes(_IGNORED_LIGHTNING_INFO))
