"""genlab-reproduce: a paper's table of models x seeds, then "paper vs genlab"."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import hydra_app
from genlab.compare.runs import load_run
from genlab.errors import ConfigError
from genlab.job_progress import duration
from genlab.machine import MachineRecord
from genlab.reproduce.baseline import Baseline
from genlab.reproduce.runner import RunResult, execute, plan
from genlab.results import check_name, write_record

if TYPE_CHECKING:
    from genlab.reproduce.report import PaperVsGenlab

log = logging.getLogger("genlab.reproduce")


def reproduce(cfg: DictConfig) -> list[RunResult]:
    # pandas, matplotlib and scipy load for the report, not for `--help` (docs/decisions.md).
    from genlab.compare.report import compare_runs
    from genlab.reproduce.report import REPORT_FILE, paper_vs_genlab, paper_vs_genlab_table

    if cfg.record is not None:
        check_name(cfg.record)
    machine, started = MachineRecord(precision=None), time.monotonic()
    baseline = Baseline.from_dict(OmegaConf.to_container(cfg.baseline, resolve=True))
    budget = baseline.budget(cfg.budget)
    variants = baseline.select(None if cfg.variants is None else list(cfg.variants))
    if cfg.seeds < 1 or cfg.workers < 1:
        raise ConfigError(f"seeds and workers must be >= 1, got {cfg.seeds} and {cfg.workers}")
    out_dir = Path(cfg.out_dir)
    runs = plan(baseline, budget, variants, cfg.seeds, out_dir, [str(o) for o in cfg.overrides])
    results = execute(runs, cwd=Path.cwd(), workers=cfg.workers, train=not cfg.report_only)

    ok = [load_run(r.run_dir) for r in results if r.status == "ok"]
    extractor = ok[0].summary.get("metric_extractor") if ok else None
    if ok:
        compare_runs(
            ok,
            out_dir / "comparison",
            cfg.allow_mixed_protocols,
            "allow_mixed_protocols=true",
            labels={r.run_dir: r.variant.label for r in results},
        )
    report = out_dir / REPORT_FILE
    table = paper_vs_genlab_table(baseline, results)
    report.write_text(paper_vs_genlab(baseline, budget, results, extractor, table))
    if cfg.record is not None:
        write_record(
            cfg.record, machine.block(), *table_record(table, results, time.monotonic() - started)
        )
    not_ok = [r for r in results if r.status != "ok"]
    log.info(
        "%d of %d runs ok%s; table: %s",
        len(results) - len(not_ok),
        len(results),
        f" ({', '.join(f'{r.variant.name} seed {r.seed}: {r.status}' for r in not_ok)})"
        if not_ok
        else "",
        report,
    )
    return results


def table_record(
    table: PaperVsGenlab, results: list[RunResult], wall_s: float
) -> tuple[list[str], list[list[str]], dict[str, float], str]:
    """The record of a table: its rows, the wall time of the command and what the ranks say
    (the wall time includes runs finished before only in what reading them took)."""
    ok = sum(r.status == "ok" for r in results)
    note = " ".join([f"{ok} of {len(results)} runs ok, {duration(wall_s)}.",
                     *table.ranking, *(line for line in table.footnotes if line)])  # fmt: skip
    return table.header, table.rows, {"wall_s": round(wall_s, 1), "runs": len(results)}, note


@hydra_app("reproduce")
def main(cfg: DictConfig) -> list[RunResult]:
    return reproduce(cfg)


if __name__ == "__main__":
    main()
