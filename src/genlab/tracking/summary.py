"""summary.json: one flat JSON object per run that tools and notebooks read."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.json"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write to a temporary file and rename it, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")
    partial.replace(path)


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / SUMMARY_FILE).read_text())


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN/Infinity: non-finite values are written as null."""
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
