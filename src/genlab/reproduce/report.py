"""paper_vs_genlab.md: the paper's number beside genlab's mean ± std per model, and whether
the two rank the models the same way."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from genlab.compare.protocols import MARK, mixed_protocols
from genlab.compare.stats import ALPHA, METRICS, NO_VERDICT, Verdict, aggregate, pairwise
from genlab.machine import describe_machine
from genlab.markdown import markdown_table
from genlab.metrics import degenerate
from genlab.metrics.keys import BY_NAME
from genlab.metrics.keys import SCORES as METRIC_KEYS
from genlab.reproduce.baseline import Baseline, BaselineVariant, Budget
from genlab.reproduce.runner import RunResult
from genlab.tracking.summary import MACHINE_KEY

REPORT_FILE = "paper_vs_genlab.md"
SCORES = {key.name: key.label for key in METRIC_KEYS if key.headline}


@dataclass
class VariantScores:
    variant: BaselineVariant
    results: list[RunResult]

    def values(self, metric: str) -> list[float]:
        return [
            float(r.summary[metric])
            for r in self.results
            if r.status == "ok" and r.summary.get(metric) is not None
        ]

    def cell(self, metric: str, mark: str = "") -> str:
        values = self.values(metric)
        if not values:
            return "n/a"
        agg = aggregate(values, metric)
        digits = BY_NAME[metric].digits
        if math.isnan(agg.std):
            return f"{agg.mean:.{digits}f}{mark}"
        return f"{agg.mean:.{digits}f} ± {agg.std:.{digits}f}{mark}"

    def mean(self, metric: str) -> float | None:
        values = self.values(metric)
        return sum(values) / len(values) if values else None

    def statuses(self) -> str:
        ok = sum(r.status == "ok" for r in self.results)
        others = [f"{r.status} seed {r.seed}" for r in self.results if r.status != "ok"]
        return f"{ok}/{len(self.results)}" + (f" ({', '.join(others)})" if others else "")


def ranks(values: dict[str, float]) -> dict[str, int]:
    """1 = best (lowest for lower-is-better metrics)."""
    return {name: i + 1 for i, name in enumerate(sorted(values, key=values.__getitem__))}


def ranking_agreement(
    paper: dict[str, float], genlab: dict[str, float]
) -> tuple[float, list[tuple[str, str]], int]:
    """Kendall's tau between the two orders, the discordant pairs, and the number of pairs;
    the same whether lower or higher is better (reversing both orders keeps every pair)."""
    names = sorted(set(paper) & set(genlab))
    discordant = [
        (a, b)
        for a, b in itertools.combinations(names, 2)
        if (paper[a] - paper[b]) * (genlab[a] - genlab[b]) < 0
    ]
    pairs = len(names) * (len(names) - 1) // 2
    if len(names) < 2:
        return math.nan, discordant, pairs
    tau = stats.kendalltau([paper[n] for n in names], [genlab[n] for n in names])
    return float(tau.statistic), discordant, pairs


@dataclass
class PaperVsGenlab:
    """The report's parts: the table, its footnotes and what the ranks say."""

    header: list[str]
    rows: list[list[str]]
    footnotes: list[str]
    ranking: list[str]


