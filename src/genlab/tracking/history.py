"""metrics_history.jsonl: one JSON object per evaluation of a run (its step and scores), a line
each. Every reader and writer of the file goes through this module.

A line is written with one ``write()`` and fsynced, so a kill leaves at most the last line cut
off. Readers skip a cut-off or damaged line with one warning naming the file and keep the rest;
the writer removes such lines before it appends. An evaluation at a step replaces the rows of
that step and later ones: they describe training that a resumed run did again
(docs/decisions.md).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.atomic_write import write_text_atomic

HISTORY_FILE = "metrics_history.jsonl"
_PREVIEW_CHARS = 40

log = logging.getLogger(__name__)


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """The run's evaluations by step, each step once (the latest evaluation of it); empty when
    it has none. Lines that cannot be read are skipped with one warning naming the file."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    content = _Content.parse(path.read_bytes())
    if content.unreadable:
        log.warning(
            "%s: skipping %s, which cannot be read; the other %d evaluations are kept",
            path, content.describe_unreadable(), len(content.records),
        )  # fmt: skip
    return _latest_per_step(content.records)


def append_history(path: Path, record: dict[str, Any]) -> None:
    """Adds the evaluation ``record`` (with its ``step``) to ``path``. A cut-off or damaged line
    left by an earlier process is removed first (one warning names it), and rows at
    ``record["step"]`` or later are replaced: then the file is rewritten atomically."""
    step = record["step"]
    content = _Content.parse(path.read_bytes() if path.is_file() else b"")
    replaced = [r["step"] for r in content.records if r["step"] >= step]
    if not (content.unreadable or content.unterminated or replaced):
        _append_line(path, _line(record))
        return
    if content.unreadable:
        log.warning(
            "%s: removing %s, which cannot be read, before writing the evaluation at step %d",
            path, content.describe_unreadable(), step,
        )  # fmt: skip
    if replaced:
        log.info(
            "%s: the evaluation at step %d replaces the rows at steps %s, written before the "
            "run resumed",
            path, step, ", ".join(map(str, replaced)),
        )  # fmt: skip
    kept = [r for r in _latest_per_step(content.records) if r["step"] < step]
    write_text_atomic(path, "".join(map(_line, [*kept, record])))


class HistoryFollower:
    """The evaluations a running run appends to its history file, read as they come. A line
    still without its newline is being written: it is left for the next call, not taken as
    damage. A complete line that cannot be read is skipped with a warning naming the file. A
    file rewritten since the last call (a resumed run's repair) is read again from its start;
    only evaluations past the last step delivered are new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last_step = -1  # step of the last evaluation delivered
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._lines = 0  # complete lines read, for the warnings' line numbers

    def new(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as history:
                stat = os.fstat(history.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._identity or stat.st_size < self._offset:
                    self._identity, self._offset, self._lines = identity, 0, 0
                history.seek(self._offset)
                chunk = history.read()
        except FileNotFoundError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        content = _Content.parse(complete, first_line=self._lines + 1)
        self._lines += complete.count(b"\n")
        if content.unreadable:
            log.warning("%s: skipping %s, which cannot be read", self.path,
                        content.describe_unreadable())  # fmt: skip
        found = [r for r in content.records if r["step"] > self.last_step]
        if found:
            self.last_step = found[-1]["step"]
        return found


@dataclass
class _Content:
    """A history file's bytes as evaluation records, damaged lines and a cut-off last line."""

    records: list[dict[str, Any]] = field(default_factory=list)
    damaged: list[tuple[int, bytes]] = field(default_factory=list)  # (line number, bytes)
    cut_off: bytes = b""  # what follows the last newline, unless it is a whole record
    unterminated: bool = False  # the last record has no newline after it

    @classmethod
    def parse(cls, data: bytes, first_line: int = 1) -> _Content:
        *lines, tail = data.split(b"\n")
        content = cls()
        for number, line in enumerate(lines, start=first_line):
            if not line.strip():
                continue
            record = _record(line)
            if record is None:
                content.damaged.append((number, line))
            else:
                content.records.append(record)
        if tail.strip():
            # No proper prefix of a JSON object is one: a tail that parses is a whole record.
            record = _record(tail)
            if record is None:
                content.cut_off = tail
            else:
                content.records.append(record)
                content.unterminated = True
        return content

    @property
    def unreadable(self) -> bool:
        return bool(self.damaged or self.cut_off)

    def describe_unreadable(self) -> str:
        parts = [f"line {number} ({_preview(line)})" for number, line in self.damaged]
        if self.cut_off:
            parts.append(f"the cut-off last line ({_preview(self.cut_off)})")
        return ", ".join(parts)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, default=float) + "\n"


def _record(line: bytes) -> dict[str, Any] | None:
    """The evaluation on ``line``: a JSON object with an integer ``step``; None otherwise."""
    try:
        record = json.loads(line)
    except ValueError:  # also a UnicodeDecodeError
        return None
    if not isinstance(record, dict):
        return None
    step = record.get("step")
    return record if isinstance(step, int) and not isinstance(step, bool) else None


def _latest_per_step(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each record replaces those before it at its step or later, so steps increase."""
    kept: list[dict[str, Any]] = []
    for record in records:
        while kept and kept[-1]["step"] >= record["step"]:
            kept.pop()
        kept.append(record)
    return kept


def _preview(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    return repr(text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "...")


def _append_line(path: Path, line: str) -> None:
    """One ``write()`` of the whole line, fsynced: a kill leaves the line whole or cut off."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = line.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        written = os.write(descriptor, data)
        while written < len(data):  # a regular file takes it all unless the disk fills up
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
