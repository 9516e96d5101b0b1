"""Comparisons at an equal tuning budget: per variant (a sweep, or runs grouped by a config
key) the expected best score after k trials and after a budget of training seconds, and for
each pair which is expected to be better at equal k and at equal compute, with a bootstrap
interval for the difference; warnings when the variants were tuned with unequal budgets or
over unequal search spaces."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from genlab.compare.expected_best import (
    CONFIDENCE,
    bootstrap_curves,
    expected_best_curve,
    percentile_band,
    trials_for_seconds,
)
from genlab.compare.runs import Run
from genlab.compare.stats import METRICS
from genlab.errors import ConfigError
from genlab.metrics import degenerate
from genlab.metrics.keys import BY_NAME
from genlab.naming import setting_labels
from genlab.tracking.summary import WANDB_SUMMARY_PREFIX

# The budgets every table shows, besides each variant's own number of trials.
BUDGETS = (1, 5, 10)
CANNOT_CONCLUDE = "cannot be concluded"
# A sweep's trials that ended: what they spent counts. Interrupted trials run again; queued
# and running ones have not ended.
_ENDED = ("ok", "failed", "diverged", "pruned")
_VARIANT_ROOTS = {"seed", "run_name", "group", "tags", "paths", "resume"}


@dataclass(frozen=True)
class TrialSet:
    """One variant's trials: a score per trial (None: pruned, failed, diverged or degenerate,
    never the best), each trial's training wall time, and the search space it was drawn from."""

    label: str
    scores: list[float | None]
    wall_s: list[float | None]
    search_space: str  # a description; two variants with different ones get a warning
    unscored: Counter[str] = field(default_factory=Counter)  # why trials have no score
    first_run: Path | None = None  # a scored trial's run dir: re-scored for eval_noise

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean_wall_s(self) -> float:
        times = [t for t in self.wall_s if t is not None and math.isfinite(t)]
        return float(np.mean(times)) if times else math.nan


def sweep_trials(sweep_dir: Path, metric: str | None) -> tuple[TrialSet, str, dict[str, Any]]:
    """The ended trials of the sweep in ``sweep_dir`` (its trials.csv), scored by ``metric``
    (None: the sweep's own); returns them, the metric and the sweep's definition."""
    table_file, config_file = sweep_dir / "trials.csv", sweep_dir / ".hydra" / "config.yaml"
    if not table_file.is_file() or not config_file.is_file():
        raise ConfigError(
            f"{sweep_dir} is no sweep dir (trials.csv and .hydra/config.yaml): expected_best=true "
            "takes sweep dirs, or run dirs with group_by=KEY"
        )
    try:
        definition = yaml.safe_load(config_file.read_text())["sweep"]
        table = pd.read_csv(table_file)
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{sweep_dir}: its trials cannot be read ({exc})") from exc
    own = str(definition["metric"]["name"]).removeprefix(WANDB_SUMMARY_PREFIX)
    metric = metric or own
    if metric != own:
        raise ConfigError(
            f"{sweep_dir} ranked its trials by {own}, not {metric}: a sweep's table holds only "
            f"its own metric; give expected_best={own}, or its run dirs with group_by=KEY"
        )
    column = WANDB_SUMMARY_PREFIX + own
    ended = table[table["status"].isin(_ENDED)]
    scores: list[float | None] = []
    unscored: Counter[str] = Counter()
    for row in ended.to_dict("records"):
        value, flagged = row.get(column), row.get("degenerate")
        if row["status"] != "ok" or value is None or pd.isna(value):
            unscored[str(row["status"])] += 1
            scores.append(None)
        elif isinstance(flagged, str) and flagged:
            unscored["degenerate"] += 1
            scores.append(None)
        else:
            scores.append(float(value))
    wall = [None if pd.isna(t) else float(t) for t in ended["wall_s"]]
    scored_dirs = [
        Path(str(row["run_dir"]))
        for row, score in zip(ended.to_dict("records"), scores, strict=True)
        if score is not None and isinstance(row.get("run_dir"), str)
    ]
    space = json.dumps(
        {k: v for k, v in definition.get("parameters", {}).items() if "value" not in v},
        sort_keys=True,
    )
    trials = TrialSet(
        str(definition["name"]), scores, wall, space, unscored, next(iter(scored_dirs), None)
    )
    return trials, metric, definition


