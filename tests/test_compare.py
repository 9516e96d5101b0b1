"""compare.py on run dirs whose numbers the test writes (2 variants x 2 seeds), checked against
means, intervals and Welch's tests computed here; real runs are compared in test_sweeps.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from scipy import stats

from genlab.cli.compare import compare
from genlab.compare.runs import find_run_dirs, load_run
from genlab.compare.variants import group_variants
from tests.helpers import (
    app_task_config,
    assert_user_error,
    require,
    run_cli,
    user_error_in_process,
)

# variant -> seed -> final metrics; A beats B on fid and is_mean, B beats A on kid_mean.
FINALS = {
    "genlab.losses.HingeLoss": {
        0: {"fid": 10.0, "is_mean": 3.1, "kid_mean": 0.30},
        1: {"fid": 10.5, "is_mean": 3.0, "kid_mean": 0.32},
    },
    "genlab.losses.NonSaturatingLoss": {
        0: {"fid": 20.0, "is_mean": 2.0, "kid_mean": 0.10},
        1: {"fid": 20.4, "is_mean": 2.05, "kid_mean": 0.11},
    },
}
# Variants are labelled by what tells them apart, shortened: model.loss._target_ -> loss.
A, B = "loss=hinge", "loss=non_saturating"
PROTOCOL = {
    "metric_weights_sha256": "ab" * 32,
    "metric_num_real": 10000,
    "metric_real_split": "test",
    "metric_image_size": 28,
    "metric_seed": 2024,
}


def write_run(
    root: Path,
    loss: str,
    seed: int,
    metrics: dict[str, float],
    extractor: str = "cnn",
    num_generated: int = 2000,
) -> Path:
    """A run dir as train.py leaves it: the config, summary.json, history, a sample grid."""
    run = root / f"{loss.rsplit('.', 1)[-1]}_seed{seed}"
    (run / ".hydra").mkdir(parents=True)
    config = {
        "seed": seed,
        "run_name": f"gan_seed{seed}",
        "group": "cmp",
        "tags": [],
        "paths": {"output_dir": str(run)},
        "model": {"loss": {"_target_": loss}, "n_disc": 1},
        "data": {"root": str(root / "data"), "batch_size": 64},
        "callbacks": {"model_checkpoint": {"dirpath": f"{run}/checkpoints"}},
        "trainer": {"max_steps": 20},
    }
    (run / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {
        "status": "ok",
        "seed": seed,
        **PROTOCOL,
        "metric_extractor": extractor,
        "metric_num_generated": num_generated,
        **metrics,
    }
    (run / "summary.json").write_text(json.dumps(summary))
    history = [{"step": 10, **{k: 2 * v for k, v in metrics.items()}}, {"step": 20, **metrics}]
    (run / "metrics_history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (run / "samples").mkdir()
    Image.new("L", (62, 62), 128).save(run / "samples" / "samples_step0000020.png")
    return run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    for loss, seeds in FINALS.items():
        for seed, metrics in seeds.items():
            write_run(root, loss, seed, metrics)
    # A failed run is left out; its config alone would make a third variant.
    failed = write_run(root, "genlab.losses.MinimaxLoss", 0, {"fid": 1.0})
    (failed / "summary.json").write_text(json.dumps({"status": "failed", "seed": 0}))
    return root


def test_variant_statistics_match_scipy(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{runs}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(out / "comparison.csv").set_index("variant")
    assert list(table.index) == [A, B]
    for label, loss in ((A, "genlab.losses.HingeLoss"), (B, "genlab.losses.NonSaturatingLoss")):
        row = table.loc[label]
        assert row["n_seeds"] == len(FINALS[loss])
        for metric in ("fid", "is_mean", "kid_mean"):
            x = np.array([FINALS[loss][s][metric] for s in sorted(FINALS[loss])])
            n, mean, sd = len(x), x.mean(), x.std(ddof=1)
            half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
            assert row[f"{metric}_mean"] == pytest.approx(mean)
            assert row[f"{metric}_std"] == pytest.approx(sd)
            assert row[f"{metric}_ci_low"] == pytest.approx(mean - half)
            assert row[f"{metric}_ci_high"] == pytest.approx(mean + half)

    pairs = pd.read_csv(out / "pairwise.csv").set_index("metric")
    for metric, winner in (("fid", A), ("is_mean", A), ("kid_mean", B)):
        xa = [FINALS["genlab.losses.HingeLoss"][s][metric] for s in (0, 1)]
        xb = [FINALS["genlab.losses.NonSaturatingLoss"][s][metric] for s in (0, 1)]
        expected = stats.ttest_ind(xa, xb, equal_var=False)
        assert expected.pvalue < 0.05
        assert pairs.loc[metric, "p"] == pytest.approx(expected.pvalue)
        assert pairs.loc[metric, "verdict"] == f"{winner} is better"

    md = (out / "comparison.md").read_text()
    assert "Welch" in md and f"| `{A}` | 2 |" in md and "MinimaxLoss_seed0 (failed)" in md
    assert "p (Holm)" in md and "Hedges' g" in md and "generator steps" in md
    for png in ("curve_fid.png", "final_fid.png", "final_kid_mean.png", "samples.png"):
        with Image.open(out / png) as image:
            assert image.size[0] > 300


def test_hydra_form_writes_only_into_out(runs: Path, tmp_path: Path) -> None:
    """`compare.py 'runs=[...]' out=DIR`: no Hydra output dir, no .hydra/, no log file
    anywhere else, and the working directory is unchanged (relative paths resolve from it)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run_cli("compare", f"runs=[{runs}]", "out=cmp", "eval_noise=0", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in cwd.iterdir()) == ["cmp"]
    assert not (cwd / "cmp" / ".hydra").exists()
    assert list(pd.read_csv(cwd / "cmp" / "comparison.csv")["variant"]) == [A, B]


