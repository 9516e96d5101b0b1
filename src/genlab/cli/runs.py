"""genlab-runs: one table of every training run under a folder (train, multirun, sweep and
baseline runs), with filters."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from genlab.runs import COLUMNS, default_root, find_runs, markdown, rows, select, swept_values

COLUMNS_HELP = """\
columns: kind (train, multirun, sweep or reproduce: the tool whose folder holds the run),
swept (a multirun job's or sweep trial's overrides that differ from the other runs of its
multirun or sweep), global_step of budget (trainer.max_steps, else its epochs), the headline
scores, degenerate (yes: samples or scores that say nothing about the model, see
docs/metrics.md). The table goes to stdout, the count of runs to stderr."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="genlab-runs",
        description=__doc__,
        epilog=COLUMNS_HELP,
    )
    parser.add_argument(
        "paths", nargs="*", type=Path,
        help="folders to search (default: $GENLAB_ROOT/outputs, or ./outputs)",
    )  # fmt: skip
    parser.add_argument("--status", help="only runs with this status (ok, failed, preempted, ...)")
    parser.add_argument("--model", help="only runs of this model (gan, wgan_gp, vae, ...)")
    parser.add_argument("--group", help="only runs of this W&B group (a sweep, a table)")
    parser.add_argument("--tag", help="only runs with this tag")
    parser.add_argument("--csv", type=Path, help="also write the table as CSV to this file")
    args = parser.parse_args(argv)
    roots = args.paths or [default_root()]
    missing = [str(p) for p in roots if not p.is_dir()]
    if missing:
        print(
            f"genlab: error: no such folder: {', '.join(missing)}; give folders of runs",
            file=sys.stderr,
        )
        sys.exit(2)
    found = find_runs(roots)
    root = Path(os.path.commonpath([p.resolve() for p in roots]))  # run names relative to it
    swept = swept_values(found, root)  # among all runs of a sweep, whatever the filters keep
    runs = select(found, args.status, args.model, args.group, args.tag)
    print(markdown(runs, root, swept), end="")
    print(f"{len(runs)} runs", file=sys.stderr)
    if args.csv is not None:
        with args.csv.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows(runs, root, swept))


if __name__ == "__main__":
    main()
