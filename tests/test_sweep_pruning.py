"""early_terminate in the local engine: W&B's hyperband as Optuna's successive halving, fed by
the evaluations a trial writes while it trains; a bad setting stopped before its budget."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.pruning import EvaluationReader, make_pruner
from genlab.tracking.summary import read_summary
from tests.helpers import assert_user_error, run_cli, sweep_env, sweep_error_in_process, trials


def with_early_terminate(early_terminate: dict) -> SweepDefinition:
    return SweepDefinition.from_dict(
        {
            "name": "pruned",
            "method": "grid",
            "metric": {"name": "genlab/fid", "goal": "minimize"},
            "parameters": {"seed": {"values": [0]}},
            "early_terminate": early_terminate,
        },
        "pruned",
    )


def test_hyperband_maps_to_successive_halving_from_w_and_bs_first_band() -> None:
    by_min = make_pruner(with_early_terminate({"type": "hyperband", "min_iter": 2, "eta": 2}))
    assert isinstance(by_min, optuna.pruners.SuccessiveHalvingPruner)
    # max_iter 27, s 2, eta 3: W&B's bands are 3 and 9 evaluations.
    by_max = make_pruner(with_early_terminate({"type": "hyperband", "max_iter": 27, "s": 2}))
    study = optuna.create_study(pruner=by_max)
    for values in ([5.0] * 9, [9.0] * 9):  # a trial at 5 throughout, then one at 9
        trial = study.ask()
        pruned_at = None
        for step, value in enumerate(values, start=1):
            trial.report(value, step)
            if trial.should_prune():
                pruned_at = step
                break
        study.tell(trial, state=optuna.trial.TrialState.PRUNED if pruned_at else None,
                   values=None if pruned_at else values[-1])  # fmt: skip
    first, second = study.trials
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert second.state == optuna.trial.TrialState.PRUNED and second.last_step == 3
    assert isinstance(make_pruner(SweepDefinition({"name": "x"})), optuna.pruners.NopPruner)


def test_the_reader_takes_complete_lines_once(tmp_path: Path) -> None:
    history = tmp_path / "metrics_history.jsonl"
    reader = EvaluationReader(history, "fid")
    assert reader.new() == []  # no file yet
    history.write_text(json.dumps({"step": 10, "fid": 70.5}) + "\n" + '{"step": 20, "fi')
    assert reader.new() == [(1, 10, 70.5)]
    with history.open("a") as f:
        f.write('d": 60.0}\n' + json.dumps({"step": 30, "kid_mean": 1.0}) + "\n")
    assert reader.new() == [(2, 20, 60.0)]  # the line without fid is not an evaluation of it
    assert reader.new() == [] and reader.count == 2
    with history.open("a") as f:  # a damaged line (a disk error) is skipped, not fatal
        f.write("\x00\x00\x00\n" + json.dumps({"step": 40, "fid": 50.0}) + "\n")
    assert reader.new() == [(3, 40, 50.0)] and reader.last_step == 40


@pytest.mark.parametrize(
    ("early_terminate", "parameters", "fragments"),
    [
        (
            {"type": "hyperband", "min_iter": 1, "eta": 2.5},
            {},
            ["eta must be a whole number"],
        ),
        (
            {"type": "hyperband", "max_iter": 4, "s": 3},
            {},
            ["max_iter / eta^s", "below one evaluation"],
        ),
        ({"type": "hyperband", "eta": 3}, {}, ["not a valid W&B sweep config", "early_terminate"]),
        (
            {"type": "hyperband", "min_iter": 1},
            {"metrics": {"value": "off"}},
            ["early_terminate needs the trials to evaluate", "metrics.every_n_steps"],
        ),
    ],
    ids=["fractional_eta", "no_first_band", "no_band", "no_evaluations"],
)
def test_a_malformed_early_terminate_is_one_line(
    early_terminate: dict,
    parameters: dict,
    fragments: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    definition = {
        "name": "bad",
        "method": "grid",
        "metric": {"name": "genlab/fid", "goal": "minimize"},
        "parameters": {"debug": {"value": "fast"}, "seed": {"values": [0, 1]}, **parameters},
        "early_terminate": early_terminate,
    }
    (definitions / "bad.yaml").write_text(yaml.safe_dump(definition))
    result = sweep_error_in_process(
        ["sweep=bad", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "backend=local",
         f"sweep_dir={tmp_path / 'sweep'}"],
        capsys,
        env=sweep_env(tmp_path),
    )  # fmt: skip
    assert_user_error(result, *fragments)
    assert not (tmp_path / "sweep" / "trials").exists()


@pytest.mark.slow
def test_a_bad_setting_is_pruned_before_its_budget_while_the_good_one_finishes(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """A VAE for 40 steps, evaluated every 10: the learning rate 1e-3, then 1e-7 (it barely
    learns). Hyperband's first band is the second evaluation (min_iter 2, eta 2): there the
    second trial's FID is worse than the first's, and it is stopped at step 20."""
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    definition = {
        "name": "prune",
        "method": "grid",
        "metric": {"name": "genlab/fid", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
        "parameters": {
            "model": {"value": "vae"},
            "debug": {"value": "fast"},
            "trainer.max_steps": {"value": 40},
            "metrics.num_samples": {"value": 128},
            "metrics.num_real": {"value": 256},
            "metrics.every_n_steps": {"value": 10},
            "model.optimizer.lr": {"values": [0.001, 0.0000001]},
        },
    }
    (definitions / "prune.yaml").write_text(yaml.safe_dump(definition))
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "sweep", "sweep=prune", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        "backend=local", f"sweep_dir={sweep_dir}",
        f'overrides=["data.root={fashion_mnist_root}"]', env=sweep_env(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    table = trials(sweep_dir).set_index("model.optimizer.lr")
    good, bad = table.loc[0.001], table.loc[1e-7]
    assert good["status"] == "ok" and good["step"] == 40
    # The trial waits for the sweep's verdict after each evaluation: it stops at the band,
    # however fast it trains.
    assert bad["status"] == "pruned" and bad["step"] == 20
    run = Path(bad["run_dir"])
    history = [json.loads(line) for line in (run / "metrics_history.jsonl").open()]
    assert [h["step"] for h in history] == [10, 20]
    assert bad["genlab/fid"] == pytest.approx(history[1]["fid"])  # its value at the band
    good_history = [
        json.loads(line) for line in (Path(good["run_dir"]) / "metrics_history.jsonl").open()
    ]
    assert history[1]["fid"] > good_history[1]["fid"]  # worse at the band, as it should be
    summary = read_summary(run)
    assert summary["status"] == "pruned" and summary["global_step"] == bad["step"]
    assert "pruned by the sweep at step 20" in summary["error"]
    assert (run / "checkpoints" / "last.ckpt").is_file()  # the run dir is kept, resumable
    # Its W&B run is kept and finished; summary.json's keys are its W&B summary (genlab/...).
    assert (Path(summary["wandb_dir"]) / f"run-{summary['wandb_run_id']}.wandb").is_file()
    assert "| pruned |" in (sweep_dir / "trials.md").read_text()
    assert (sweep_dir / "intermediate.png").is_file()  # the report shows where it stopped
    study = optuna.load_study(study_name="prune", storage=f"sqlite:///{sweep_dir / 'optuna.db'}")
    states = {t.params["model.optimizer.lr"]: t for t in study.trials}
    assert states[1e-7].state == optuna.trial.TrialState.PRUNED
    assert sorted(states[1e-7].intermediate_values) == [1, 2]
    assert states[0.001].state == optuna.trial.TrialState.COMPLETE
    assert sorted(states[0.001].intermediate_values) == [1, 2, 3, 4]
