"""Times a command: wall time, peak memory of its processes, exit status, and for pytest the
passed/failed/skipped counts of its last line.

    python scripts/time_command.py [--record NAME] [--note TEXT] -- COMMAND [ARG ...]

Measures the quick start in a fresh clone (``-- make quickstart``) and the test suite
(``-- make test``, ``-- make test-fast``): run it with any Python that has torch (another
checkout's ``.venv/bin/python``); it records this checkout's commit. The peak memory is the
largest resident set of any one process the command started (``getrusage(RUSAGE_CHILDREN)``'s
``ru_maxrss``: its children and theirs, once they have ended). Exits with the command's status.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This checkout's genlab (its commit, its docs/results/), whichever Python with torch runs the
# script: a fresh clone is timed from before its .venv exists.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import _setup_check  # noqa: F401  (a missing set-up is one line, not a traceback)

# isort: split
import argparse
import re
import resource
import shlex
import subprocess
import time

from genlab.machine import MachineRecord
from genlab.results import add_record_option, write_record

# pytest's summary line: "=== 3 passed, 1 skipped, 2 deselected in 12.34s ===" (or without
# the rules, under -q).
PYTEST_SUMMARY = re.compile(r"^=* ?(\d+ \w+.*) in [\d.]+s( \(.*\))? ?=*$")
PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|deselected|errors?)")


def pytest_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line in ``output``; none when there is no such line."""
    summaries = [m.group(1) for m in map(PYTEST_SUMMARY.match, output.splitlines()) if m]
    counts = PYTEST_COUNT.findall(summaries[-1]) if summaries else []
    return {("errors" if kind.startswith("error") else kind): int(n) for n, kind in counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_record_option(parser)
    parser.add_argument("--note", help="the record's note: how it ran (a fresh clone, CI=true)")
    parser.add_argument("command", nargs="+", help="after --: the command and its arguments")
    args = parser.parse_args()
    machine = MachineRecord(precision=None)
    started = time.perf_counter()
    # Its output goes on to the terminal as it comes, and is kept for pytest's counts.
    process = subprocess.Popen(
        args.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = []
    for line in process.stdout:
        sys.stdout.write(line)
        output.append(line)
    status = process.wait()
    wall_s = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    figures = {
        "wall_s": round(wall_s, 2),
        "peak_memory_mib": round(peak_mib),
        "exit_status": status,
    }
    figures.update(pytest_counts("".join(output)))
    print(f"time_command: {figures}", file=sys.stderr)
    if args.record:
        minutes, seconds = divmod(round(wall_s), 60)
        write_record(
            args.record,
            machine.block(),
            ["command", "wall time", "peak memory", "exit status", "tests"],
            [[f"`{shlex.join(args.command)}`", f"{minutes} min {seconds:02d} s",
              f"{peak_mib / 1024:.1f} GiB", str(status), _tests(figures)]],
            figures,
            args.note,
        )  # fmt: skip
    sys.exit(status)


def _tests(figures: dict[str, int]) -> str:
    counts = [
        f"{figures[k]} {k}" for k in ("passed", "failed", "skipped", "errors") if k in figures
    ]
    return ", ".join(counts) or "n/a"


if __name__ == "__main__":
    main()
