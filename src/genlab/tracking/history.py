"""metrics_history.jsonl: one JSON object per evaluation of a run (its step and scores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HISTORY_FILE = "metrics_history.jsonl"


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """The run's evaluations in order; empty when it has none."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_history(path: Path, record: dict[str, Any]) -> None:
    """One evaluation as a line of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as history:
        history.write(json.dumps(record, default=float) + "\n")
