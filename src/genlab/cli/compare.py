"""genlab-compare: a table, verdicts and plots across runs; seeds of one config form a variant."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from genlab.compare.axes import X_AXES
from genlab.compare.runs import find_run_dirs, load_training_runs
from genlab.errors import GenlabError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compare.py",
        description="Compare genlab runs: one row per variant (runs that differ only by seed) "
        "with mean, std and 95%% confidence interval of each metric, pairwise Welch's t-tests, "
        "plots of each metric over steps and at the end, sample grids side by side.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="run dirs, sweep dirs or folders of runs"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="where comparison.md/.csv and the PNGs go"
    )
    parser.add_argument(
        "--x",
        choices=list(X_AXES),
        default=None,
        help="the curves' axis (default: generator_steps where every evaluation recorded them)",
    )
    parser.add_argument(
        "--wandb-project",
        metavar="ENTITY/PROJECT",
        help="also the runs of this W&B project (online)",
    )
    parser.add_argument("--wandb-group", help="only the W&B runs of this group (a sweep's name)")
    parser.add_argument(
        "--allow-mixed-protocols",
        action="store_true",
        help="compare runs scored under different metric protocols (image counts, split, "
        "image size, weights, metric seed); the affected cells are marked. Runs of different "
        "feature extractors are never compared.",
    )
    parser.add_argument(
        "--eval-noise",
        type=int,
        default=0,
        metavar="K",
        help="re-score each variant's first run K times with other metric seeds, to split "
        "the spread over seeds into evaluation noise and training noise (needs its "
        "checkpoint and data)",
    )
    parser.add_argument(
        "--min-effect",
        action="append",
        default=[],
        metavar="SCORE=DIFF",
        help="size the seed count for this difference of a score (e.g. fid=2) instead of "
        "the observed one; repeatable",
    )
    args = parser.parse_args(argv)
    if args.eval_noise == 1 or args.eval_noise < 0:
        parser.error(f"--eval-noise needs 2 or more evaluations, got {args.eval_noise}")
    args.min_effect = dict(_min_effect(parser, item) for item in args.min_effect)
    if not args.paths and not args.wandb_project:
        parser.error("give run dirs or sweep dirs (PATH ...), or --wandb-project")
    return args


def _min_effect(parser: argparse.ArgumentParser, item: str) -> tuple[str, float]:
    name, _, value = item.partition("=")
    try:
        effect = float(value)
    except ValueError:
        effect = 0.0
    if not name or not (math.isfinite(effect) and effect > 0):
        parser.error(f"--min-effect takes SCORE=DIFF with a positive DIFF (fid=2), got {item!r}")
    return name, effect


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    # pandas, matplotlib and W&B load once the arguments are valid (docs/decisions.md).
    from genlab.compare.report import compare_runs
    from genlab.compare.wandb_runs import load_wandb_runs

    try:
        runs = load_training_runs(find_run_dirs(args.paths))
        if args.wandb_project:
            runs += load_wandb_runs(args.wandb_project, args.wandb_group)
        compare_runs(
            runs,
            args.out,
            args.allow_mixed_protocols,
            eval_noise=args.eval_noise,
            min_effect=args.min_effect,
            x=args.x,
        )
    except GenlabError as exc:
        print(f"genlab: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(args.out / "comparison.md")


if __name__ == "__main__":
    main()
