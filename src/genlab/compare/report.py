"""compare(): run dirs in, DIR/comparison.md, comparison.csv, pairwise.csv and PNGs out."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genlab.compare.eval_noise import evaluation_noise
from genlab.compare.html import write_html
from genlab.compare.plots import curve_axis, plot_curves, plot_final, plot_grids
from genlab.compare.power import POWER, seed_budgets
from genlab.compare.protocols import ALLOW_FLAG, MARK, MixedProtocols, check_protocols
from genlab.compare.runs import Run, find_run_dirs, load_training_runs
from genlab.compare.stats import ALPHA, CONFIDENCE, METRICS, NO_VERDICT, aggregate, pairwise
from genlab.compare.variants import Variant, group_variants
from genlab.errors import ConfigError
from genlab.machine import MachineRecord
from genlab.markdown import markdown_table
from genlab.metrics import degenerate
from genlab.results import write_record

log = logging.getLogger("genlab.compare")


def compare(paths: list[Path], out: Path, allow_mixed_protocols: bool = False) -> pd.DataFrame:
    """Writes the comparison of the runs under ``paths`` into ``out``; returns its table."""
    runs = load_training_runs(find_run_dirs(paths))
    if not runs:
        raise ConfigError(f"no training runs under {', '.join(map(str, paths))}")
    return compare_runs(runs, out, allow_mixed_protocols)


def compare_runs(
    runs: list[Run],
    out: Path,
    allow_mixed_protocols: bool = False,
    flag: str = ALLOW_FLAG,
    eval_noise: int = 0,
    min_effect: dict[str, float] | None = None,
    labels: dict[Path, str] | None = None,
    x: str | None = None,
    record: str | None = None,
) -> pd.DataFrame:
    """``flag``: how the caller's user allows mixed protocols (named in the refusal).
    ``eval_noise``: re-score each variant's first run this many times with other metric seeds.
    ``min_effect``: per score, the difference to size the seed count for (else the observed).
    ``labels``: a display name per run dir (runs with one name form a variant) instead of the
    settings that tell variants apart. ``x``: the curves' axis (default: generator steps where
    every evaluation recorded them). ``record``: also write the variants' table and the
    verdicts as the results record of this name (genlab.results)."""
    machine = MachineRecord(precision=None) if record is not None else None
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
    variants = group_variants(good) if labels is None else _labelled_variants(good, labels)
    flagged = degenerate.flagged_runs(
        (str(run.dir), variant.label, run.summary) for variant in variants for run in variant.runs
    )
    metrics = [m for m in METRICS if any(run.summary.get(m) is not None for run in good)]
    mixed = check_protocols([run.summary for run in good], metrics, allow_mixed_protocols, flag)
    min_effect = min_effect or {}
    unknown = sorted(set(min_effect) - set(metrics))
    if unknown:
        raise ConfigError(
            f"min_effect names {', '.join(unknown)}, which these runs do not report; "
            f"choose among {', '.join(metrics)}"
        )
    eval_stds: dict[str, dict[str, float]] = {m: {} for m in metrics}
    if eval_noise:
        for variant in variants:
            for metric, std in evaluation_noise(variant.runs[0], eval_noise, metrics).items():
                eval_stds[metric][variant.label] = std
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
            agg = aggregate(values, metric)
            row |= {
                f"{metric}_mean": agg.mean,
                f"{metric}_std": agg.std,
                f"{metric}_ci_low": agg.ci_low,
                f"{metric}_ci_high": agg.ci_high,
            }
            if metric in mixed.affected:
                row[f"{metric}_mixed_protocols"] = " ".join(mixed.affected[metric])
        row |= _budget(variant.runs)
        row["degenerate"] = " ".join(
            run.dir.name for run in variant.runs if str(run.dir) in flagged
        )
        row["run_dirs"] = " ".join(str(run.dir) for run in variant.runs)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(out / "comparison.csv", index=False)

    verdicts = pd.DataFrame(
        [vars(v) for metric in metrics for v in pairwise(metric, finals[metric])],
        columns=["metric", "a", "b", "t", "p", "p_holm", "hedges_g", "verdict"],
    )
    budgets = pd.DataFrame(
        [
            vars(budget)
            for metric in metrics
            for budget in seed_budgets(
                metric, finals[metric], eval_stds[metric], min_effect.get(metric)
            )
        ],
        columns=["metric", "a", "b", *_SEED_COLUMNS],
    )
    verdicts = verdicts.merge(budgets, on=["metric", "a", "b"], how="left")
    degenerate_variants = {
        variant.label for variant in variants if any(str(r.dir) in flagged for r in variant.runs)
    }
    verdicts["verdict"] = [
        _refusal(v, degenerate_variants) or v.verdict for v in verdicts.itertuples(index=False)
    ]
    # No test of a degenerate run's numbers: a p-value beside the refusal would read as one.
    verdicts.loc[verdicts["verdict"] == DEGENERATE_VERDICT, ["t", "p", "p_holm", "hedges_g"]] = (
        math.nan
    )
    verdicts.to_csv(out / "pairwise.csv", index=False)

    figures = []
    for metric in metrics:
        plot_final(metric, finals[metric], out / f"final_{metric}.png")
        figures.append(f"final_{metric}.png")
        if plot_curves(metric, variants, out / f"curve_{metric}.png", x or curve_axis(variants)):
            figures.append(f"curve_{metric}.png")
    if plot_grids(variants, out / "samples.png"):
        figures.append("samples.png")

    # The console shows what the report concludes, not only how many seeds it would take.
    log.info("%s", "\n".join(_verdict_lines(verdicts, metrics, mixed)[1:]))
    seed_lines = _seed_lines(verdicts, mixed)
    if seed_lines:
        log.info("%s", "\n".join(seed_lines))
    flagged_lines = _degenerate_lines(variants, flagged)
    if flagged_lines:
        log.info("%s", "\n".join(flagged_lines))
    report = _markdown(
        table, verdicts, metrics, extractors[0], skipped, figures, mixed, variants,
        seed_lines + flagged_lines,
    )  # fmt: skip
    (out / "comparison.md").write_text(report)
    if machine is not None:
        header, cells = _variant_table(table, metrics, mixed)
        write_record(record, machine.block(), header, cells,
                     {"runs": len(good), "variants": len(variants)},
                     _verdict_note(verdicts))  # fmt: skip
    write_html(report, out, out / "comparison.html")
    log.info("Compared %d runs in %d variants: %s", len(good), len(variants), out / "comparison.md")
    return table


DEGENERATE_VERDICT = f"n/a: degenerate runs {degenerate.MARK}"
NOISE_VERDICT = "n/a: within evaluation noise"


def _refusal(v: Any, degenerate_variants: set[str]) -> str | None:
    """Why a pair gets no verdict although both variants have seeds: a degenerate run in
    either, or a difference within the evaluation noise measured for it."""
    if v.verdict == NO_VERDICT:
        return None
    if v.a in degenerate_variants or v.b in degenerate_variants:
        return DEGENERATE_VERDICT
    if degenerate.below_noise(v.difference, v.eval_std):
        return NOISE_VERDICT
    return None


def _degenerate_lines(variants: list[Variant], flagged: dict[str, list[str]]) -> list[str]:
    """The footnote that names each degenerate run and why; nothing when there is none."""
    if not flagged:
        return []
    named = [
        f"`{variant.label}` {run.dir.name}: {'; '.join(flagged[str(run.dir)])}"
        for variant in variants
        for run in variant.runs
        if str(run.dir) in flagged
    ]
    return [
        "",
        f"{degenerate.FOOTNOTE}, so no verdict and no seed count is computed for their variants.",
        "",
        *(f"- {line}" for line in named),
    ]


def _labelled_variants(runs: list[Run], labels: dict[Path, str]) -> list[Variant]:
    grouped: dict[str, list[Run]] = {}
    for run in runs:
        grouped.setdefault(labels[run.dir], []).append(run)
    return [Variant(label, members) for label, members in grouped.items()]


def _markdown(
    table: pd.DataFrame,
    verdicts: pd.DataFrame,
    metrics: list[str],
    extractor: str,
    skipped: list[Run],
    figures: list[str],
    mixed: MixedProtocols,
    variants: list[Variant],
    seed_lines: list[str],
) -> str:
    lines = [
        "# Comparison",
        "",
        f"Final metrics ({extractor}) per variant: mean ± std over seeds, [{CONFIDENCE:.0%} "
        "Student-t confidence interval of the mean]. Variants are runs whose configs differ "
        "only by seed (and run name, group, tags, locations).",
        "",
        *markdown_table(*_variant_table(table, metrics, mixed)),
    ]
    if mixed.affected:
        lines += ["", *_protocol_lines(mixed, variants)]
    lines += _verdict_lines(verdicts, metrics, mixed)
    lines += seed_lines
    if skipped:
        lines += [
            "",
            f"Left out ({len(skipped)} runs not ok, without metrics or unreadable): "
            + ", ".join(
                f"{r.dir if r.unreadable else r.dir.name} ({r.why_left_out})" for r in skipped
            ),
        ]
    lines += ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _verdict_lines(verdicts: pd.DataFrame, metrics: list[str], mixed: MixedProtocols) -> list[str]:
    """The verdict section: its heading, how to read it, the table and its footnotes."""
    direction = ", ".join(f"{m} {d}" for m, d in METRICS.items() if m in metrics)
    tested = verdicts[verdicts["verdict"] != NO_VERDICT]
    lines = [
        "",
        f"## Pairwise verdicts (Welch's t-test, two-sided, alpha {ALPHA}; better: {direction})",
        "",
        "p is each test's own; the verdict uses p (Holm), adjusted by Holm's step-down method "
        "over the metric's pairs. Hedges' g is the difference of the means in pooled standard "
        "deviations (0.2 small, 0.5 medium, 0.8 large); with a few seeds a large g can still "
        "be noise.",
        "",
        *markdown_table(
            _VERDICT_HEADER, (_verdict_cells(v, mixed) for v in tested.itertuples(index=False))
        ),
    ]
    if len(tested) < len(verdicts):
        lines += ["", "Pairs with fewer than 2 seeds in a variant have no verdict (pairwise.csv)."]
    if (tested["verdict"] == NOISE_VERDICT).any():
        lines += [
            "",
            f"{NOISE_VERDICT}: the difference is no larger than the standard deviation of one "
            "checkpoint re-scored with other metric seeds (`eval_noise`), so it cannot tell "
            "the variants apart.",
        ]
    return lines


_VERDICT_HEADER = ["metric", "A", "B", "t", "p", "p (Holm)", "Hedges' g", "verdict"]
_SEED_HEADER = [
    "metric", "A", "B", "A - B [95% CI]", "seed std", "eval-noise std", "training std", "effect",
    "seeds per variant",
]  # fmt: skip


def _variant_table(
    table: pd.DataFrame, metrics: list[str], mixed: MixedProtocols
) -> tuple[list[str], list[list[str]]]:
    """The variants' table: its header and its rows."""
    header = ["variant", "seeds", *metrics, *_BUDGET_COLUMNS.values()]
    rows = [_variant_cells(r._asdict(), metrics, mixed) for r in table.itertuples(index=False)]
    return header, rows


