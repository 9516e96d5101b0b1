"""summary.json: one JSON object per run that tools and notebooks read, flat but for its
machine block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.json"
# summary.json's keys in the W&B run summary: genlab/<key> (sweep metric names use them).
WANDB_SUMMARY_PREFIX = "genlab/"
# summary.json's one nested value, the machine and software of the run (genlab.machine); the
# W&B run keeps it in its config, not its summary.
MACHINE_KEY = "machine"
# The W&B config's entries beside the training config: how the run was measured, and where.
METRIC_PROTOCOL_KEY = "metric_protocol"
WANDB_CONFIG_RECORDS = (METRIC_PROTOCOL_KEY, MACHINE_KEY)


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
