"""Sweeps: the shipped definitions against W&B's schema, the local engine on real trials
(kill and resume, a failing trial, parallel workers), the W&B agent's own command offline, and
the wandb backend stopping at the network boundary (no W&B server is faked here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
import yaml
from omegaconf import OmegaConf

from genlab.errors import ConfigError
from genlab.sweeps.definition import SweepDefinition, schema_violations
from genlab.sweeps.local import trial_folder_name
from genlab.sweeps.search_space import grid_size, make_sampler, suggest
from genlab.sweeps.table import best_row, trial_rows, write_tables
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.summary import read_summary
from tests.helpers import (
    REPO,
    assert_user_error,
    cli_env,
    config_options,
    execute_notebook,
    load_definition,
    run_cli,
    sweep_env,
    sweep_error_in_process,
    trials,
)

SWEEP_NAMES = config_options("sweep")
LOSSES = {
    "genlab.losses.NonSaturatingLoss",
    "genlab.losses.HingeLoss",
    "genlab.losses.LeastSquaresLoss",
}


# --- definitions ---------------------------------------------------------------------------


def test_the_four_definitions_ship() -> None:
    assert {"smoke", "wgan_gp_lr_ncritic", "gan_losses", "vae_beta"} <= set(SWEEP_NAMES)


@pytest.mark.parametrize("name", SWEEP_NAMES)
def test_definition_validates_against_the_wandb_sweep_schema(name: str) -> None:
    definition = load_definition(name)
    assert schema_violations(definition.config) == []
    assert schema_violations(definition.for_wandb(["seed=1"])) == []  # what the server gets
    assert definition.config["name"] == name
    assert definition.metric_name == "genlab/fid" and definition.minimize
    # Every swept key is a Hydra override of the training config.
    command = definition.command()
    assert command[:4] == ["${env}", "${interpreter}", "${program}", f"group={name}"]
    # The local engine can draw every parameter.
    study = optuna.create_study(sampler=make_sampler(definition, seed=0))
    params = suggest(study.ask(), definition)
    assert params.keys() == definition.parameters.keys()


def test_schema_rejects_what_wandb_rejects() -> None:
    bad = {"method": "gridd", "parameters": {"model/loss": {"values": ["hinge"]}}}
    violations = schema_violations(bad)
    assert any(v.startswith("method") for v in violations), violations
    assert any("model/loss" in v for v in violations), violations  # W&B's key pattern
    with pytest.raises(ConfigError, match="not a valid W&B sweep config"):
        SweepDefinition.from_dict(bad, "bad.yaml")


def test_distributions_map_to_optuna() -> None:
    definition = SweepDefinition.from_dict(
        {
            "name": "space",
            "method": "random",
            "metric": {"name": "genlab/fid", "goal": "minimize"},
            "parameters": {
                "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-3},
                "beta": {"distribution": "log_uniform", "min": -2.0, "max": 2.0},
                "width": {"min": 8, "max": 64},  # ints: int_uniform, as W&B infers
                "p": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
                "loss": {"values": ["a", "b"]},
                "debug": {"value": "fast"},
            },
        },
        "space",
    )
    study = optuna.create_study(sampler=make_sampler(definition, seed=1))
    for _ in range(20):
        trial = study.ask()
        p = suggest(trial, definition)
        study.tell(trial, 0.0)
        assert 1e-5 <= p["lr"] <= 1e-3 and 0.13 < p["beta"] < 7.4
        assert isinstance(p["width"], int) and 8 <= p["width"] <= 64
        assert p["p"] in (0.0, 0.25, 0.5, 0.75, 1.0) and p["loss"] in ("a", "b")
        assert p["debug"] == "fast"
    dists = study.trials[0].distributions
    assert dists["lr"].log and dists["beta"].log and not dists["p"].log
    assert grid_size(load_definition("gan_losses")) == 12
    unsupported = dict(definition.config, parameters={"x": {"distribution": "normal"}})
    with pytest.raises(ConfigError, match="normal is not supported"):
        suggest(optuna.create_study().ask(), SweepDefinition(unsupported))


# --- the smoke sweep, killed after its first trial and resumed ------------------------------


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory: pytest.TempPathFactory, fashion_mnist_root: Path) -> dict:
    """`scripts/sweep.py sweep=smoke`, killed (with its running trial) once the first trial is
    in the table, then resumed with resume=true."""
    tmp = tmp_path_factory.mktemp("smoke")
    sweep_dir = tmp / "sweep"
    args = [f"sweep_dir={sweep_dir}", f'overrides=["data.root={fashion_mnist_root}"]']
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **sweep_env(tmp)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "sweep.py"), "sweep=smoke", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not (
            (sweep_dir / "trials.csv").is_file() and (trials(sweep_dir)["status"] == "ok").any()
        ):
            assert process.poll() is None, "the sweep ended before it was killed"
            assert time.monotonic() - started < 300, "no trial finished in 300 s"
            time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its running trial
        process.wait()
    before = trials(sweep_dir)
    first = before[before["status"] == "ok"].iloc[0]
    first_summary = Path(first["run_dir"]) / "summary.json"
    killed = {
        "table": before,
        "first_run_dir": Path(first["run_dir"]),
        "first_summary": first_summary.read_text(),
        "first_mtime": first_summary.stat().st_mtime_ns,
    }
    resumed = run_cli("sweep", "sweep=smoke", "resume=true", *args, env=sweep_env(tmp))
    assert resumed.returncode == 0, resumed.stderr[-5000:]
    return {"dir": sweep_dir, "killed": killed, "log": (sweep_dir / "sweep.log").read_text()}


@pytest.mark.slow
def test_smoke_sweep_runs_three_trials(smoke_sweep: dict) -> None:
    table = trials(smoke_sweep["dir"])
    done = table[table["status"] != "interrupted"]
    assert len(done) == 3 and set(done["status"]) == {"ok"}
    assert set(done["model.loss._target_"]) == LOSSES  # the whole grid, once each
    assert "backend=auto: local" in smoke_sweep["log"]
    for _, row in done.iterrows():
        run = Path(row["run_dir"])
        summary = read_summary(run)
        assert summary["status"] == "ok" and summary["fid"] == pytest.approx(row["genlab/fid"])
        config = OmegaConf.load(run / ".hydra" / "config.yaml")
        assert config.group == "smoke"  # the W&B group of every trial
        assert config.model.loss._target_ == row["model.loss._target_"]
        assert summary["wandb_mode"] == "offline"
        assert (Path(summary["wandb_dir"]) / f"run-{summary['wandb_run_id']}.wandb").is_file()
        history = [json.loads(line) for line in (run / "metrics_history.jsonl").open()]
        assert [h["step"] for h in history] == [10, 20]
        assert history[-1]["fid"] == summary["fid"]
    md = (smoke_sweep["dir"] / "trials.md").read_text()
    assert md.count("| ok |") == 3
    # 20 steps leave grey samples: every trial is degenerate, and none is named best.
    assert done["degenerate"].str.contains("IS at its floor of 1").all()
    assert "★" not in md and md.count("| ⚠ |") == 3
    assert "No best trial: every scored trial is degenerate" in smoke_sweep["log"]


@pytest.mark.slow
def test_resumed_sweep_does_not_repeat_a_finished_trial(smoke_sweep: dict) -> None:
    killed = smoke_sweep["killed"]
    summary = killed["first_run_dir"] / "summary.json"
    assert summary.read_text() == killed["first_summary"]
    assert summary.stat().st_mtime_ns == killed["first_mtime"]
    table = trials(smoke_sweep["dir"])
    assert (table["run_dir"] == str(killed["first_run_dir"])).sum() == 1
    # The trial that was running when the sweep was killed is recorded and runs again.
    interrupted = table[table["status"] == "interrupted"]
    assert len(interrupted) <= 1
    ok = table[table["status"] == "ok"]
    for loss in interrupted["model.loss._target_"].dropna():
        assert (ok["model.loss._target_"] == loss).sum() == 1
    storage = f"sqlite:///{smoke_sweep['dir'] / 'optuna.db'}"
    study = optuna.load_study(study_name="smoke", storage=storage)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 3


def test_resume_needs_an_existing_sweep_and_a_new_start_an_empty_dir(
    smoke_sweep: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = sweep_env(tmp_path)
    assert_user_error(
        sweep_error_in_process([f"sweep_dir={smoke_sweep['dir']}"], capsys, env=env),
        "resume=true",
    )
    assert_user_error(
        sweep_error_in_process(["resume=true", f"sweep_dir={tmp_path / 'new'}"], capsys, env=env),
        "nothing to resume",
    )


@pytest.mark.slow
def test_a_second_sweep_on_a_busy_sweep_dir_is_refused_before_hydra_writes_to_it(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [f"sweep_dir={sweep_dir}", f'overrides=["data.root={fashion_mnist_root}"]']
    first = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "sweep.py"), "sweep=smoke", *args],
        cwd=REPO, env={**cli_env(), **sweep_env(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        started = time.monotonic()
        while not (sweep_dir / "trials.csv").is_file():  # written under the sweep dir's lock
            assert first.poll() is None, "the first sweep ended"
            assert time.monotonic() - started < 300, "no trial table in 300 s"
            time.sleep(0.2)
        recorded = {p.name: p.read_bytes() for p in (sweep_dir / ".hydra").iterdir()}
        assert {"config.yaml", "hydra.yaml", "overrides.yaml"} <= recorded.keys()

        second = run_cli("sweep", "sweep=smoke", "resume=true", "seed=1", *args,
                         env=sweep_env(tmp_path))  # fmt: skip
        assert_user_error(second, f"the sweep dir {sweep_dir} is in use by process {first.pid}")
        assert {p.name: p.read_bytes() for p in (sweep_dir / ".hydra").iterdir()} == recorded
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the sweep and its running trial
        first.wait()


# --- a failing trial, two workers -------------------------------------------------------------


@pytest.mark.slow
def test_failed_trial_is_recorded_and_the_sweep_goes_on(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """A user's own definition (found through hydra.searchpath): trainer.max_steps=0 makes
    its trial fail with a user error; the other trial runs at the same time (workers=2)."""
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    smoke = load_definition("smoke").config
    failing = {
        **smoke,
        "name": "failing",
        "parameters": {
            **{k: v for k, v in smoke["parameters"].items() if "value" in v},
            "trainer.max_steps": {"values": [0, 20]},
        },
    }
    (definitions / "failing.yaml").write_text(yaml.safe_dump(failing))
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "sweep",
        "sweep=failing",
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        "backend=local",
        "workers=2",
        f"sweep_dir={sweep_dir}",
        f'overrides=["data.root={fashion_mnist_root}"]',
    )
    assert result.returncode == 0, result.stderr[-5000:]
    table = trials(sweep_dir).set_index("trainer.max_steps")
    assert table.loc[0, "status"] == "failed" and table.loc[0, "exit_code"] == 2
    assert "trainer.max_steps" in table.loc[0, "error"]
    assert pd.isna(table.loc[0, "genlab/fid"])
    assert table.loc[20, "status"] == "ok" and table.loc[20, "genlab/fid"] > 0
    assert not (Path(table.loc[0, "run_dir"]) / "summary.json").exists()
    # Both trials ran at once.
    assert table.loc[0, "started"] < table.loc[20, "ended"]
    assert table.loc[20, "started"] < table.loc[0, "ended"]


@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_its_running_trial_saves_and_no_other_starts(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Ctrl+C in the terminal (SIGINT to the sweep, its trial and their helpers) while trial 0
    trains: the sweep starts no further trial, the trial saves its step as `interrupted`, the
    table is written, the sweep exits 130 and queues the trial to run again."""
    sweep_dir = tmp_path / "sweep"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **sweep_env(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "sweep.py"), "sweep=smoke",
         f"sweep_dir={sweep_dir}", f'overrides=["data.root={fashion_mnist_root}"]'],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    started = time.monotonic()
    try:
        # Trial 0 has trained past its first evaluation (step 10) and checkpoint.
        while not list(sweep_dir.glob(f"trials/000_*/{HISTORY_FILE}")):
            assert process.poll() is None, "the sweep ended before Ctrl+C"
            assert time.monotonic() - started < 300, "trial 0 did not evaluate in 300 s"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, output[-5000:]
    assert "stopped by SIGINT: continue it with the same arguments and resume=true" in output
    (trial_dir,) = (sweep_dir / "trials").iterdir()  # no other trial started
    assert trial_dir.name.startswith("000_")
    summary = read_summary(trial_dir)
    assert summary["status"] == "interrupted" and "stopped by SIGINT" in summary["error"]
    last = torch.load(trial_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == summary["global_step"] >= 10
    table = trials(sweep_dir)
    assert table.set_index("trial").loc[0, "status"] == "interrupted"
    retry = table[table["retry_of"] == 0]
    assert list(retry["status"]) == ["queued"]
    assert list(table["status"]).count("queued") == 3  # trials 1, 2 and the retry of 0


def test_a_parameter_the_train_config_lacks_stops_the_sweep_before_any_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    smoke = load_definition("smoke").config
    typo = {**smoke, "name": "typo", "parameters": {"model.lattent_dim": {"values": [8, 16]}}}
    (definitions / "typo.yaml").write_text(yaml.safe_dump(typo))
    sweep_dir = tmp_path / "sweep"
    result = sweep_error_in_process(
        ["sweep=typo", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
         "backend=local", f"sweep_dir={sweep_dir}"],
        capsys,
    )  # fmt: skip
    assert_user_error(result, "sweep typo", "model.lattent_dim", "parameter names")
    assert not (sweep_dir / "optuna.db").exists() and not (sweep_dir / "trials").exists()


# A definition the local engine runs (one cheap trial), for the rows whose mistake is elsewhere.
RUNNABLE = (
    "name: bad\nmethod: grid\nmetric: {name: genlab/fid}\n"
    "parameters:\n  debug: {value: fast}\n  model.n_disc: {values: [1]}\n"
)


def user_definition(tmp_path: Path, text: str) -> list[str]:
    """``text`` as the user's definition conf/sweep/bad.yaml in a config folder of their own;
    returns the overrides that run it locally into tmp_path/sweep."""
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    (definitions / "bad.yaml").write_text(text)
    return [
        "sweep=bad", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "backend=local",
        f"sweep_dir={tmp_path / 'sweep'}",
    ]  # fmt: skip


def assert_no_study(sweep_dir: Path) -> None:
    assert not (sweep_dir / "optuna.db").exists() and not (sweep_dir / "trials").exists()


def test_a_definition_that_is_not_yaml_is_one_line(tmp_path: Path) -> None:
    """Hydra reads the file while it composes the config, before genlab's task: the script
    reports it, so it runs as a user runs it."""
    text = "name: bad\nparameters:\n  model.n_disc: {values: [1, 2]\n"
    result = run_cli("sweep", *user_definition(tmp_path, text))
    assert_user_error(result, "not valid YAML", "bad.yaml", "line 3")
    assert_no_study(tmp_path / "sweep")


@pytest.mark.parametrize(
    ("text", "args", "fragments"),
    [
        (
            "name: bad\nmethod: custom\nmetric: {name: genlab/fid}\n"
            "parameters:\n  model.n_disc: {values: [1, 2]}\n",
            [],
            ["method 'custom' is not supported locally"],
        ),
        (
            "name: bad\nmethod: random\nrun_cap: 2\nmetric: {name: genlab/fid}\n"
            "parameters:\n  model.optimizer_g.lr: {min: 0.01, max: 0.001}\n",
            [],
            ["sweep definition", "bad.yaml", "model.optimizer_g.lr", "min 0.01 is above max 0.001"],
        ),
        (
            RUNNABLE.replace("genlab/fid", "genlab/fdi"),
            [],
            ["metric genlab/fdi", "genlab/fid", "genlab/kid_mean", "genlab/train/"],
        ),
        (RUNNABLE, ["workers=abc"], ["workers must be a number (its default is 1), got 'abc'"]),
    ],
    ids=["custom_method", "min_above_max", "unknown_metric", "workers_not_a_number"],
)
def test_a_broken_definition_is_one_line(
    text: str,
    args: list[str],
    fragments: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refused before the sweep has a study or a trial."""
    result = sweep_error_in_process([*user_definition(tmp_path, text), *args], capsys)
    assert_user_error(result, *fragments)
    assert_no_study(tmp_path / "sweep")


# --- W&B: the agent's command offline, and the server boundary --------------------------------


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory: pytest.TempPathFactory, fashion_mnist_root: Path) -> dict:
    """wandb's Agent builds and starts the trial command for a run command the server would
    send (the smoke sweep's HingeLoss point, the sweep created with overrides seed=1 and
    data.root), with the environment it sets (WANDB_SWEEP_ID, WANDB_RUN_ID,
    WANDB_SWEEP_PARAM_PATH, WANDB_DIR); only the server is missing."""
    from wandb.wandb_agent import Agent

    tmp = tmp_path_factory.mktemp("agent")
    definition = load_definition("smoke")
    config = definition.for_wandb(overrides=["seed=1", f"data.root={fashion_mnist_root}"])
    params = {k: v["value"] for k, v in definition.parameters.items() if "value" in v}
    params["model.loss._target_"] = "genlab.losses.HingeLoss"
    with pytest.MonkeyPatch.context() as env:
        env.chdir(REPO)  # where a user starts `wandb agent` (program: scripts/train.py)
        # `python` is the environment's interpreter, as in an activated environment.
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        env.setenv("GENLAB_ROOT", str(tmp))  # the run dir goes under tmp/outputs
        env.setenv("WANDB_MODE", "offline")
        env.setenv("WANDB_SILENT", "true")
        env.setenv("WANDB_DIR", str(tmp))
        env.setenv("WANDB_SWEEP_ID", "sw33pid1")  # set by `wandb agent` (run_agent)
        for name in ("WANDB_RUN_ID", "WANDB_SWEEP_PARAM_PATH"):  # set by the agent below
            env.setenv(name, "")
        agent = Agent(api=None, queue=None, sweep_id="sw33pid1")
        agent._sweep_command = config["command"]
        response = agent._process_command(
            {
                "type": "run",
                "run_id": "hinge1a2b",
                "program": config["program"],
                "args": {name: {"value": value} for name, value in params.items()},
            }
        )
        assert "exception" not in response, response
        exit_code = agent._run_processes["hinge1a2b"].wait(timeout=600)
    (run,) = (tmp / "outputs" / "train" / "runs").iterdir()
    return {"exit_code": exit_code, "run": run, "wandb_dir": tmp}


@pytest.mark.slow
def test_the_wandb_agents_own_command_runs_offline(agent_run: dict) -> None:
    assert agent_run["exit_code"] == 0
    run = agent_run["run"]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["seed"] == 1 and summary["fid"] > 0
    # The run joins the W&B run the agent named.
    assert summary["wandb_run_id"] == "hinge1a2b" and summary["wandb_mode"] == "offline"
    assert Path(summary["wandb_dir"]).name.endswith("-hinge1a2b")
    overrides = OmegaConf.load(run / ".hydra" / "overrides.yaml")
    assert "group=smoke" in overrides
    assert "model.loss._target_=genlab.losses.HingeLoss" in overrides
    assert "metrics.every_n_steps=10" in overrides and "debug=fast" in overrides
    sweep_params = agent_run["wandb_dir"] / "wandb" / "sweep-sw33pid1" / "config-hinge1a2b.yaml"
    assert sweep_params.is_file()


@pytest.mark.slow
def test_compare_variants_notebook_on_real_runs(
    smoke_sweep: dict, agent_run: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The smoke sweep (3 losses, seed 0) and the agent's HingeLoss run with seed 1: three
    variants, the HingeLoss one with two seeds."""
    out = tmp_path / "comparison"
    paths = os.pathsep.join([str(smoke_sweep["dir"]), str(agent_run["run"])])
    monkeypatch.setenv("GENLAB_COMPARE_PATHS", paths)
    monkeypatch.setenv("GENLAB_COMPARE_OUT", str(out))
    outputs = execute_notebook("compare_variants.ipynb", tmp_path)
    table = pd.read_csv(out / "comparison.csv").set_index("variant")
    assert len(table) == 3 and table["n_seeds"].sum() == 4
    hinge = table.loc["loss=hinge"]
    assert hinge["n_seeds"] == 2 and hinge["seeds"] == "0 1"
    fids = [read_summary(Path(d))["fid"] for d in hinge["run_dirs"].split()]
    assert hinge["fid_mean"] == pytest.approx(np.mean(fids))
    assert hinge["fid_ci_low"] < hinge["fid_mean"] < hinge["fid_ci_high"]
    for png in ("curve_fid.png", "final_fid.png", "samples.png"):
        assert (out / png).stat().st_size > 0
    assert "3 variants from 4 runs" in outputs and outputs.count("image/png") >= 3
    assert "loss=hinge" in outputs


@pytest.mark.slow
def test_compare_at_equal_budget_reads_the_smoke_sweep_and_never_ranks_its_degenerate_trials(
    smoke_sweep: dict, tmp_path: Path
) -> None:
    """compare.py expected_best=true on a real sweep dir, as one variant and grouped by loss:
    the smoke sweep's trials are all degenerate (grey samples after 20 steps), so they count
    as spent trials and none is ranked."""
    out = tmp_path / "budget"
    whole = run_cli("compare", f"runs=[{smoke_sweep['dir']}]", f"out={out}", "expected_best=true")
    assert whole.returncode == 0, whole.stderr[-3000:]
    report = (out / "comparison.md").read_text()
    assert "| `smoke` | 3 (3: 3 degenerate) |" in report
    assert "no score" in report and not (out / "expected_best.png").exists()
    by_loss = run_cli(
        "compare",
        f"runs=[{smoke_sweep['dir']}]",
        f"out={tmp_path / 'by_loss'}",
        "expected_best=true",
        "group_by=model.loss._target_",
    )
    assert by_loss.returncode == 0, by_loss.stderr[-3000:]
    table = pd.read_csv(tmp_path / "by_loss" / "expected_best.csv")
    assert set(table["variant"]) == {"loss=hinge", "loss=least_squares", "loss=non_saturating"}
    assert (table["n_trials"] == 1).all() and table["expected_best"].isna().all()
    verdicts = pd.read_csv(tmp_path / "by_loss" / "budget_verdicts.csv")
    assert (verdicts["budget"] == "k=1").sum() == 3  # one per pair of losses
    assert set(verdicts["verdict"]) == {"cannot be concluded"}


def test_degenerate_trials_are_never_the_best_trial(tmp_path: Path) -> None:
    """Trials at the metric floors, or two settings with one FID (constant output), are
    marked and never best; with none left, no trial is."""
    definition = load_definition("smoke")
    grey = ["IS at its floor of 1 (1.0001)", "precision and recall both 0"]
    rows = [
        {"trial": 0, "status": "ok", "genlab/fid": 60.5, "model.loss._target_": "genlab.losses.HingeLoss"},
        {"trial": 1, "status": "ok", "genlab/fid": 12.5, "model.loss._target_": "genlab.losses.NonSaturatingLoss", "degenerate": grey},
        {"trial": 2, "status": "ok", "genlab/fid": 72.81706657919932, "model.loss._target_": "genlab.losses.LeastSquaresLoss"},
        {"trial": 3, "status": "ok", "genlab/fid": 72.81706657919932, "model.loss._target_": "genlab.losses.MinimaxLoss"},
    ]  # fmt: skip
    study = optuna.create_study()
    for row in rows:
        trial = study.ask()
        trial.set_user_attr("status", "ok")
        trial.set_user_attr("params", {"model.loss._target_": row["model.loss._target_"]})
        trial.set_user_attr("degenerate", row.get("degenerate", []))
        study.tell(trial, row["genlab/fid"])
    table = trial_rows(study, definition)
    assert [bool(r["degenerate"]) for r in table] == [False, True, True, True]
    assert "the same FID as ['genlab.losses.MinimaxLoss'] to 9 digits" in table[2]["degenerate"]
    assert best_row(definition, table)["trial"] == 0
    write_tables(tmp_path, definition, table)
    lines = (tmp_path / "trials.md").read_text().splitlines()
    assert lines[2].startswith("| ⚠ | 1 | ok | 12.5 |") and lines[3].startswith("| ★ | 0 | ok |")
    assert best_row(definition, [r for r in table if r["trial"] != 0]) is None


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wandb_backend_without_a_login_suggests_local(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = sweep_error_in_process(
        ["backend=wandb", f"sweep_dir={tmp_path / 'sweep'}"], capsys, env=sweep_env(tmp_path)
    )
    assert_user_error(result, "wandb login", "backend=local")


def test_wandb_backend_without_a_server_suggests_local(tmp_path: Path) -> None:
    env = {
        "WANDB_API_KEY": "k" * 40,
        "WANDB_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "NETRC": str(tmp_path / "no_netrc"),
    }
    started = time.monotonic()
    result = run_cli(
        "sweep", "backend=wandb", "wandb.timeout_s=2", f"sweep_dir={tmp_path / 'sweep'}", env=env
    )
    assert_user_error(result, "cannot reach the W&B server", "backend=local")
    assert time.monotonic() - started < 60


def test_trial_table_puts_the_best_trial_first_in_short_values(tmp_path: Path) -> None:
    definition = load_definition("smoke")
    rows = [
        {"trial": 0, "status": "ok", "genlab/fid": 30.123456, "model.loss._target_": "genlab.losses.HingeLoss"},
        {"trial": 1, "status": "failed", "genlab/fid": None, "model.loss._target_": "genlab.losses.MinimaxLoss"},
        {"trial": 2, "status": "ok", "genlab/fid": 12.5, "model.loss._target_": "genlab.losses.NonSaturatingLoss"},
    ]  # fmt: skip
    for row in rows:
        row.update(started=1.0e9, ended=1.0e9 + 60, run_dir=str(tmp_path / f"t{row['trial']}"))
    write_tables(tmp_path, definition, rows)
    lines = (tmp_path / "trials.md").read_text().splitlines()
    assert lines[2].startswith("| ★ | 2 | ok | 12.5 | NonSaturatingLoss |")
    assert lines[3].startswith("|  | 0 | ok | 30.12 | HingeLoss |")
    assert lines[4].startswith("|  | 1 | failed |  | MinimaxLoss |")
    csv = pd.read_csv(tmp_path / "trials.csv")
    assert list(csv["trial"]) == [0, 1, 2]  # tools get trial order and full values
    assert csv.loc[0, "model.loss._target_"] == "genlab.losses.HingeLoss"
    assert trial_folder_name(7, {"model.loss._target_": "genlab.losses.HingeLoss"}, definition) == (
        "007_loss-HingeLoss"
    )
