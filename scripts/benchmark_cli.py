"""Start-up time of genlab's command-line apps: `--help` and `--cfg job`, which train nothing.

    python scripts/benchmark_cli.py [--repeat 5] [--checkout DIR ...] [--top 8] [--record NAME]

Runs each command ``--repeat`` times in a fresh interpreter (this one's executable) and
reports the minimum wall-clock and CPU (user + system) seconds: the minimum is the run least
disturbed by other processes. With several ``--checkout`` folders (say, a ``git worktree`` of
an older commit next to this one) the runs alternate between them, so both see the same
machine load, and each gets its own columns, named by its commit. One more run per command
under ``python -X importtime`` names the heavy libraries the command imports, and ``--top``
lists the packages that cost the most import time in ``train.py --help``. Prints Markdown;
numbers belong in docs, not tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from genlab.machine import MachineRecord, describe_machine
from genlab.markdown import markdown_table
from genlab.results import add_record_option, write_record

REPO = Path(__file__).resolve().parents[1]
# (script, arguments)
COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("train", ("--help",)),
    ("train", ("--cfg", "job")),
    ("train", ("model=vae", "--cfg", "job")),
    ("sample", ("--help",)),
    ("sample", ("--cfg", "job")),
    ("evaluate", ("--help",)),
    ("evaluate", ("--cfg", "job")),
    ("sweep", ("--help",)),
    ("sweep", ("--cfg", "job")),
    ("reproduce", ("--help",)),
    ("reproduce", ("--cfg", "job")),
    ("compare", ("--help",)),
    ("compare", ("--cfg", "job")),
]
# What a command should import only once it does its work.
HEAVY = (
    "torch",
    "pytorch_lightning",
    "lightning_fabric",
    "torchvision",
    "torch_fidelity",
    "wandb",
    "optuna",
    "pandas",
    "matplotlib",
    "scipy",
)


def label(checkout: Path) -> str:
    """The checkout's commit, or its folder's name outside git."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else checkout.name


def command_line(checkout: Path, script: str, args: tuple[str, ...], *flags: str) -> list[str]:
    return [sys.executable, *flags, str(checkout / "scripts" / f"{script}.py"), *args]


def environment(checkout: Path) -> dict[str, str]:
    # The checkout's own sources come first, ahead of an installed genlab.
    path = [str(checkout / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "WANDB_MODE": "offline"}


def timed_run(checkout: Path, script: str, args: tuple[str, ...]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command_line(checkout, script, args),
        cwd=checkout,
        env=environment(checkout),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_times(checkout: Path, script: str, args: tuple[str, ...]) -> dict[str, int]:
    """Microseconds of import time (the modules' own, summed) per top-level package."""
    result = subprocess.run(
        command_line(checkout, script, args, "-X", "importtime"),
        cwd=checkout,
        env=environment(checkout),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    per_package: dict[str, int] = defaultdict(int)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] += int(self_us)
    return dict(per_package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command and checkout")
    parser.add_argument(
        "--checkout",
        type=Path,
        nargs="+",
        default=[REPO],
        help="genlab checkouts to time, side by side (default: this one)",
    )
    parser.add_argument("--top", type=int, default=8, help="packages listed for train.py --help")
    add_record_option(parser)
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkout]
    names = [label(c) for c in checkouts]

    # The commands compute nothing here: the record says where, and under what load, they ran.
    machine = MachineRecord(precision=None)
    started = time.perf_counter()
    times: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for _ in range(args.repeat):
        for i, (script, cmd_args) in enumerate(COMMANDS):
            for j, checkout in enumerate(checkouts):
                times[i, j].append(timed_run(checkout, script, cmd_args))
    imports = {
        (i, j): import_times(checkout, script, cmd_args)
        for i, (script, cmd_args) in enumerate(COMMANDS)
        for j, checkout in enumerate(checkouts)
    }
    elapsed = time.perf_counter() - started

    block = machine.block()
    print(f"Best of {args.repeat} runs, {elapsed:.0f} s in all. {describe_machine(block)}\n")
    columns = ["command"]
    for name in names:
        columns += [f"wall s ({name})", f"CPU s ({name})", f"heavy imports ({name})"]
    rows = []
    for i, (script, cmd_args) in enumerate(COMMANDS):
        row = [f"`{script}.py {' '.join(cmd_args)}`"]
        for j in range(len(checkouts)):
            heavy = [p for p in HEAVY if p in imports[i, j]]
            row += [
                f"{min(w for w, _ in times[i, j]):.2f}",
                f"{min(c for _, c in times[i, j]):.2f}",
            ]
            row += [", ".join(heavy) or "none"]
        rows.append(row)
    print("\n".join(markdown_table(columns, rows)))
    if args.record:
        write_record(args.record, block, columns, rows, note=f"Best of {args.repeat} runs.")

    train_help = COMMANDS.index(("train", ("--help",)))
    for j, name in enumerate(names):
        ranked = sorted(imports[train_help, j].items(), key=lambda kv: kv[1], reverse=True)
        total = sum(imports[train_help, j].values())
        print(
            f"\n`python -X importtime scripts/train.py --help` ({name}): "
            f"{total / 1e6:.2f} s of imports; the packages that cost the most\n"
        )
        print("| package | import s |\n|---|---|")
        for package, micros in ranked[: args.top]:
            print(f"| {package} | {micros / 1e6:.2f} |")


if __name__ == "__main__":
    main()