def grouped_trials(runs: list[Run], key: str, metric: str) -> list[TrialSet]:
    """The runs grouped by the value of config key ``key``, each run a trial; runs not ok,
    without the score, or degenerate are trials without a score."""
    readable = [run for run in runs if run.unreadable is None]
    if not any(key in run.config for run in readable):
        raise ConfigError(
            f"group_by={key}: no run's config has that key; give a dotted key of the runs' "
            "config, e.g. group_by=model.loss._target_"
        )
    flagged = degenerate.flagged_runs(
        (str(run.dir), repr(run.config.get(key)), run.summary) for run in readable
    )
    groups: dict[str, list[Run]] = {}
    for run in readable:
        groups.setdefault(repr(run.config.get(key, "(unset)")), []).append(run)
    labels = setting_labels(
        [[(key, members[0].config.get(key, "(unset)"))] for members in groups.values()]
    )
    trial_sets = []
    for label, members in zip(labels, groups.values(), strict=True):
        scores: list[float | None] = []
        unscored: Counter[str] = Counter()
        for run in members:
            value = run.summary.get(metric)
            if run.why_left_out is not None or value is None:
                unscored[run.why_left_out or f"no {metric}"] += 1
                scores.append(None)
            elif str(run.dir) in flagged:
                unscored["degenerate"] += 1
                scores.append(None)
            else:
                scores.append(float(value))
        wall = [run.summary.get("wall_s") for run in members]
        first = next((r.dir for r, s in zip(members, scores, strict=True) if s is not None), None)
        trial_sets.append(
            TrialSet(", ".join(label), scores, wall, _varied_keys(members, key), unscored, first)
        )
    return trial_sets


def _varied_keys(runs: list[Run], key: str) -> str:
    """The config keys whose values differ among ``runs`` (the searched ones), seed and
    locations aside."""
    keys = set().union(*(run.config for run in runs)) - {key}
    varied = sorted(
        name
        for name in keys
        if name.split(".")[0] not in _VARIANT_ROOTS
        and len({repr(run.config.get(name)) for run in runs}) > 1
        and not name.endswith(("dirpath", "save_dir", "cache_dir", "root"))
    )
    return ", ".join(varied) or "nothing searched"


@dataclass(frozen=True)
class BudgetVerdict:
    budget: str  # "k=5" or "600 s"
    a: str
    b: str
    k_a: int
    k_b: int
    difference: float  # expected best of A minus that of B
    ci_low: float
    ci_high: float
    verdict: str


def verdicts(
    trial_sets: list[TrialSet], metric: str, eval_std: float = math.nan, seed: int = 0
) -> list[BudgetVerdict]:
    """For each pair of variants: at k = 1, 5, 10 and the smaller N (equal trials), and at
    the training time both spent (equal compute), the difference of the expected best scores
    with a bootstrap interval over each variant's trials; a verdict only where the interval
    excludes 0 and the difference exceeds the evaluation noise."""
    minimize = METRICS[metric] == "lower"
    boot = {
        t.label: bootstrap_curves(t.scores, minimize, seed=seed + index)
        for index, t in enumerate(trial_sets)
    }
    curves = {
        t.label: [e.mean for e in expected_best_curve(t.scores, minimize)] for t in trial_sets
    }
    found = []
    for a, b in itertools.combinations(trial_sets, 2):
        common = min(a.n, b.n)
        for k in sorted({*(k for k in BUDGETS if k <= common), common}):
            found.append(_verdict(f"k={k}", a, b, k, k, curves, boot, minimize, eval_std))
        seconds = min(a.mean_wall_s * a.n, b.mean_wall_s * b.n)
        if math.isfinite(seconds):
            k_a, k_b = trials_for_seconds(seconds, a.wall_s), trials_for_seconds(seconds, b.wall_s)
            if k_a >= 1 and k_b >= 1:
                budget = f"{seconds:,.0f} s"
                found.append(_verdict(budget, a, b, k_a, k_b, curves, boot, minimize, eval_std))
    return found