@pytest.mark.parametrize(
    "former",
    [
        ["RUN_A", "RUN_B", "--out", "cmp"],
        ["runs=[RUN_A]", "out=cmp", "--min-effect=fid=2"],
        ["--allow-mixed-protocols", "runs=[RUN_A]", "out=cmp"],
        [".", "out=cmp"],
    ],
    ids=["runs_and_out", "inline_value", "switch", "bare_run_dir"],
)
def test_the_former_argparse_form_gets_the_override_form_in_one_line(
    former: list[str], tmp_path: Path
) -> None:
    """The flags of compare.py's former argparse form are refused before Hydra starts, with the
    override form to type instead; nothing is written."""
    result = run_cli("compare", *former, cwd=tmp_path)
    assert_user_error(result, "compare.py takes Hydra overrides, not ", "'runs=[RUN_OR_SWEEP")
    assert "out=DIR" in result.stderr and "min_effect={fid:2}" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_verdict_without_two_seeds_and_no_interval_width_without_spread() -> None:
    from genlab.compare.stats import aggregate, pairwise, welch

    same = aggregate([0.0, 0.0, 0.0])
    assert (same.mean, same.std, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0, 0.0)

    verdict = welch("fid", "a", [1.0], "b", [2.0, 3.0])
    assert verdict.verdict.startswith("n/a") and np.isnan(verdict.p)
    (close,) = pairwise("fid", {"a": [1.0, 2.0], "b": [1.1, 2.1]})
    assert close.verdict == "no significant difference"