def paper_vs_genlab_table(baseline: Baseline, results: Sequence[RunResult]) -> PaperVsGenlab:
    """The paper's number beside genlab's scores per model, and the ranking agreement."""
    metric = baseline.paper_metric
    lower_is_better = METRICS.get(metric, "lower") == "lower"
    by_variant: dict[str, VariantScores] = {}
    for result in results:
        by_variant.setdefault(
            result.variant.name, VariantScores(result.variant, [])
        ).results.append(result)
    scored = list(by_variant.values())
    paper = {
        s.variant.name: s.variant.paper_point for s in scored if s.variant.paper_point is not None
    }
    flagged = degenerate.flagged_runs(
        (str(r.run_dir), r.variant.name, r.summary) for r in results if r.status == "ok"
    )
    flagged_models = [
        s for s in scored if any(str(r.run_dir) in flagged for r in s.results if r.status == "ok")
    ]
    unranked = {s.variant.name for s in flagged_models}
    genlab = {
        s.variant.name: m
        for s in scored
        if (m := s.mean(metric)) is not None and s.variant.name not in unranked
    }
    paper_rank = ranks({k: v if lower_is_better else -v for k, v in paper.items()})
    genlab_rank = ranks({k: v if lower_is_better else -v for k, v in genlab.items() if k in paper})
    ranked = {s.variant.name: s.values(metric) for s in scored if s.variant.name in genlab_rank}
    verdicts = pairwise(metric, ranked)
    genlab_rank_cells = rank_ranges(list(ranked), verdicts)
    mixed = mixed_protocols([r.summary for r in results if r.status == "ok"], list(SCORES))
    header = [
        "model",
        f"paper {SCORES.get(metric, metric)}",
        *(f"genlab {name}" for name in SCORES.values()),
        "runs ok",
        "paper rank",
        "genlab rank",
    ]
    rows: list[list[str]] = []
    for s in scored:
        paper_value = s.variant.paper
        paper_cell = (
            "n/a"
            if paper_value is None
            else f"{paper_value[0]:g}-{paper_value[1]:g}"
            if isinstance(paper_value, tuple)
            else f"{paper_value:g}"
        )
        cells = [
            s.variant.label + (f" {degenerate.MARK}" if s.variant.name in unranked else ""),
            paper_cell,
            *(s.cell(m, f" {MARK}" if m in mixed.affected else "") for m in SCORES),
            s.statuses(),
            str(paper_rank.get(s.variant.name, "n/a")),
            genlab_rank_cells.get(s.variant.name, "n/a"),
        ]
        rows.append(cells)
    footnotes: list[str] = []
    if mixed.affected:
        footnotes += [
            f"{MARK} Runs scored under different metric protocols ({mixed.describe()}): "
            "these numbers are not one measurement.",
        ]
    if flagged_models:
        footnotes += [*(footnotes and [""]), *_degenerate_lines(flagged_models, flagged)]
    ranking = _ranking_lines(paper, genlab, verdicts, metric, scored, flagged_models)
    return PaperVsGenlab(header, rows, footnotes, ranking)


def rank_ranges(names: list[str], verdicts: list[Verdict]) -> dict[str, str]:
    """Each model's rank among ``names`` as far as the tests support it: from 1 + the number
    of models significantly better than it to n - the number significantly worse; a range
    ("1-2") where its order with another model is within the spread of the seeds."""
    better_than, worse_than = Counter[str](), Counter[str]()
    for v in verdicts:
        if v.verdict.endswith(" is better"):
            winner = v.verdict.removesuffix(" is better")
            worse_than[v.b if winner == v.a else v.a] += 1
            better_than[winner] += 1
    cells = {}
    for name in names:
        low, high = 1 + worse_than[name], len(names) - better_than[name]
        cells[name] = str(low) if low == high else f"{low}-{high}"
    return cells


def _ranking_lines(
    paper: dict[str, float],
    genlab: dict[str, float],
    verdicts: list[Verdict],
    metric: str,
    scored: list[VariantScores],
    flagged_models: list[VariantScores],
) -> list[str]:
    """What the ranks say: Kendall's tau where the models' differences are more than the
    spread of their seeds, and why there is none where they are not."""
    label = {s.variant.name: s.variant.label for s in scored}
    tau, discordant, pairs = ranking_agreement(paper, genlab)
    left_out = (
        ["Left out of the ranking as degenerate: "
         + ", ".join(s.variant.label for s in flagged_models) + "."]
        if flagged_models else []
    )  # fmt: skip
    if (pairs == 0 or math.isnan(tau)) and flagged_models:
        return [
            "No rank correlation: the runs of "
            + ", ".join(s.variant.label for s in flagged_models)
            + f" are degenerate ({degenerate.MARK}), and an order of their scores says nothing "
            "about the models; fewer than two models are left to rank."
        ]
    if pairs == 0 or math.isnan(tau):
        return ["Fewer than two models have both a paper number and a genlab score."]
    if all(v.verdict == NO_VERDICT for v in verdicts):
        return [
            "No rank correlation: with one seed of a model the spread of its seeds is "
            "unknown, so the order of the scores may be that of the seeds; give seeds=2 or "
            "more.",
            *left_out,
        ]
    within = [v for v in verdicts if not v.verdict.endswith(" is better")]
    if len(within) == len(verdicts):
        return [
            f"No rank correlation: no two models differ significantly in {metric} (Welch's "
            f"t-test, Holm's correction, alpha {ALPHA}; comparison/pairwise.csv), so the "
            "order of their means is within the spread of the seeds.",
            *left_out,
        ]
    lines = [
        f"Kendall's tau between the paper's order and genlab's: {tau:.2f} "
        f"({pairs - len(discordant)} of {pairs} pairs in the same order)."
    ]
    if discordant:
        lines.append(
            "Pairs ordered differently: "
            + "; ".join(f"{label[a]} vs {label[b]}" for a, b in discordant)
            + "."
        )
    if within:
        lines.append(
            "Pairs whose order is within the spread of the seeds (no significant difference "
            "or fewer than 2 seeds; comparison/pairwise.csv): "
            + "; ".join(f"{label[v.a]} vs {label[v.b]}" for v in within)
            + "."
        )
    return lines + left_out