def _verdict(
    budget: str,
    a: TrialSet,
    b: TrialSet,
    k_a: int,
    k_b: int,
    curves: dict[str, list[float]],
    boot: dict[str, np.ndarray],
    minimize: bool,
    eval_std: float,
) -> BudgetVerdict:
    difference = curves[a.label][k_a - 1] - curves[b.label][k_b - 1]
    resampled = boot[a.label][:, k_a - 1] - boot[b.label][:, k_b - 1]
    low, high = percentile_band(resampled[:, np.newaxis])
    low_f, high_f = float(low[0]), float(high[0])
    verdict = CANNOT_CONCLUDE
    if (
        math.isfinite(difference)
        and math.isfinite(low_f)
        and (low_f > 0 or high_f < 0)
        and not degenerate.below_noise(difference, eval_std)
    ):
        a_lower = difference < 0
        verdict = f"{a.label if a_lower == minimize else b.label} is expected better"
    return BudgetVerdict(budget, a.label, b.label, k_a, k_b, difference, low_f, high_f, verdict)


def budget_warnings(trial_sets: list[TrialSet]) -> list[str]:
    """What makes the variants' budgets unequal: their numbers of trials, their search spaces."""
    warnings = []
    counts = {t.label: t.n for t in trial_sets}
    if len(set(counts.values())) > 1:
        warnings.append(
            "Unequal tuning budgets: "
            + ", ".join(f"`{label}` {n} trials" for label, n in counts.items())
            + ". Compare them at equal k (the table's columns, the verdicts), not by their "
            "best trials."
        )
    spaces = {t.search_space for t in trial_sets}
    if len(spaces) > 1:
        warnings.append(
            "Unequal search spaces: "
            + _space_differences(trial_sets)
            + ". A variant given a wider or better-placed space is favoured at any budget."
        )
    return warnings


def _space_differences(trial_sets: list[TrialSet]) -> str:
    """What differs between the variants' search spaces: a parameter only some searched, or
    one searched over different ranges; each whole space where they are not sweep spaces."""
    if not all(t.search_space.startswith("{") for t in trial_sets):
        return "; ".join(f"`{t.label}` searched {_space_text(t.search_space)}" for t in trial_sets)
    spaces = [json.loads(t.search_space) for t in trial_sets]
    differences = []
    for name in sorted(set().union(*spaces)):
        specs = [space.get(name) for space in spaces]
        if len({json.dumps(spec, sort_keys=True) for spec in specs}) == 1:
            continue
        searched = [(t.label, spec) for t, spec in zip(trial_sets, specs, strict=True) if spec]
        if len(searched) < len(trial_sets):
            who = " and ".join(f"`{label}`" for label, _ in searched)
            differences.append(f"only {who} searched {name} ({_spec_text(searched[0][1])})")
        else:
            ranges = ", ".join(f"`{label}` {_spec_text(spec)}" for label, spec in searched)
            differences.append(f"{name}: {ranges}")
    return "; ".join(differences)


def _spec_text(spec: dict[str, Any]) -> str:
    """A sweep parameter's range in words: "log-uniform 1e-05 to 0.01", "one of 1, 5"."""
    if "values" in spec:
        return "one of " + ", ".join(str(v) for v in spec["values"])
    kind = {"log_uniform_values": "log-uniform", "uniform": "uniform"}.get(
        str(spec.get("distribution")), str(spec.get("distribution", "range"))
    )
    if "min" in spec and "max" in spec:
        return f"{kind} {spec['min']:g} to {spec['max']:g}"
    return json.dumps(spec, sort_keys=True)


def _space_text(space: str) -> str:
    if space.startswith("{"):
        parameters = json.loads(space)
        return ", ".join(f"{name} {spec}" for name, spec in parameters.items()) or "nothing"
    return space


def summary_rows(trial_sets: list[TrialSet], metric: str) -> list[dict[str, Any]]:
    """Per variant and budget k (1, 5, 10 and its own N): the expected best, its std and the
    chance of no score, with the training seconds k trials take on average."""
    minimize = METRICS[metric] == "lower"
    rows = []
    for t in trial_sets:
        curve = expected_best_curve(t.scores, minimize)
        for k in sorted({*(k for k in BUDGETS if k <= t.n), t.n}):
            e = curve[k - 1]
            rows.append(
                {
                    "variant": t.label,
                    "k": k,
                    "n_trials": t.n,
                    "expected_best": e.mean,
                    "std": math.sqrt(e.variance) if math.isfinite(e.variance) else math.nan,
                    "p_no_score": e.p_no_score,
                    "wall_s": k * t.mean_wall_s,
                }
            )
    return rows


