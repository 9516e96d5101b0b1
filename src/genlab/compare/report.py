"""compare(): run dirs in, DIR/comparison.md, comparison.csv, pairwise.csv and PNGs out."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from genlab.compare.plots import plot_curves, plot_final, plot_grids
from genlab.compare.runs import Run, find_run_dirs, load_training_runs
from genlab.compare.stats import ALPHA, CONFIDENCE, METRICS, aggregate, pairwise
from genlab.compare.variants import group_variants
from genlab.errors import ConfigError

log = logging.getLogger("genlab.compare")


def compare(paths: list[Path], out: Path) -> pd.DataFrame:
    """Writes the comparison of the runs under ``paths`` into ``out``; returns its table."""
    runs = load_training_runs(find_run_dirs(paths))
    if not runs:
        raise ConfigError(f"no training runs under {', '.join(map(str, paths))}")
    return compare_runs(runs, out)


def compare_runs(runs: list[Run], out: Path) -> pd.DataFrame:
    good = [run for run in runs if run.why_left_out is None]
    skipped = [run for run in runs if run.why_left_out is not None]
    if not good:
        raise ConfigError(
            f"none of the {len(runs)} runs ended with status ok and metrics: nothing to compare"
        )
    extractors = sorted({str(run.summary.get("metric_extractor")) for run in good})
    if len(extractors) > 1:
        raise ConfigError(
            f"the runs were scored with different feature extractors ({', '.join(extractors)}); "
            "their numbers are not comparable: compare each extractor's runs separately"
        )
    variants = group_variants(good)
    metrics = [m for m in METRICS if any(run.summary.get(m) is not None for run in good)]
    out.mkdir(parents=True, exist_ok=True)

    rows: list[dict[str, Any]] = []
    finals: dict[str, dict[str, list[float]]] = {m: {} for m in metrics}
    for variant in variants:
        row: dict[str, Any] = {
            "variant": variant.label,
            "n_seeds": len(variant.runs),
            "seeds": " ".join(map(str, variant.seeds)),
        }
        for metric in metrics:
            values = [
                float(r.summary[metric]) for r in variant.runs if r.summary.get(metric) is not None
            ]
            finals[metric][variant.label] = values
            agg = aggregate(values)
            row |= {
                f"{metric}_mean": agg.mean,
                f"{metric}_std": agg.std,
                f"{metric}_ci_low": agg.ci_low,
                f"{metric}_ci_high": agg.ci_high,
            }
        row["run_dirs"] = " ".join(str(run.dir) for run in variant.runs)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(out / "comparison.csv", index=False)

    verdicts = pd.DataFrame(
        [vars(v) for metric in metrics for v in pairwise(metric, finals[metric])],
        columns=["metric", "a", "b", "t", "p", "verdict"],
    )
    verdicts.to_csv(out / "pairwise.csv", index=False)

    figures = []
    for metric in metrics:
        plot_final(metric, finals[metric], out / f"final_{metric}.png")
        figures.append(f"final_{metric}.png")
        if plot_curves(metric, variants, out / f"curve_{metric}.png"):
            figures.append(f"curve_{metric}.png")
    if plot_grids(variants, out / "samples.png"):
        figures.append("samples.png")

    (out / "comparison.md").write_text(
        _markdown(table, verdicts, metrics, extractors[0], skipped, figures)
    )
    log.info("Compared %d runs in %d variants: %s", len(good), len(variants), out / "comparison.md")
    return table


def _markdown(
    table: pd.DataFrame,
    verdicts: pd.DataFrame,
    metrics: list[str],
    extractor: str,
    skipped: list[Run],
    figures: list[str],
) -> str:
    header = ["variant", "seeds", *metrics]
    lines = [
        "# Comparison",
        "",
        f"Final metrics ({extractor}) per variant: mean ± std over seeds, [{CONFIDENCE:.0%} "
        "Student-t confidence interval of the mean]. Variants are runs whose configs differ "
        "only by seed (and run name, group, tags, locations).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in table.itertuples(index=False):
        row = row._asdict()
        cells = [row["variant"], str(row["n_seeds"])]
        cells += [_cell(row, m) for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    direction = ", ".join(f"{m} {d}" for m, d in METRICS.items() if m in metrics)
    lines += [
        "",
        f"## Pairwise verdicts (Welch's t-test, two-sided, alpha {ALPHA}; better: {direction})",
        "",
        "| metric | A | B | t | p | verdict |",
        "|---|---|---|---|---|---|",
    ]
    tested = verdicts[~verdicts["verdict"].str.startswith("n/a")]
    for v in tested.itertuples(index=False):
        lines.append(f"| {v.metric} | {v.a} | {v.b} | {_num(v.t)} | {_num(v.p)} | {v.verdict} |")
    if len(tested) < len(verdicts):
        lines += ["", "Pairs with fewer than 2 seeds in a variant have no verdict (pairwise.csv)."]
    if skipped:
        lines += [
            "",
            f"Left out ({len(skipped)} runs not ok or without metrics): "
            + ", ".join(f"{r.dir.name} ({r.why_left_out})" for r in skipped),
        ]
    lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _cell(row: dict[str, Any], metric: str) -> str:
    mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
    if math.isnan(std):
        return _num(mean)
    return f"{_num(mean)} ± {_num(std)} [{_num(row[f'{metric}_ci_low'])}, {_num(row[f'{metric}_ci_high'])}]"


def _num(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4g}"
