"""The sweep report: Optuna's plots of a real study as PNGs beside trials.md, after a sweep and
on demand (report=true)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import yaml
from PIL import Image

from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.report import REPORT_PNGS, write_report
from genlab.sweeps.search_space import suggest
from tests.helpers import assert_user_error, run_cli, sweep_env

DEFINITION = SweepDefinition.from_dict(
    {
        "name": "report",
        "method": "random",
        "metric": {"name": "genlab/fid", "goal": "minimize"},
        "parameters": {
            "debug": {"value": "fast"},
            "model.optimizer_g.lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
            "model.loss._target_": {"values": ["genlab.losses.HingeLoss", "genlab.losses.MinimaxLoss"]},
        },
    },
    "report",
)  # fmt: skip


def make_study(storage: str | None = None) -> optuna.Study:
    """Eight trials whose FID falls with the learning rate and reports 3 evaluations; one
    pruned after its first."""
    study = optuna.create_study(
        study_name="report", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    for number in range(8):
        trial = study.ask()
        params = suggest(trial, DEFINITION)
        fid = 80 + 10 * math.log10(params["model.optimizer_g.lr"]) + (number % 3)
        for step in (1, 2, 3):
            trial.report(fid + 10 / step, step)
            if number == 5:
                break
        if number == 5:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            trial.set_user_attr("status", "ok")  # as the sweep engine records it
            study.tell(trial, fid)
    return study


def assert_plots(folder: Path) -> None:
    for name in REPORT_PNGS:
        with Image.open(folder / name) as image:
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert image.width >= 300 and image.height >= 200, (name, image.size)
        assert pixels.std() > 5, f"{name} is blank"
        assert (pixels < 128).mean() > 0.002, f"{name} has almost nothing drawn"


def test_the_report_draws_every_plot_of_a_study(tmp_path: Path) -> None:
    written = write_report(make_study(), DEFINITION, tmp_path)
    assert sorted(p.name for p in written) == sorted(REPORT_PNGS)
    assert_plots(tmp_path)


def test_a_study_without_finished_trials_draws_nothing_and_removes_old_plots(
    tmp_path: Path,
) -> None:
    write_report(make_study(), DEFINITION, tmp_path)
    empty = optuna.create_study()
    empty.enqueue_trial({})
    assert write_report(empty, DEFINITION, tmp_path) == []
    assert not any((tmp_path / name).exists() for name in REPORT_PNGS)


def test_report_true_writes_the_report_of_an_existing_sweep_on_demand(tmp_path: Path) -> None:
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    (definitions / "report.yaml").write_text(yaml.safe_dump(DEFINITION.config))
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    make_study(f"sqlite:///{sweep_dir / 'optuna.db'}")
    args = ["sweep=report", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "backend=local"]
    result = run_cli(
        "sweep", *args, "report=true", f"sweep_dir={sweep_dir}", env=sweep_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_plots(sweep_dir)
    assert (sweep_dir / "trials.md").read_text().count("| ok |") == 7
    missing = run_cli(
        "sweep", *args, "report=true", f"sweep_dir={tmp_path / 'none'}", env=sweep_env(tmp_path)
    )
    assert_user_error(missing, "nothing to report")