def budget_table(trial_sets: list[TrialSet], metric: str) -> tuple[list[str], list[list[str]]]:
    """The table of expected best scores: its header and a row of display cells per variant."""
    minimize = METRICS[metric] == "lower"
    columns = sorted({*(k for k in BUDGETS if any(t.n >= k for t in trial_sets))} | {0})[1:]
    header = ["variant", "trials (no score)", "s per trial", *(f"k={k}" for k in columns), "k=N"]
    rows = []
    for t in trial_sets:
        curve = expected_best_curve(t.scores, minimize)
        none = sum(t.unscored.values())
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(t.unscored.items()))
        cells = [f"`{t.label}`", f"{t.n} ({none}: {why})" if none else str(t.n)]
        cells.append("" if math.isnan(t.mean_wall_s) else f"{t.mean_wall_s:,.0f}")
        cells += [_cell(curve[k - 1]) if k <= t.n else "" for k in columns]
        cells.append(_cell(curve[-1]))
        rows.append(cells)
    return header, rows


def verdict_note(found: list[BudgetVerdict]) -> str:
    """The verdicts at equal budget in sentences, for a results record's note: each
    conclusive one with its interval, the others counted."""
    if not found:
        return "No verdict: a single variant."
    budgets = ", ".join(dict.fromkeys(v.budget for v in found))
    conclusive = [v for v in found if v.verdict != CANNOT_CONCLUDE]
    if not conclusive:
        return (
            f"No variant is expected better than another at any budget compared ({budgets}): "
            "every 95% bootstrap interval of a difference includes 0."
        )
    rest = len(found) - len(conclusive)
    return (
        "At equal budget (95% bootstrap intervals over the trials): "
        + "; ".join(
            f"{v.budget}, {v.a} vs {v.b}: {_sig(v.difference)} "
            f"[{_sig(v.ci_low)}, {_sig(v.ci_high)}], {v.verdict}"
            for v in conclusive
        )
        + "."
        + (f" The other {rest} comparisons cannot be concluded." if rest else "")
    )


def markdown_lines(
    trial_sets: list[TrialSet],
    metric: str,
    found: list[BudgetVerdict],
    warnings: list[str],
    eval_std: float = math.nan,
) -> list[str]:
    """The section of comparison.md: the table of expected best scores, the warnings and the
    verdicts at equal budget."""
    from genlab.markdown import markdown_table

    label = BY_NAME[metric].label if metric in BY_NAME else metric
    better = METRICS[metric]
    header, rows = budget_table(trial_sets, metric)
    lines = [
        "",
        f"## Expected best {label} against the tuning budget ({better} is better)",
        "",
        f"The expected best {label} of k trials drawn at random from each variant's trials "
        "(without replacement: Dodge et al. 2019), ± the std of that best over the draws; "
        "k=N is the best trial. Pruned, failed, diverged and degenerate trials are spent "
        "budget that is never the best; where k trials can all be such, the chance is given "
        "as (p no score). s per trial: the mean training wall time of a trial. Figure: "
        "`expected_best.png`, the curves against k and against training time, with 95% "
        "bootstrap bands over the trials.",
        "",
        *markdown_table(header, rows),
    ]
    if warnings:
        for warning in warnings:
            lines += ["", f"⚠ {warning}"]
    if found:
        noise = (
            f"; differences within the evaluation noise ({eval_std:.3g}) cannot be concluded"
            if math.isfinite(eval_std)
            else ""
        )
        lines += [
            "",
            f"### Which variant leads at equal budget ({CONFIDENCE:.0%} bootstrap intervals)",
            "",
            "At equal trials (k=...) and equal training time (the time the shorter-tuned "
            "variant spent: each variant's trials that time pays for), A - B of the expected "
            f"best {label} with its interval over resampled trials; a variant is expected "
            f"better only where the interval excludes 0{noise}.",
            "",
            *markdown_table(
                ["budget", "A", "B", "trials A, B", "A - B [95% interval]", "verdict"],
                (
                    [
                        v.budget, f"`{v.a}`", f"`{v.b}`", f"{v.k_a}, {v.k_b}",
                        f"{_sig(v.difference)} [{_sig(v.ci_low)}, {_sig(v.ci_high)}]", v.verdict,
                    ]
                    for v in found
                ),
            ),
        ]  # fmt: skip
    return lines


def _cell(e: Any) -> str:
    if math.isnan(e.mean):
        return "no score"
    std = math.sqrt(e.variance)
    text = f"{_sig(e.mean)} ± {_sig(std)}"
    return text + (f" (p no score {e.p_no_score:.2f})" if e.p_no_score >= 0.005 else "")


def _sig(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3g}"