def _verdict_note(verdicts: pd.DataFrame) -> str:
    """Each tested pair's verdict in a sentence, for a record's note."""
    tested = verdicts[verdicts["verdict"] != NO_VERDICT]
    if tested.empty:
        return "No pairwise verdict: fewer than 2 seeds in a variant."
    return (
        "Verdicts (Welch's t-test, Holm): "
        + "; ".join(
            f"{v.metric}, {v.a} vs {v.b}: {v.verdict}" for v in tested.itertuples(index=False)
        )
        + "."
    )


def _variant_cells(row: dict[str, Any], metrics: list[str], mixed: MixedProtocols) -> list[str]:
    mark = f" {degenerate.MARK}" if row["degenerate"] else ""
    cells = [_code(row["variant"]) + mark, str(row["n_seeds"])]
    cells += [_cell(row, m) + (f" {MARK}" if m in mixed.affected else "") for m in metrics]
    return cells + [_count(row[key]) for key in _BUDGET_COLUMNS]


def _verdict_cells(v: Any, mixed: MixedProtocols) -> list[str]:
    """One row of the verdict table from a row of pairwise.csv."""
    mark = f"{MARK} " if v.metric in mixed.affected else ""
    return [
        v.metric, _code(v.a), _code(v.b), _sig(v.t), _sig(v.p), _sig(v.p_holm),
        _sig(v.hedges_g), f"{mark}{_code_labels(v.verdict, v.a, v.b)}",
    ]  # fmt: skip


