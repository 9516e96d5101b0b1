"""Telling a full disk apart from a bug: the OSError behind a failed write, and the message
that names where the space ran out and how much a checkpoint needs."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from genlab.errors import exception_chain

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space_error(exc: BaseException) -> OSError | None:
    """The "no space left" OSError behind ``exc``: torch's checkpoint writer, for one, reports
    it as a RuntimeError raised while handling the OSError."""
    return next(
        (e for e in exception_chain(exc) if isinstance(e, OSError) and e.errno in _NO_SPACE),
        None,
    )


def disk_full_message(error: OSError, run_dir: Path, checkpoint_bytes: int) -> str:
    where = Path(error.filename) if error.filename else run_dir
    try:
        free = shutil.disk_usage(where if where.exists() else run_dir).free
    except OSError:
        free = 0
    return (
        f"no space left on the device of {where} ({_mb(free)} free; a checkpoint of this run "
        f"needs about {_mb(checkpoint_bytes)}): free space there "
        "(callbacks.model_checkpoint.save_top_k=K keeps only the K newest checkpoints) or pass "
        "another hydra.run.dir, then continue with resume=true"
    )


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"
