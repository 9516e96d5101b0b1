"""genlab-reproduce: a paper's table of models x seeds, then "paper vs genlab"."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import hydra_app
from genlab.compare.runs import load_run
from genlab.errors import ConfigError
from genlab.reproduce.baseline import Baseline
from genlab.reproduce.runner import RunResult, execute, plan

log = logging.getLogger("genlab.reproduce")


def reproduce(cfg: DictConfig) -> list[RunResult]:
    # pandas, matplotlib and scipy load for the report, not for `--help` (docs/decisions.md).
    from genlab.compare.report import compare_runs
    from genlab.reproduce.report import REPORT_FILE, paper_vs_genlab

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
    report.write_text(paper_vs_genlab(baseline, budget, results, extractor))
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


@hydra_app("reproduce")
def main(cfg: DictConfig) -> list[RunResult]:
    return reproduce(cfg)


if __name__ == "__main__":
    main()