# pairwise.csv's columns from genlab.compare.power.SeedBudget, after metric, a, b.
_SEED_COLUMNS = [
    "difference", "ci_low", "ci_high", "seed_std", "eval_std", "training_std", "effect",
    "seeds_needed",
]  # fmt: skip


def _seed_lines(verdicts: pd.DataFrame, mixed: MixedProtocols) -> list[str]:
    """The seed-count table: one row per score and pair of variants with 2 or more seeds
    each; no table when there is none."""
    rows = []
    for v in verdicts.itertuples(index=False):
        if math.isnan(v.seed_std):
            continue
        mark = f" {MARK}" if v.metric in mixed.affected else ""
        interval = "" if math.isnan(v.ci_low) else f" [{_sig(v.ci_low)}, {_sig(v.ci_high)}]"
        seeds = (
            "n/a: degenerate"
            if v.verdict == DEGENERATE_VERDICT
            else degenerate.seeds_cell(v.seeds_needed)
        )
        rows.append(
            [
                v.metric, _code(v.a), _code(v.b), f"{_sig(v.difference)}{interval}{mark}",
                _sig(v.seed_std), _sig(v.eval_std), _sig(v.training_std), _sig(v.effect), seeds,
            ]
        )  # fmt: skip
    if not rows:
        return []
    return [
        "",
        f"## How many seeds (power {POWER:.0%}, two-sided t-test, alpha {ALPHA})",
        "",
        "A - B with its 95% Welch interval; seed std: the pooled spread of the final numbers "
        "over training seeds; eval-noise std: of one checkpoint per variant re-scored with "
        "other metric seeds (`eval_noise=K`), and training std what of the seed std it does "
        "not explain; seeds: per variant, to detect the difference in the effect column "
        "(the observed one, or `min_effect`) with 80% power; above "
        f"{degenerate.SEEDS_CAP}, {degenerate.NOT_REACHABLE}.",
        "",
        *markdown_table(_SEED_HEADER, rows),
    ]


