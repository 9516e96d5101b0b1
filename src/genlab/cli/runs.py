"""genlab-runs: one table of every training run under a folder (train, multirun, sweep and
baseline runs), with filters."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from genlab.runs import COLUMNS, default_root, find_runs, markdown, select


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="genlab-runs", description=__doc__.splitlines()[0])
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
    runs = select(find_runs(roots), args.status, args.model, args.group, args.tag)
    root = Path(os.path.commonpath([p.resolve() for p in roots]))  # run names relative to it
    print(markdown(runs, root), end="")
    print(f"{len(runs)} runs", file=sys.stderr)
    if args.csv is not None:
        with args.csv.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(run.row(root) for run in runs)


if __name__ == "__main__":
    main()
