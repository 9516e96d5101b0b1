"""Results records: every measured number the docs show, as JSON in ``docs/results/<name>.json``,
and the Markdown blocks the docs render from them (``make docs``; docs/development.md).

A record holds the command as typed, the date, genlab's commit, the machine block of
:mod:`genlab.machine` (``null`` for numbers whose machine was not recorded when they were
made), whether the machine was under load, and the figures: a table (columns and rows of
display cells), optional scalar figures and a one-line note.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genlab.atomic_write import write_text_atomic
from genlab.errors import ConfigError
from genlab.markdown import markdown_table

REPO = Path(__file__).resolve().parents[2]
# Where records go: docs/results/ of the checkout, or this variable's folder.
RESULTS_DIR_VARIABLE = "GENLAB_RESULTS_DIR"
# Under load: the 1-minute load average above this many per usable CPU at the start (1.5 on
# 2 CPUs), or above that plus the usable CPUs at the end (the work itself may keep them all
# busy: its threads, or processes side by side).
LOAD_PER_CPU = 0.75
NOT_RECORDED = "not recorded at the time the numbers were made"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
BLOCK = re.compile(r"(<!-- results: ([^ ]+) -->\n)(.*?)(<!-- /results -->)", re.DOTALL)


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_VARIABLE) or REPO / "docs" / "results")


def check_name(name: str) -> str:
    """A record's name, checked before the work starts: a bad one is one line, not lost work."""
    if not _NAME.fullmatch(name):
        raise ConfigError(f"record name {name!r}: use lower-case letters, digits, '_' and '-'")
    return name


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """``--record NAME``: also write the results as the record ``NAME`` (docs/results/)."""

    def name(value: str) -> str:
        if not _NAME.fullmatch(value):
            raise argparse.ArgumentTypeError("use lower-case letters, digits, '_' and '-'")
        return value

    parser.add_argument(
        "--record",
        type=name,
        metavar="NAME",
        help=f"also write the record NAME ({RESULTS_DIR_VARIABLE} or docs/results/)",
    )


def figure_cell(value: float) -> str:
    """A figure as a table shows it: 3 significant digits, whole numbers from 100 up, with
    thousands separators (65,177, not 6.52e+04)."""
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def typed_command(argv: list[str] | None = None) -> str:
    """The command line as a user types it: ``python`` and the script's path in the checkout,
    or an installed command's name (``genlab-calibrate``)."""
    script, *arguments = sys.argv if argv is None else argv
    path = Path(script).resolve()
    if path.is_relative_to(REPO) and path.suffix == ".py":
        return shlex.join(["python", str(path.relative_to(REPO)), *arguments])
    return shlex.join([path.name, *arguments])


def under_load(machine: dict[str, Any]) -> bool | None:
    """The rule of :data:`LOAD_PER_CPU`; None where the OS gives no load average."""
    start, end = machine["load_1min"]["start"], machine["load_1min"]["end"]
    if start is None or end is None:
        return None
    cpus = machine["cpus_usable"] or machine["cpu_count"]
    return start > LOAD_PER_CPU * cpus or end > LOAD_PER_CPU * cpus + cpus


def write_record(
    name: str,
    machine: dict[str, Any],
    columns: list[str],
    rows: list[list[Any]],
    figures: dict[str, Any] | None = None,
    note: str | None = None,
    command: str | None = None,
) -> Path:
    """Writes ``<results dir>/<name>.json`` atomically and returns its path."""
    record = {
        "name": check_name(name),
        "command": command or typed_command(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": machine["genlab_commit"],
        "machine": machine,
        "under_load": under_load(machine),
        "table": {"columns": columns, "rows": rows},
        "figures": figures or {},
        "note": note,
    }
    path = results_dir() / f"{name}.json"
    write_text_atomic(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def load_record(name: str, folder: Path | None = None) -> dict[str, Any]:
    path = (folder or results_dir()) / f"{check_name(name)}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no results record {name!r}: {path} does not exist") from None


def render_record(record: dict[str, Any]) -> str:
    """The block's content: the table, the note, and one line saying how it was measured."""
    table = record["table"]
    lines = markdown_table(table["columns"], table["rows"])
    if record.get("note"):
        lines += ["", record["note"]]
    return "\n".join([*lines, "", provenance(record)]) + "\n"


def provenance(record: dict[str, Any]) -> str:
    date = record["date"][:10]
    commit = (record["commit"] or "unknown")[:7]
    line = f"*`{record['command']}`, {date}, genlab {commit}; {describe(record['machine'])}"
    if record.get("under_load"):
        line += "; **under load**"
    return line + ".*"


def describe(machine: dict[str, Any] | None) -> str:
    """The machine in a few words: what changes speed (describe_machine has the rest)."""
    if machine is None:
        return "machine not recorded"
    gpus = machine["gpus"]
    gpu = ", ".join(g["name"] for g in gpus) if gpus else "no GPU"
    load = machine["load_1min"]
    return (
        f"{machine['cpu_model']}, {machine['cpus_usable'] or machine['cpu_count']} CPUs, "
        f"{' '.join(machine['cpu_flags']) or 'no speed flags'}, {gpu}, "
        f"{machine['threads']} threads, load {load['start']}→{load['end']}"
    )


def render_text(text: str, folder: Path | None = None) -> str:
    """``text`` with every results block's content rendered from its record."""

    def rendered(match: re.Match[str]) -> str:
        opening, name, _, closing = match.groups()
        return opening + render_record(load_record(name, folder)) + closing

    return BLOCK.sub(rendered, text)


def pages(root: Path = REPO) -> list[Path]:
    """The pages whose blocks ``make docs`` renders: the README and docs/*.md."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# The pages whose every table is measured unless marked, and the mark (the line before the table).
MEASURED_PAGES = ("README.md", "docs/benchmarks.md", "docs/baselines.md", "docs/metrics.md")
NOT_MEASURED = "<!-- not measured -->"


def unrecorded_tables(text: str) -> list[int]:
    """The line numbers (from 1) of the tables outside a results block that are not marked
    :data:`NOT_MEASURED` on the line before: tables with no record behind them."""
    lines, found, inside = text.splitlines(), [], False
    for i, line in enumerate(lines[:-1]):
        inside = (inside or line.startswith("<!-- results: ")) and line != "<!-- /results -->"
        previous = lines[i - 1] if i else ""
        starts = line.startswith("|") and not previous.startswith("|")
        marked = previous.strip() == NOT_MEASURED
        if starts and lines[i + 1].startswith("|---") and not inside and not marked:
            found.append(i + 1)
    return found