def _protocol_lines(mixed: MixedProtocols, variants: list[Variant]) -> list[str]:
    """The footnote of the marked cells: which fields differ, and each variant's values."""
    lines = [
        f"{MARK} Mixed metric protocols (allowed by the command line): these numbers are not "
        f"one measurement. Differing: {mixed.describe()}.",
        "",
    ]
    rows = (
        [_code(variant.label)]
        + [
            " ".join(dict.fromkeys(str(run.summary.get(field, "unset")) for run in variant.runs))
            for field in mixed.fields
        ]
        for variant in variants
    )
    return lines + markdown_table(["variant", *mixed.fields], rows)


def _cell(row: dict[str, Any], metric: str) -> str:
    """``mean ± std [low, high]``, all with the decimals of the std's 2 significant digits."""
    mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
    if math.isnan(std):
        return _sig(mean)
    decimals = _decimals(std)
    low, high = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
    return f"{mean:.{decimals}f} ± {std:.{decimals}f} [{low:.{decimals}f}, {high:.{decimals}f}]"


def _decimals(spread: float) -> int:
    """Decimal places that show ``spread`` with 2 significant digits (at least 0, at most 6)."""
    if spread <= 0 or not math.isfinite(spread):
        return 3
    return min(6, max(0, 1 - math.floor(math.log10(spread))))


def _code(label: str) -> str:
    """A variant label as inline code: its ``_target_``-style keys stay literal in Markdown."""
    return f"`{label}`"


def _code_labels(verdict: str, *labels: str) -> str:
    for label in labels:
        if verdict.startswith(f"{label} "):
            return _code(label) + verdict[len(label) :]
    return verdict


def _sig(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3g}"


# Budget columns: the runs' mean progress (what "equal budget" is checked against).
_BUDGET_COLUMNS = {
    "generator_steps": "generator steps",
    "images_seen": "images seen",
    "wall_s": "wall time (s)",
}


def _budget(runs: list[Run]) -> dict[str, float]:
    budget = {}
    for key in _BUDGET_COLUMNS:
        values = [float(r.summary[key]) for r in runs if r.summary.get(key) is not None]
        budget[key] = float(np.mean(values)) if values else math.nan
    return budget


def _count(value: float) -> str:
    return "" if math.isnan(value) else f"{value:,.0f}"
