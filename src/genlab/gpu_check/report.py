"""The check's results: one JSON record and a short Markdown table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genlab.atomic_write import write_json_atomic, write_text_atomic
from genlab.machine import describe_machine
from genlab.markdown import markdown_table

RECORD_FILE = "gpu_check.json"
TABLE_FILE = "gpu_check.md"
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class CheckResult:
    """One row: what was checked, its outcome, one line on why or what was measured, and the
    numbers behind that line."""

    check: str  # the part of the check: training, speed, ddp, fid
    name: str  # what this row checked, e.g. "gan bf16-mixed"
    status: str  # passed, failed or skipped
    detail: str
    seconds: float | None = None
    values: dict[str, Any] = field(default_factory=dict)


def write_outputs(out_dir: Path, record: dict[str, Any], results: list[CheckResult]) -> str:
    """``gpu_check.json`` and ``gpu_check.md`` in ``out_dir``; returns the Markdown."""
    write_json_atomic(out_dir / RECORD_FILE, {**record, "results": [asdict(r) for r in results]})
    lines = markdown_table(
        ["check", "what", "result", "s", "detail"],
        [
            [
                r.check,
                r.name,
                r.status,
                None if r.seconds is None else round(r.seconds, 1),
                r.detail,
            ]
            for r in results
        ],
    )
    failed = sum(r.status == FAILED for r in results)
    verdict = (
        f"{failed} of {len(results)} failed" if failed else "every check passed or was skipped"
    )
    text = "\n".join(
        [
            f"# genlab GPU check, --device {record['device']}: {verdict}",
            "",
            *lines,
            "",
            describe_machine(record["machine"]),
            "",
        ]
    )
    write_text_atomic(out_dir / TABLE_FILE, text)
    return text
