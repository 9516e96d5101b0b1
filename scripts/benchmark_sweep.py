"""What two workers and pruning save: one sweep run twice, timed.

    python scripts/benchmark_sweep.py [--sweep smoke_hyperband] [--storage URL]
                                      [--out outputs/benchmarks/sweep]

1. One worker, pruning off (``~sweep.early_terminate``), the study in SQLite.
2. Two workers (``-m hydra/launcher=slurm_local 'worker=range(2)'``: two processes through
   submitit's local executor) on one shared study in PostgreSQL, with the definition's pruning;
   each trial with ``--threads-per-trial`` torch threads (default: the CPU count over two, so
   that two trials at once do not oversubscribe the cores).

``--storage`` names the PostgreSQL database of the second run; without it a throwaway server is
started on localhost from the installed PostgreSQL binaries (``apt-get install postgresql``),
as the tests do. Prints a Markdown table (wall time, trials by status, optimizer steps trained);
numbers belong in docs, not tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from genlab.config import compose_train_config
from genlab.machine import MachineRecord, describe_machine

REPO = Path(__file__).resolve().parents[1]


def timed_sweep(arguments: list[str], sweep_dir: Path) -> tuple[float, pd.DataFrame]:
    command = [sys.executable, str(REPO / "scripts" / "sweep.py"), *arguments,
               "backend=local", f"sweep_dir={sweep_dir}"]  # fmt: skip
    started = time.monotonic()
    with open(sweep_dir.parent / f"{sweep_dir.name}.log", "w") as log:
        subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=True)
    return time.monotonic() - started, pd.read_csv(sweep_dir / "trials.csv")


@contextlib.contextmanager
def shared_storage(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(REPO))
    from tests.postgres import postgres_bin, postgres_server

    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("no PostgreSQL installed: apt-get install postgresql, or pass --storage URL")
    with postgres_server(bin_dir) as started:
        yield started.url


def row(name: str, wall_s: float, trials: pd.DataFrame) -> str:
    counts = trials["status"].value_counts()
    statuses = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"| {name} | {wall_s:.0f} | {statuses} | {int(trials['step'].sum())} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="smoke_hyperband", help="conf/sweep/NAME")
    parser.add_argument(
        "--storage",
        help="PostgreSQL URL for the two workers' shared study, without a password (~/.pgpass)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "outputs/benchmarks/sweep")
    parser.add_argument("--threads-per-trial", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    args = parser.parse_args()
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    args.out.mkdir(parents=True, exist_ok=True)
    # The single worker's trials run on torch's thread count; the two workers' are in their row.
    machine = MachineRecord(precision=compose_train_config([], args.out).trainer.precision)
    one = args.out / f"{stamp}_one_worker"
    one_s, one_trials = timed_sweep([f"sweep={args.sweep}", "~sweep.early_terminate"], one)
    two = args.out / f"{stamp}_two_workers"
    with shared_storage(args.storage) as storage:
        two_s, two_trials = timed_sweep(
            ["-m", "hydra/launcher=slurm_local", "worker=range(2)", f"sweep={args.sweep}",
             f"storage={storage}", f"study={args.sweep}_{stamp}",
             f"overrides=[\"threads={args.threads_per_trial}\"]"],
            two,
        )  # fmt: skip
    lines = [
        f"sweep={args.sweep}",
        "",
        "| run | wall time (s) | trials | optimizer steps trained |",
        "|---|---|---|---|",
        row("1 worker, no pruning (SQLite)", one_s, one_trials),
        row(
            f"2 workers, pruning (PostgreSQL), threads={args.threads_per_trial}", two_s, two_trials
        ),
        "",
        f"2 workers with pruning take {two_s / one_s:.0%} of the single worker's time.",
        "",
        describe_machine(machine.block()),
    ]
    (args.out / f"{stamp}_sweep.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