def test_variants_whose_seeds_agree_are_compared_exactly_and_without_a_warning() -> None:
    """A few steps leave a score the same in every seed (coverage 0.005): no spread, which
    scipy's ttest_ind meets with a "catastrophic cancellation" warning on the console."""
    from genlab.compare.stats import pairwise

    samples = {"a": [0.005, 0.005], "b": [0.005, 0.005], "c": [0.01, 0.01], "d": [0.0, 0.01]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdicts = {(v.a, v.b): v for v in pairwise("coverage", samples)}
    same = verdicts[("a", "b")]  # equal constants: t is 0/0
    assert np.isnan(same.t) and np.isnan(same.p) and same.verdict == "no significant difference"
    apart = verdicts[("a", "c")]  # unequal constants: a certain difference
    assert (apart.t, apart.p, apart.verdict) == (-np.inf, 0.0, "c is better")
    # One constant variant: Welch's t with its variance 0, df = n_d - 1.
    one = verdicts[("a", "d")]
    se = np.std(samples["d"], ddof=1) / np.sqrt(2)
    assert one.t == pytest.approx((0.005 - 0.005) / se)
    mixed = verdicts[("c", "d")]
    t = (0.01 - 0.005) / se
    assert mixed.t == pytest.approx(t) and mixed.p == pytest.approx(2 * stats.t.sf(t, df=1))


def test_holm_correction_effect_size_and_clipped_intervals() -> None:
    from genlab.compare.stats import aggregate, pairwise

    samples = {
        "a": [10.0, 10.5, 11.0, 10.2],
        "b": [12.0, 12.4, 12.9, 12.2],
        "c": [10.1, 10.9, 10.4, 11.3],
    }
    verdicts = {(v.a, v.b): v for v in pairwise("fid", samples)}
    raw = {
        pair: stats.ttest_ind(samples[pair[0]], samples[pair[1]], equal_var=False).pvalue
        for pair in verdicts
    }
    # Holm by hand: the k-th smallest of m p-values times (m - k + 1), kept non-decreasing.
    order = sorted(raw, key=raw.get)
    running = 0.0
    for k, pair in enumerate(order):
        running = max(running, min(1.0, (len(order) - k) * raw[pair]))
        assert verdicts[pair].p == pytest.approx(raw[pair])
        assert verdicts[pair].p_holm == pytest.approx(running)
    assert verdicts[("a", "b")].verdict == "a is better"
    assert verdicts[("a", "c")].verdict == "no significant difference"
    # Hedges' g by hand: pooled sample std, small-sample factor 1 - 3 / (4 (n_a + n_b) - 9).
    xa, xb = np.array(samples["a"]), np.array(samples["b"])
    pooled = np.sqrt((3 * xa.var(ddof=1) + 3 * xb.var(ddof=1)) / 6)
    g = (xa.mean() - xb.mean()) / pooled * (1 - 3 / (4 * 8 - 9))
    assert verdicts[("a", "b")].hedges_g == pytest.approx(g)
    # A recall near 0: the interval stops at 0, where the t-interval would go below it.
    recall = aggregate([0.0, 0.02, 0.01], "recall")
    assert recall.ci_low == 0.0 and recall.ci_high > 0.02


def test_seed_counts_and_the_variance_split_have_known_answers() -> None:
    from genlab.compare.power import pooled_std, seed_budget, seeds_needed

    # Cohen's classic table: 64 per group for d = 0.5, 17 for d = 1 (80% power, alpha 0.05).
    assert seeds_needed(1.0, 2.0) == 64
    assert seeds_needed(-3.0, 3.0) == 17
    assert seeds_needed(100.0, 1.0) == seeds_needed(5000.0, 1.0) == 2  # a t-test needs 2
    assert np.isnan(seeds_needed(0.0, 1.0)) and np.isnan(seeds_needed(1.0, 0.0))
    # Pooled over two groups with squared deviations 2 and 8 and 1 + 2 degrees of freedom.
    assert pooled_std([1.0, 3.0], [0.0, 2.0, 4.0]) == pytest.approx(np.sqrt((2 + 8) / 3))

    xa, xb = [10.0, 14.0, 12.0], [15.0, 19.0, 17.0]  # both with std 2, means 12 and 17
    budget = seed_budget("fid", "a", xa, "b", xb, eval_std=1.2)
    welch = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(0.95)
    assert budget.difference == pytest.approx(-5.0)
    assert (budget.ci_low, budget.ci_high) == (pytest.approx(welch.low), pytest.approx(welch.high))
    assert budget.seed_std == pytest.approx(2.0)
    assert budget.training_std == pytest.approx(1.6)  # 2^2 = 1.2^2 + 1.6^2
    assert budget.seeds_needed == 4  # d = 2.5: 3.76 seeds
    at_least = seed_budget("fid", "a", xa, "b", xb, min_effect=1.0)
    assert at_least.effect == 1.0 and at_least.seeds_needed == 64
    assert np.isnan(at_least.eval_std) and np.isnan(at_least.training_std)


def test_compare_prints_the_verdicts_and_seed_counts_of_two_variants_over_three_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "runs"
    fids = {"genlab.losses.HingeLoss": [10.0, 14.0, 12.0], "genlab.losses.LSLoss": [15, 19, 17]}
    for loss, values in fids.items():
        for seed, fid in enumerate(values):
            write_run(root, loss, seed, {"fid": float(fid), "is_mean": 3.0 + seed / 10})
    out = tmp_path / "cmp"
    result = run_cli(
        "compare", f"runs=[{root}]", f"out={out}", "min_effect={is_mean:0.05}", "record=cmp",
        env={"GENLAB_RESULTS_DIR": str(tmp_path / "records")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    hinge, ls = "`loss=hinge`", "`loss=ls`"
    # record=NAME: the variants' table as comparison.md has it, and the verdicts in its note.
    record = json.loads((tmp_path / "records" / "cmp.json").read_text())
    report = (out / "comparison.md").read_text()
    assert "| " + " | ".join(record["table"]["columns"]) + " |" in report
    assert [row[0] for row in record["table"]["rows"]] == [hinge, ls]
    for row in record["table"]["rows"]:
        assert "| " + " | ".join(row) + " |" in report
    assert "fid, loss=hinge vs loss=ls: loss=hinge is better" in record["note"]
    assert record["figures"] == {"runs": 6, "variants": 2}
    lines = [line for line in result.stderr.splitlines() if line.startswith("| fid |")]
    # The verdict table's row, then the seed-count table's, as comparison.md has them.
    assert len(lines) == 2 and lines[0].endswith(f"| {hinge} is better |")
    assert lines[0] in (out / "comparison.md").read_text().splitlines()
    assert "| -5 [" in lines[1] and lines[1].endswith("| 2 |  |  | -5 | 4 |")
    assert result.stderr.index("## Pairwise verdicts") < result.stderr.index("## How many seeds")
    assert f"| is_mean | {hinge} | {ls} |" in result.stderr
    pairs = pd.read_csv(out / "pairwise.csv").set_index("metric")
    assert pairs.loc["fid", "seeds_needed"] == 4
    # IS: the same values in both variants (std 0.1): d = 0.05 / 0.1 = 0.5 -> 64 seeds.
    assert pairs.loc["is_mean", "effect"] == 0.05 and pairs.loc["is_mean", "seeds_needed"] == 64
    assert "## How many seeds" in (out / "comparison.md").read_text()

    def refusal(min_effect: str) -> subprocess.CompletedProcess[str]:
        cfg = app_task_config("compare", [f"runs=[{root}]", f"out={out}", min_effect])
        return user_error_in_process(compare, cfg, capsys)

    bad = refusal("min_effect={fid:-1}")
    assert_user_error(bad, "min_effect takes a positive difference", "fid=-1")
    unknown = refusal("min_effect={coverage:0.1}")
    assert_user_error(unknown, "min_effect names coverage")


def test_degenerate_runs_get_no_verdict_and_unreachable_seed_counts_say_so(
    tmp_path: Path,
) -> None:
    """Three variants: two close ones (a difference that would need thousands of seeds) and
    one whose runs sit at the metric floors, as 20-step runs of grey images do."""
    root = tmp_path / "runs"
    finals = {
        "genlab.losses.HingeLoss": [(10.0, 3.0), (14.0, 3.4), (12.0, 3.2)],
        "genlab.losses.LSLoss": [(10.1, 3.01), (14.1, 3.41), (12.1, 3.21)],
        "genlab.losses.MinimaxLoss": [(72.9, 1.0001), (72.8, 1.00012), (72.7, 1.00009)],
    }
    for loss, values in finals.items():
        for seed, (fid, inception) in enumerate(values):
            floor = {"precision": 0.0, "recall": 0.0} if loss.endswith("MinimaxLoss") else {}
            write_run(root, loss, seed, {"fid": fid, "is_mean": inception, **floor})
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{root}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    hinge, ls, minimax = "loss=hinge", "loss=ls", "loss=minimax"
    pairs = pd.read_csv(out / "pairwise.csv").set_index(["metric", "a", "b"])
    assert pairs.loc[("fid", hinge, ls), "verdict"] == "no significant difference"
    assert pairs.loc[("fid", hinge, ls), "seeds_needed"] > 100
    for metric in ("fid", "is_mean"):
        for other in (hinge, ls):
            assert pairs.loc[(metric, other, minimax), "verdict"] == "n/a: degenerate runs ⚠"
    md = (out / "comparison.md").read_text()
    assert f"| `{minimax}` ⚠ | 3 |" in md and f"| `{hinge}` | 3 |" in md
    assert "⚠ Degenerate runs" in md
    assert "MinimaxLoss_seed0: IS at its floor of 1 (1.0001); precision and recall both 0" in md
    rows = [line for line in md.splitlines() if line.startswith(f"| fid | `{hinge}` | `{ls}`")]
    assert rows[-1].endswith("| not reachable at this budget |")  # the seed-count table's
    refused = [line for line in md.splitlines() if line.endswith("| n/a: degenerate runs ⚠ |")]
    assert len(refused) == 4 and all("|  |  |  |  |" in line for line in refused)
    assert "is better" not in md
    table = pd.read_csv(out / "comparison.csv").set_index("variant")
    assert (
        table.loc[minimax, "degenerate"] == "MinimaxLoss_seed0 MinimaxLoss_seed1 MinimaxLoss_seed2"
    )
    assert table[["degenerate"]].loc[[hinge, ls]].isna().all().all()
    assert "⚠ Degenerate runs" in result.stderr and "not reachable at this budget" in result.stderr


def test_a_difference_within_the_evaluation_noise_gets_no_verdict() -> None:
    """One checkpoint re-scored with other metric seeds moves FID by 0.5: a difference of 0.4
    between two variants tells them apart no better; unmeasured noise refuses nothing."""
    from collections import namedtuple

    from genlab.compare.report import DEGENERATE_VERDICT, NOISE_VERDICT, _refusal

    Pair = namedtuple("Pair", "a b verdict difference eval_std")
    better = "a is better"
    assert _refusal(Pair("a", "b", better, -0.4, 0.5), set()) == NOISE_VERDICT
    assert _refusal(Pair("a", "b", better, -0.6, 0.5), set()) is None
    assert _refusal(Pair("a", "b", better, -0.4, float("nan")), set()) is None
    assert _refusal(Pair("a", "b", better, -9.0, 0.5), {"b"}) == DEGENERATE_VERDICT


def test_table_cells_use_the_decimals_of_the_spread() -> None:
    from genlab.compare.report import _cell

    row = {"fid_mean": 32.1034, "fid_std": 1.197, "fid_ci_low": 29.12, "fid_ci_high": 35.08}
    assert _cell(row, "fid") == "32.1 ± 1.2 [29.1, 35.1]"
    row = {"fid_mean": 0.73333, "fid_std": 0.0042, "fid_ci_low": 0.7229, "fid_ci_high": 0.7437}
    assert _cell(row, "fid") == "0.7333 ± 0.0042 [0.7229, 0.7437]"


def test_runs_scored_by_different_extractors_are_not_compared(runs: Path, tmp_path: Path) -> None:
    write_run(runs, "genlab.losses.HingeLoss", 7, {"fid": 50.0}, extractor="inception-v3-compat")
    result = run_cli("compare", f"runs=[{runs}]", f"out={tmp_path / 'cmp'}")
    assert_user_error(result, "different feature extractors", "inception-v3-compat")


def test_runs_scored_under_different_protocols_are_refused_naming_the_fields(
    runs: Path, tmp_path: Path
) -> None:
    write_run(runs, "genlab.losses.HingeLoss", 7, {"fid": 9.0, "is_mean": 3.2}, num_generated=500)
    result = run_cli("compare", f"runs=[{runs}]", f"out={tmp_path / 'cmp'}")
    assert_user_error(
        result,
        "different metric protocols (num_generated 2000 vs 500)",
        "allow_mixed_protocols=true",
    )


def test_the_reproduction_refuses_mixed_protocols_naming_its_own_setting(
    runs: Path, tmp_path: Path
) -> None:
    from genlab.compare.report import compare_runs
    from genlab.compare.runs import load_training_runs
    from genlab.errors import ConfigError

    write_run(runs, "genlab.losses.HingeLoss", 7, {"fid": 9.0}, num_generated=500)
    loaded = load_training_runs(find_run_dirs([runs]))
    with pytest.raises(ConfigError, match=r"num_generated 2000 vs 500.*allow_mixed_protocols=true"):
        compare_runs(loaded, tmp_path / "cmp", flag="allow_mixed_protocols=true")
    assert not (tmp_path / "cmp").exists()  # refused before anything is written


def test_allowed_mixed_protocols_mark_only_the_scores_that_depend_on_the_field(
    runs: Path, tmp_path: Path
) -> None:
    """A different real split changes FID and KID but not the Inception Score, which only
    looks at the generated images: only FID's and KID's cells are marked."""
    run = write_run(
        runs, "genlab.losses.HingeLoss", 7, {"fid": 9.0, "is_mean": 3.2, "kid_mean": 0.3}
    )
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "metric_real_split": "train"}))
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{runs}]", f"out={out}", "allow_mixed_protocols=true")
    assert result.returncode == 0, result.stderr[-3000:]
    md = (out / "comparison.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith(f"| `{A}` | 3 |"))
    fid_cell, is_cell, kid_cell = row.split(" | ")[2:5]
    assert fid_cell.endswith("†") and kid_cell.endswith("†") and not is_cell.endswith("†")
    assert "Differing: real_split test vs train." in md
    table = pd.read_csv(out / "comparison.csv").set_index("variant")
    assert table.loc[A, "fid_mixed_protocols"] == "metric_real_split"
    assert "is_mean_mixed_protocols" not in table.columns
    verdicts = {line.split(" | ")[0]: line for line in md.splitlines() if "is better" in line}
    assert "† " in verdicts["| fid"] and "† " not in verdicts["| is_mean"]


def test_damaged_unscored_and_evaluate_dirs_are_left_out_by_name(
    runs: Path, tmp_path: Path
) -> None:
    """A truncated summary.json is named and left out, a run without metrics is listed as
    such (not as another extractor), and an evaluate.py output dir is not a training run."""
    damaged = write_run(runs, "genlab.losses.HingeLoss", 8, {"fid": 50.0})
    (damaged / "summary.json").write_text('{"status": "ok", "fi')
    unscored = write_run(runs, "genlab.losses.HingeLoss", 9, {})
    summary = json.loads((unscored / "summary.json").read_text())
    del summary["metric_extractor"]
    (unscored / "summary.json").write_text(json.dumps(summary))
    evaluation = write_run(runs, "genlab.losses.HingeLoss", 10, {"fid": 1.0})
    config = yaml.safe_load((evaluation / ".hydra" / "config.yaml").read_text())
    (evaluation / ".hydra" / "config.yaml").write_text(
        yaml.safe_dump({**config, "task_name": "evaluate"})
    )
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{runs}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Leaving out {damaged} cannot be read (JSONDecodeError" in result.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table["n_seeds"].sum() == 4  # the four good runs of the fixture
    report = (out / "comparison.md").read_text()
    assert f"{unscored.name} (no metrics)" in report and evaluation.name not in report


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda run: (run / "summary.json").write_text("[]"), "summary.json holds a list"),
        (lambda run: shutil.rmtree(run / ".hydra"), "no .hydra/config.yaml"),
        (lambda run: (run / ".hydra" / "config.yaml").write_text("- a\n"), "holds a list"),
    ],
    ids=["summary_a_list", "no_hydra_dir", "config_a_list"],
)
def test_a_run_that_is_no_genlab_run_dir_is_left_out_by_path(
    damage: Callable[[Path], object], reason: str, runs: Path, tmp_path: Path
) -> None:
    """Named in one warning line and in the report; the other runs are compared."""
    bad = write_run(runs, "genlab.losses.HingeLoss", 8, {"fid": 50.0})
    damage(bad)
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{runs}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if str(bad) in line]
    assert len(warnings) == 1 and warnings[0].startswith("Leaving out"), result.stderr[-3000:]
    assert reason in warnings[0]
    assert pd.read_csv(out / "comparison.csv")["n_seeds"].sum() == 4  # the four good runs
    left_out = next(line for line in (out / "comparison.md").read_text().splitlines()
                    if line.startswith("Left out"))  # fmt: skip
    assert f"{bad} (" in left_out and reason in left_out


