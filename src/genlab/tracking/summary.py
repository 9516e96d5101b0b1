"""summary.json: one JSON object per run that tools and notebooks read, flat but for its
machine block."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from genlab.atomic_write import write_text_atomic

SUMMARY_FILE = "summary.json"
# summary.json's keys in the W&B run summary: genlab/<key> (sweep metric names use them).
WANDB_SUMMARY_PREFIX = "genlab/"
# summary.json's one nested value, the machine and software of the run (genlab.machine); the
# W&B run keeps it in its config, not its summary.
MACHINE_KEY = "machine"
# The W&B config's entries beside the training config: how the run was measured, and where.
METRIC_PROTOCOL_KEY = "metric_protocol"
WANDB_CONFIG_RECORDS = (METRIC_PROTOCOL_KEY, MACHINE_KEY)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers never see half a file (:mod:`genlab.atomic_write`); NaN and Infinity become
    null."""
    text = json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable)
    write_text_atomic(path, text + "\n")


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """The run's summary; ValueError when the file is not JSON or not a JSON object."""
    summary = json.loads((Path(run_dir) / SUMMARY_FILE).read_text())
    if not isinstance(summary, dict):
        raise ValueError(f"{SUMMARY_FILE} holds a {type(summary).__name__}, not a JSON object")
    return summary


def previous_summary(run_dir: Path) -> dict[str, Any] | None:
    """The summary a run dir holds, or None when it has none or it cannot be read."""
    try:
        return read_summary(run_dir)
    except (OSError, ValueError):
        return None


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
