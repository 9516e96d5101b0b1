"""Atomic file writes: a reader finds a file's old content or its new one, never a part.

Every file genlab rewrites while others may read it (summary.json, checkpoints, sample grids,
sweep tables, decompressed datasets, extractor weights) goes through :func:`write_atomic`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

_PARTIAL_MARK = ".partial-"


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write`` fills ``.<name>.partial-<pid>`` in the target folder, which is fsynced and
    renamed over ``path``; then the folder is fsynced.

    A rename within one folder is atomic on POSIX file systems, and the fsyncs make the new
    content (and its name) survive a power loss before the old file is replaced. When
    ``write`` fails (a full disk, an object that cannot be serialised) the old file stays and
    no partial file is left; the exception propagates.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}{_PARTIAL_MARK}{os.getpid()}")
    try:
        with open(partial, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def partial_files(folder: Path) -> list[Path]:
    """The partial files that :func:`write_atomic` left in ``folder`` when its process was
    killed mid-write (SIGKILL, a power loss): no ``finally`` ran to remove them."""
    return sorted(p for p in folder.glob(f".*{_PARTIAL_MARK}*") if p.is_file())


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, lambda file: file.write(data))


def write_text_atomic(path: Path, text: str) -> None:
    """UTF-8, whatever the locale: tables hold characters such as ★ and ±."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """``data`` as indented JSON with sorted keys, written atomically; NaN and Infinity become
    null, tensors and numpy scalars their value, paths their text."""
    text = json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable)
    write_text_atomic(path, text + "\n")


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN/Infinity: non-finite values are written as null."""
    return value if math.isfinite(value) else None


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity (strict parsers reject them): such numbers become null."""
    if isinstance(value, float):
        return finite_or_none(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