def test_missing_path_and_offline_wandb_project_are_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = app_task_config("compare", [f"runs=[{tmp_path / 'nope'}]", f"out={tmp_path / 'cmp'}"])
    assert_user_error(user_error_in_process(compare, missing, capsys), "does not exist")
    monkeypatch.setenv("WANDB_API_KEY", "")
    monkeypatch.setenv("NETRC", str(tmp_path / "no_netrc"))
    offline = app_task_config("compare", ["wandb_project=me/genlab", f"out={tmp_path / 'cmp'}"])
    result = user_error_in_process(compare, offline, capsys)
    assert_user_error(result, "W&B login", "compare the local run dirs")


def test_variants_are_labelled_by_the_overrides_that_tell_them_apart(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for loss, seeds in FINALS.items():
        for seed, metrics in seeds.items():
            run = write_run(root, loss, seed, metrics)
            overrides = [
                f"model.loss._target_={loss}",
                f"seed={seed}",
                f"run_name=r{seed}",
                "trainer.max_steps=20",  # common to every variant: not in the label
                f"hydra.run.dir={run}",
            ]
            (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    variants = group_variants([load_run(d) for d in find_run_dirs([root])])
    assert sorted(v.label for v in variants) == sorted([A, B])
    assert all(len(v.runs) == 2 for v in variants)


def test_variant_labels_are_shortened_to_what_differs(tmp_path: Path) -> None:
    """Losses and generator learning rates set on the command line: each key by its last
    part, each loss by the name of its option in conf/model/loss/."""
    root = tmp_path / "runs"
    settings = [
        ("genlab.losses.HingeLoss", "0.0002"),
        ("genlab.losses.LeastSquaresLoss", "0.0002"),
        ("genlab.losses.HingeLoss", "1e-05"),
    ]
    for loss, lr in settings:
        run = write_run(root / lr, loss, 0, {"fid": 10.0})
        config = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
        config["model"]["optimizer_g"] = {"lr": float(lr)}
        (run / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
        overrides = [f"model.loss._target_={loss}", f"model.optimizer_g.lr={lr}", "seed=0"]
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    variants = group_variants([load_run(d) for d in find_run_dirs([root])])
    assert sorted(v.label for v in variants) == [
        "loss=hinge, lr=0.0002", "loss=hinge, lr=1e-05", "loss=least_squares, lr=0.0002",
    ]  # fmt: skip


def test_short_labels_keep_what_tells_settings_apart() -> None:
    from genlab.naming import setting_labels

    rows = [[("model.optimizer_g.lr", 0.0002)], [("model.optimizer_d.lr", 0.0002)]]
    assert setting_labels(rows) == [["optimizer_g.lr=0.0002"], ["optimizer_d.lr=0.0002"]]
    likelihoods = [
        [("model.likelihood._target_", f"genlab.losses.{name}Likelihood")]
        for name in ("Gaussian", "Bernoulli")
    ]
    assert setting_labels(likelihoods) == [["likelihood=gaussian"], ["likelihood=bernoulli"]]
    optimizers = [
        [("model.optimizer_g._target_", "torch.optim.SGD"), ("model.optimizer_g.lr", 0.01234567)]
    ]
    assert setting_labels(optimizers) == [["optimizer_g=SGD", "lr=0.01235"]]
    # Keys with the same parts keep their full names; classes of one name from two packages
    # would read the same shortened, so their labels keep the full keys and values.
    same_parts = [[("model.loss._target_", "genlab.losses.HingeLoss")], [("model/loss", "hinge")]]
    assert setting_labels(same_parts) == [["model.loss._target_=hinge"], ["model/loss=hinge"]]
    classes = ("genlab.losses.HingeLoss", "mylab.losses.HingeLoss")
    same_class = [[("model.loss._target_", name)] for name in classes]
    assert setting_labels(same_class) == [[f"model.loss._target_={name}"] for name in classes]
    assert setting_labels([["~callbacks.progress_log"], [("seed", 1)]]) == [
        ["~callbacks.progress_log"], ["seed=1"],
    ]  # fmt: skip


def test_figures_show_long_variant_labels_whole(tmp_path: Path) -> None:
    """A label of four settings and a count wraps over lines in the legend and under the
    axis; no part of it is cut and no tick label overlaps another."""
    from genlab.compare.plots import curves_figure, final_figure
    from genlab.compare.runs import Run
    from genlab.compare.variants import Variant
    from genlab.figures import tick_labels_overlap

    labels = [
        f"loss={loss}, lr=0.0002, beta1=0.5, ema_decay=0.999 (+2 more settings)"
        for loss in ("non_saturating", "least_squares", "hinge", "minimax", "wasserstein")
    ]
    history = [{"step": 10 * k, "generator_steps": 10 * k, "fid": 50.0 / k} for k in (1, 2)]
    variants = [
        Variant(label, [Run(tmp_path / f"r{i}{seed}", {"seed": seed}, {}, history) for seed in (0, 1)])
        for i, label in enumerate(labels)
    ]  # fmt: skip
    (ax,) = curves_figure("fid", variants).axes
    shown = [text.get_text() for text in ax.get_legend().get_texts()]
    assert [text.replace("\n", " ") for text in shown] == [f"{label} (2 seeds)" for label in labels]
    assert all("\n" in text for text in shown)  # wrapped, not one long line

    fig = final_figure("fid", {label: [10.0, 11.0] for label in labels})
    (ax,) = fig.axes
    ticks = [text.get_text() for text in ax.get_xticklabels()]
    assert [text.replace("\n", " ") for text in ticks] == labels
    assert not tick_labels_overlap(fig, ax)


CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def test_comparison_page_renders_in_a_real_browser(runs: Path, tmp_path: Path) -> None:
    """comparison.html is self-contained: opened from its own folder's copy elsewhere, in
    headless Chromium, every table is there and every figure decodes."""
    chromium = shutil.which("chromium")
    require(chromium is not None, "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{runs}]", f"out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    page_file = tmp_path / "elsewhere" / "comparison.html"  # no PNG beside it
    page_file.parent.mkdir()
    shutil.copy(out / "comparison.html", page_file)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(page_file.as_uri())
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        tables = page.eval_on_selector_all("table", "ts => ts.map(t => t.rows.length)")
        text = page.inner_text("body")
        browser.close()
    names = {alt for alt, _, _ in images}
    assert {"final_fid.png", "curve_fid.png", "samples.png"} <= names
    assert all(complete and width > 300 for _, complete, width in images), images
    assert tables[0] == 3 and A in text  # header and two variants
    assert "p (Holm)" in text


def test_curves_use_generator_steps_draw_bands_and_skip_one_point_runs(tmp_path: Path) -> None:
    from genlab.compare.plots import curve_axis, plot_curves
    from genlab.compare.runs import Run
    from genlab.compare.variants import Variant

    def run(seed: int, history: list[dict]) -> Run:
        return Run(tmp_path / f"r{seed}", {"status": "ok", "seed": seed}, {}, history)

    curve = [{"step": 600 * k, "generator_steps": 100 * k, "fid": 50.0 / k} for k in (1, 2, 3)]
    shifted = [{**h, "fid": h["fid"] + 1.0} for h in curve]
    two_seeds = Variant("WGAN-GP", [run(0, curve), run(1, shifted)])
    single_point = Variant("VAE", [run(2, curve[:1])])
    assert curve_axis([two_seeds, single_point]) == "generator_steps"
    assert curve_axis([Variant("old", [run(3, [{"step": 10, "fid": 1.0}])])]) == "step"

    path = tmp_path / "curve_fid.png"
    assert plot_curves("fid", [two_seeds, single_point], path)
    with Image.open(path) as image:
        assert image.size == (1500, 960)  # 7.5 x 4.8 inches at 200 dpi
    assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert not plot_curves("fid", [single_point], tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_sample_mosaic_keeps_each_grid_at_native_resolution_under_its_caption(
    tmp_path: Path,
) -> None:
    from genlab.compare.plots import plot_grids
    from genlab.compare.runs import Run
    from genlab.compare.variants import Variant

    rng = np.random.default_rng(0)
    variants = []
    for index, label in enumerate(("NS GAN", "WGAN-GP", "VAE")):
        run_dir = tmp_path / label
        (run_dir / "samples").mkdir(parents=True)
        pixels = rng.integers(0, 256, size=(62, 62, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(run_dir / "samples" / f"samples_step{1200 * index:07d}.png")
        variants.append(Variant(label, [Run(run_dir, {"seed": index}, {})]))

    path = tmp_path / "samples.png"
    assert plot_grids(variants, path, per_row=2)
    with Image.open(path) as mosaic:
        mosaic = np.asarray(mosaic.convert("RGB"))
    assert mosaic.shape[0] > 2 * 62  # two rows
    for variant in variants:
        grid = np.asarray(Image.open(variant.runs[0].last_grid()).convert("RGB"))
        windows = np.lib.stride_tricks.sliding_window_view(mosaic, grid.shape)
        assert (windows == grid).all(axis=(-3, -2, -1)).any(), f"{variant.label} was resampled"