def paper_vs_genlab(
    baseline: Baseline,
    budget: Budget,
    results: Sequence[RunResult],
    extractor: str | None,
    table: PaperVsGenlab | None = None,
) -> str:
    """The report's markdown (``table``: :func:`paper_vs_genlab_table`'s, if already made)."""
    table = table or paper_vs_genlab_table(baseline, results)
    seeds = max(Counter(r.variant.name for r in results).values(), default=0)
    lines = [
        f"# {baseline.title}: paper vs genlab",
        "",
        f"Source: {baseline.source}",
        "",
        f"- Paper: {baseline.paper_protocol} ({baseline.paper_extractor}).",
        f"- genlab: budget `{budget.name}`: {budget.description}; {seeds} seeds, mean ± std "
        f"(sample std) of the final scores, features of `{extractor or 'n/a'}`.",
        "- Numbers from different feature extractors are not comparable in value; the ranks are.",
        "- genlab rank: as far as Welch's t-tests between the models support it; a range "
        "(1-2) where a model's order with another is within the spread of the seeds.",
        "",
        *markdown_table(table.header, table.rows),
    ]
    if table.footnotes:
        lines += ["", *table.footnotes]
    lines += ["", "## Ranking agreement", "", *table.ranking]
    lines += machines(results)
    lines += [
        "",
        "Per-run scores, Welch's t-tests between models, curves and sample grids: "
        "[comparison/comparison.md](comparison/comparison.md).",
    ]
    return "\n".join(lines) + "\n"


def _degenerate_lines(models: list[VariantScores], flagged: dict[str, list[str]]) -> list[str]:
    """The footnote that names each degenerate run (seed) and why."""
    named = [
        f"- {s.variant.label} seed {r.seed}: {'; '.join(flagged[str(r.run_dir)])}"
        for s in models
        for r in s.results
        if str(r.run_dir) in flagged
    ]
    return [
        f"{degenerate.FOOTNOTE}, which get no genlab rank.",
        "",
        *named,
    ]


def machines(results: Sequence[RunResult]) -> list[str]:
    """The machines that made the runs (their summaries' machine blocks), each with its runs
    and the range of the 1-minute load average they ran under."""
    by_machine: dict[str, list[RunResult]] = {}
    for result in results:
        if "run_dir" not in result.summary:
            continue  # not run, or its process died before writing a summary
        block = result.summary.get(MACHINE_KEY)
        line = describe_machine(block, load=False) if block else "No machine record."
        by_machine.setdefault(line, []).append(result)
    if not by_machine:
        return []
    lines = ["", "## Machines", ""]
    for line, runs in by_machine.items():
        blocks = [r.summary[MACHINE_KEY] for r in runs if r.summary.get(MACHINE_KEY)]
        loads = [v for b in blocks for v in b["load_1min"].values() if v is not None]
        under = f", load average {min(loads)} to {max(loads)}" if loads else ""
        lines.append(f"- {_run_names(runs)}{under}. {line}")
    return lines


def _run_names(runs: Sequence[RunResult]) -> str:
    """``NS GAN seed 0, 1; VAE seed 0``."""
    seeds: dict[str, list[str]] = {}
    for run in runs:
        seeds.setdefault(run.variant.label, []).append(str(run.seed))
    return "; ".join(f"{label} seed {', '.join(numbers)}" for label, numbers in seeds.items())
