"""Comparisons at equal tuning budget: the expected best of k trials against every k-subset and
against random draws, the verdicts on variants of known difference, the unequal-budget
warnings, and compare.py expected_best=true on sweep dirs written by the sweep engine's own
table writer (real sweeps are compared in test_sweeps.py)."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from PIL import Image

from genlab.compare.expected_best import (
    bootstrap_band,
    expected_best,
    expected_best_curve,
    trials_for_seconds,
)
from genlab.compare.tuning_budget import (
    CANNOT_CONCLUDE,
    TrialSet,
    budget_warnings,
    verdict_note,
    verdicts,
)
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.search_space import suggest
from genlab.sweeps.table import trial_rows, write_tables
from tests.helpers import assert_user_error, run_cli


def brute_force(scores: list[float | None], k: int, minimize: bool) -> tuple[float, float, float]:
    """Mean and variance of the best over every k-subset holding a score, and the share of
    subsets holding none."""
    pick = min if minimize else max
    bests = []
    subsets = list(itertools.combinations(scores, k))
    for subset in subsets:
        scored = [s for s in subset if s is not None]
        if scored:
            bests.append(pick(scored))
    if not bests:
        return math.nan, math.nan, 1.0
    return float(np.mean(bests)), float(np.var(bests)), 1 - len(bests) / len(subsets)


@pytest.mark.parametrize("minimize", [True, False])
def test_expected_best_equals_the_mean_over_every_k_subset_with_ties_and_unscored_trials(
    minimize: bool,
) -> None:
    rng = np.random.default_rng(1)
    samples = [
        [3.0, 1.0, None, 2.0, 2.0, 5.0],
        [4.0, 4.0, 4.0],
        [None, None, 7.0],
        [None, None],
        *([float(v) if v >= 0 else None for v in rng.integers(-2, 5, size=n)] for n in (5, 8, 9)),
    ]
    for scores in samples:
        for k in range(1, len(scores) + 1):
            found = expected_best(scores, k, minimize)
            mean, variance, none = brute_force(scores, k, minimize)
            assert found.k == k
            assert found.p_no_score == pytest.approx(none, abs=1e-12), (scores, k)
            if math.isnan(mean):
                assert math.isnan(found.mean) and math.isnan(found.variance)
            else:
                assert found.mean == pytest.approx(mean, rel=1e-12), (scores, k)
                assert found.variance == pytest.approx(variance, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("minimize", [True, False])
def test_expected_best_agrees_with_random_draws_on_a_larger_search(minimize: bool) -> None:
    rng = np.random.default_rng(7)
    scores: list[float | None] = list(rng.gamma(2.0, 10.0, size=40).round(1))  # ties too
    for index in (3, 11, 29):  # three pruned trials
        scores[index] = None
    values = np.array([math.inf if s is None else s for s in scores])
    values = values if minimize else np.where(np.isinf(values), -math.inf, values)
    curve = expected_best_curve(scores, minimize)
    assert len(curve) == 40
    draws = 20_000
    orders = rng.random((draws, len(values))).argsort(axis=1)  # random orders of the trials
    for k in (1, 2, 5, 10, 25, 40):
        picks = values[orders[:, :k]]  # k trials drawn without replacement
        bests = picks.min(axis=1) if minimize else picks.max(axis=1)
        bests = bests[np.isfinite(bests)]
        expected = curve[k - 1]
        error = bests.std() / math.sqrt(len(bests))
        assert abs(expected.mean - bests.mean()) < 4 * error + 1e-9, (k, expected, bests.mean())
        assert expected.variance == pytest.approx(bests.var(), rel=0.1, abs=1e-9)
        assert expected.p_no_score == pytest.approx(1 - len(bests) / draws, abs=0.01)
    # More trials never make the expected best worse.
    means = [e.mean for e in curve]
    steps = np.diff(means)
    assert (steps <= 1e-12).all() if minimize else (steps >= -1e-12).all()


def test_the_bootstrap_band_is_seeded_and_holds_the_curve() -> None:
    scores = list(np.random.default_rng(3).normal(50, 5, size=15))
    low, high = bootstrap_band(scores, minimize=True, seed=4)
    again_low, again_high = bootstrap_band(scores, minimize=True, seed=4)
    assert np.array_equal(low, again_low) and np.array_equal(high, again_high)
    means = np.array([e.mean for e in expected_best_curve(scores, True)])
    assert (low <= means + 1e-9).all() and (means <= high + 1e-9).all()
    assert (high - low)[0] > 0


def test_the_trials_a_training_time_pays_for_count_pruned_and_failed_ones() -> None:
    wall = [10.0, 30.0, None, 20.0]  # mean 20 s a trial
    assert trials_for_seconds(59.0, wall) == 2
    assert trials_for_seconds(60.0, wall) == 3
    assert trials_for_seconds(10_000.0, wall) == 4  # no more trials than there are
    assert trials_for_seconds(5.0, wall) == 0


def trial_set(label: str, scores: list[float | None], space: str = "lr") -> TrialSet:
    return TrialSet(label, scores, [60.0] * len(scores), space, Counter())


def test_the_verdict_names_the_variant_known_to_be_better_at_every_budget() -> None:
    rng = np.random.default_rng(0)
    good = trial_set("good", list(rng.normal(20, 3, size=20)))
    poor = trial_set("poor", list(rng.normal(40, 3, size=20)))
    for metric, winner in (("fid", "good"), ("is_mean", "poor")):  # lower, higher is better
        found = verdicts([good, poor], metric)
        assert [v.budget for v in found] == ["k=1", "k=5", "k=10", "k=20", "1,200 s"]
        for v in found:
            assert v.verdict == f"{winner} is expected better", v
            assert v.ci_low < v.difference < v.ci_high
            assert v.difference == pytest.approx(
                expected_best(good.scores, v.k_a, metric == "fid").mean
                - expected_best(poor.scores, v.k_b, metric == "fid").mean
            )


def test_a_difference_the_trials_or_the_evaluation_noise_cannot_resolve_is_not_concluded() -> None:
    rng = np.random.default_rng(2)
    a = trial_set("a", list(rng.normal(30, 5, size=12)))
    b = trial_set("b", list(rng.normal(30, 5, size=12)))
    assert {v.verdict for v in verdicts([a, b], "fid")} == {CANNOT_CONCLUDE}
    # The record's note says so once, naming the budgets, and ranks nothing.
    assert verdict_note(verdicts([a, b], "fid")) == (
        "No variant is expected better than another at any budget compared (k=1, k=5, k=10, "
        "k=12, 720 s): every 95% bootstrap interval of a difference includes 0."
    )
    # A clear difference (20 to 28) within an evaluation noise of 40: not concluded either.
    c = trial_set("c", list(rng.normal(50, 1, size=12)))
    assert {v.verdict for v in verdicts([a, c], "fid")} == {"a is expected better"}
    assert {v.verdict for v in verdicts([a, c], "fid", eval_std=40.0)} == {CANNOT_CONCLUDE}
    # Degenerate or pruned trials only: no score, nothing concluded.
    d = trial_set("d", [None, None, None])
    assert {v.verdict for v in verdicts([a, d], "fid")} == {CANNOT_CONCLUDE}


def test_unequal_trials_and_search_spaces_are_warned() -> None:
    a = trial_set("a", [1.0] * 30, space="lr, beta1")
    b = trial_set("b", [1.0] * 5, space="lr")
    found = budget_warnings([a, b])
    assert len(found) == 2
    assert "Unequal tuning budgets: `a` 30 trials, `b` 5 trials" in found[0]
    assert "Unequal search spaces" in found[1] and "`b` searched lr" in found[1]
    assert budget_warnings([a, trial_set("c", [2.0] * 30, space="lr, beta1")]) == []
    # Sweeps' spaces: only what differs, in words.
    lr = {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}
    steps = {"values": [1, 5]}
    plain = json.dumps({"lr": lr, "n_disc": steps})
    with_gp = json.dumps({"lr": lr, "n_disc": steps, "gp": {**lr, "min": 0.1, "max": 100.0}})
    (found,) = budget_warnings([trial_set(n, [1.0], space=sp) for n, sp in
                                (("ns", plain), ("ls", plain), ("gp", with_gp))])  # fmt: skip
    assert found.startswith(
        "Unequal search spaces: only `gp` searched gp (log-uniform 0.1 to 100)."
    )


# --- compare.py on two sweep dirs -----------------------------------------------------------


def definition(name: str, high: float) -> SweepDefinition:
    return SweepDefinition.from_dict(
        {
            "name": name,
            "method": "random",
            "metric": {"name": "genlab/fid", "goal": "minimize"},
            "parameters": {
                "debug": {"value": "fast"},
                "model.optimizer_g.lr": {
                    "distribution": "log_uniform_values",
                    "min": 1e-5,
                    "max": high,
                },
            },
        },
        name,
    )


def write_sweep_dir(
    sweep_dir: Path, sweep: SweepDefinition, trials: int, offset: float, seed: int
) -> None:
    """A sweep dir as the local engine leaves it: .hydra/config.yaml with the definition,
    trials.csv and trials.md from the engine's table writer; every 4th trial pruned."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for number in range(trials):
        trial = study.ask()
        params = suggest(trial, sweep)
        trial.set_user_attr("wall_s", 30.0 + number % 3)
        if number % 4 == 3:
            trial.set_user_attr("status", "pruned")
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        trial.set_user_attr("status", "ok")
        study.tell(trial, offset - 5 * math.log10(params["model.optimizer_g.lr"]))
    (sweep_dir / ".hydra").mkdir(parents=True)
    (sweep_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"sweep": sweep.config}))
    write_tables(sweep_dir, sweep, trial_rows(study, sweep))


def test_compare_writes_the_expected_best_table_figure_and_verdicts_of_two_sweeps(
    tmp_path: Path,
) -> None:
    wide, narrow = tmp_path / "wide", tmp_path / "narrow"
    write_sweep_dir(wide, definition("wide", 1e-2), trials=16, offset=40.0, seed=0)
    write_sweep_dir(narrow, definition("narrow", 1e-3), trials=8, offset=80.0, seed=1)
    out = tmp_path / "cmp"
    result = run_cli(
        "compare", f"runs=[{wide},{narrow}]", f"out={out}", "expected_best=true", "record=budget",
        env={"GENLAB_RESULTS_DIR": str(tmp_path / "records")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = (out / "comparison.md").read_text()
    # record=NAME: the table of expected best scores as comparison.md has it, the verdicts in
    # its note.
    record = json.loads((tmp_path / "records" / "budget.json").read_text())
    assert "| " + " | ".join(record["table"]["columns"]) + " |" in report
    assert [row[0] for row in record["table"]["rows"]] == ["`wide`", "`narrow`"]
    for row in record["table"]["rows"]:
        assert "| " + " | ".join(row) + " |" in report
    assert record["figures"] == {"variants": 2, "trials": 24}
    assert "k=8, wide vs narrow: " in record["note"] and "wide is expected better" in record["note"]
    assert "cannot be concluded" not in record["note"]  # every verdict here is conclusive
    assert "## Expected best FID against the tuning budget (lower is better)" in report
    assert "| `wide` | 16 (4: 4 pruned) |" in report and "| `narrow` | 8 (2: 2 pruned) |" in report
    assert "⚠ Unequal tuning budgets: `wide` 16 trials, `narrow` 8 trials" in report
    assert (
        "⚠ Unequal search spaces: model.optimizer_g.lr: `wide` log-uniform 1e-05 to 0.01, "
        "`narrow` log-uniform 1e-05 to 0.001. A variant given" in report
    )
    assert "Unequal tuning budgets" in result.stderr  # on the console too
    table = pd.read_csv(out / "expected_best.csv")
    assert sorted(table[table["variant"] == "wide"]["k"]) == [1, 5, 10, 16]
    best_wide = table[(table["variant"] == "wide") & (table["k"] == 16)]["expected_best"].item()
    trials_csv = pd.read_csv(wide / "trials.csv")
    assert best_wide == pytest.approx(trials_csv["genlab/fid"].min())
    budget = pd.read_csv(out / "budget_verdicts.csv")
    assert list(budget["budget"]) == ["k=1", "k=5", "k=8", "247 s"]
    assert set(budget["verdict"]) == {"wide is expected better"}
    assert "| k=8 | `wide` | `narrow` | 8, 8 |" in report
    with Image.open(out / "expected_best.png") as image:
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert image.width >= 1000 and pixels.std() > 5
    html = (out / "comparison.html").read_text()
    assert "data:image/png;base64," in html and "Unequal tuning budgets" in html
    json.dumps(budget.to_dict())  # plain values only


def test_expected_best_input_mistakes_are_one_line(tmp_path: Path) -> None:
    not_a_sweep = tmp_path / "plain"
    not_a_sweep.mkdir()
    assert_user_error(
        run_cli("compare", f"runs=[{not_a_sweep}]", f"out={tmp_path}/o", "expected_best=true"),
        "is no sweep dir",
    )
    assert_user_error(
        run_cli("compare", f"runs=[{not_a_sweep}]", f"out={tmp_path}/o", "expected_best=speed"),
        "expected_best takes true, false or a score",
    )
    assert_user_error(
        run_cli("compare", f"runs=[{not_a_sweep}]", f"out={tmp_path}/o", "group_by=seed"),
        "group_by makes the variants of expected_best=true",
    )
