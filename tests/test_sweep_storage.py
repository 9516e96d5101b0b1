"""A sweep shared by several workers: the study's queue (budget, grid points, random draws), a
real PostgreSQL server with two worker processes, one killed with SIGKILL mid-trial, the
storage errors a user meets, and the database password kept out of everything genlab writes
and prints."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from genlab.paths import config_dir
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.queue import fill, planned_params, waiting
from tests.helpers import (
    REPO,
    assert_user_error,
    cli_env,
    load_definition,
    require,
    run_cli,
    sweep_env,
    sweep_error_in_process,
    trials,
)
from tests.postgres import postgres_bin, postgres_server


def postgres() -> Path:
    bin_dir = postgres_bin()
    require(bin_dir is not None, "PostgreSQL is not installed (apt-get install postgresql)")
    assert bin_dir is not None
    return bin_dir


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server(postgres()) as server:
        yield server.url


def seed_sweep(tmp_path: Path, name: str, seeds: list[int]) -> list[str]:
    """The smoke sweep's fixed settings over ``seeds``, as definition ``name`` in a config
    folder of the test; returns the overrides that select it."""
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    smoke = load_definition("smoke").config
    fixed = {k: v for k, v in smoke["parameters"].items() if "value" in v}
    definition = {**smoke, "name": name, "parameters": {**fixed, "seed": {"values": seeds}}}
    (definitions / f"{name}.yaml").write_text(yaml.safe_dump(definition))
    return [f"sweep={name}", f"hydra.searchpath=[file://{tmp_path / 'conf'}]"]


def definition(method: str, **parameters: dict) -> SweepDefinition:
    return SweepDefinition.from_dict(
        {
            "name": "queue",
            "method": method,
            "metric": {"name": "genlab/fid", "goal": "minimize"},
            "parameters": {"debug": {"value": "fast"}, **parameters},
        },
        "queue",
    )


# --- the queue: the budget, enqueued once -------------------------------------------------


def test_the_grid_is_enqueued_once_in_its_order_and_topped_up_to_a_larger_count() -> None:
    grid = definition("grid", lr={"values": [0.1, 0.2]}, width={"values": [8, 16]})
    study = optuna.create_study()
    assert fill(study, grid, budget=4, seed=0) == 4
    assert fill(study, grid, budget=4, seed=0) == 0  # a second worker adds nothing
    points = [planned_params(t) for t in study.get_trials()]
    assert points == [
        {"lr": 0.1, "width": 8}, {"lr": 0.1, "width": 16},
        {"lr": 0.2, "width": 8}, {"lr": 0.2, "width": 16},
    ]  # fmt: skip
    # A budget smaller than the grid: a seeded sample of its points, in the grid's order.
    small = optuna.create_study()
    fill(small, grid, budget=2, seed=3)
    again = optuna.create_study()
    fill(again, grid, budget=2, seed=3)
    first = [planned_params(t) for t in small.get_trials()]
    assert first == [planned_params(t) for t in again.get_trials()]
    assert len({tuple(p.values()) for p in first}) == 2
    # Resumed with the whole grid: only the two points not yet held are added.
    assert fill(small, grid, budget=10, seed=3) == 2
    held = {tuple(planned_params(t).values()) for t in small.get_trials()}
    assert len(held) == 4 and waiting(small) == 4


def test_random_draws_are_fixed_by_the_seed_and_bayes_trials_by_the_sampler() -> None:
    space = {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}}
    draws = []
    for _ in range(2):
        study = optuna.create_study()
        fill(study, definition("random", **space), budget=3, seed=7)
        draws.append([planned_params(t)["lr"] for t in study.get_trials()])
    assert draws[0] == draws[1] and len(set(draws[0])) == 3
    assert all(1e-5 <= lr <= 1e-2 for lr in draws[0])
    bayes = optuna.create_study()
    assert fill(bayes, definition("bayes", **space), budget=3, seed=0) == 3
    assert [planned_params(t) for t in bayes.get_trials()] == [{}, {}, {}]
    # A taken trial gets its parameters from the sampler; the queue shrinks by one.
    trial = bayes.ask()
    assert 1e-5 <= trial.suggest_float("lr", 1e-5, 1e-2, log=True) <= 1e-2
    assert waiting(bayes) == 2


# --- storage errors -------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        (
            "postgresql://genlab@127.0.0.1:{port}/sweeps",
            ["cannot open the sweep storage", "127.0.0.1", "~/.pgpass", "server runs"],
        ),
        ("nosuchdb://host/db", ["cannot open the sweep storage nosuchdb://host/db"]),
    ],
    ids=["unreachable", "malformed"],
)
def test_a_storage_that_cannot_be_opened_is_one_line(
    url: str, fragments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = sweep_error_in_process(
        ["backend=local", f"storage={url.format(port=closed_port())}",
         f"sweep_dir={tmp_path / 'sweep'}"],
        capsys,
        env=sweep_env(tmp_path),
    )  # fmt: skip
    assert_user_error(result, *fragments)


# --- two workers on one PostgreSQL study, one killed mid-trial ----------------------------------


def start_worker(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "sweep.py"), *args],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():  # experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def running_trial(sweep_dir: Path, worker: subprocess.Popen, log: Path) -> int:
    """The number of a trial ``worker`` runs, once its run dir has the training app's output."""
    started = time.monotonic()
    while True:
        assert worker.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() - started < 300, "the worker ran no trial in 300 s"
        time.sleep(0.5)
        if not (sweep_dir / "trials.csv").is_file():
            continue
        table = trials(sweep_dir)
        mine = table[
            (table["status"] == "running")
            & table["worker"].astype(str).str.endswith(f":{worker.pid}")
        ]
        if len(mine) and (Path(mine.iloc[0]["run_dir"]) / "console.log").is_file():
            time.sleep(2.0)
            return int(mine.iloc[0]["trial"])


def wait_for(condition: Callable[[], bool], worker: subprocess.Popen, log: Path) -> None:
    """Until ``condition`` holds, while ``worker`` runs (at most 120 s)."""
    started = time.monotonic()
    while not condition():
        assert worker.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() - started < 120, log.read_text()[-3000:]
        time.sleep(0.5)


@pytest.mark.slow
def test_two_workers_share_a_postgresql_study_and_retry_a_killed_workers_trial(
    postgres_url: str, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Four seeds of a tiny GAN, two worker processes started with one command. Worker B is
    killed with SIGKILL (and its trial with it) while its trial trains; worker A sees the
    trial's heartbeat stop, and runs it again."""
    sweep_dir = tmp_path / "sweep"
    args = [
        *seed_sweep(tmp_path, "shared", [0, 1, 2, 3]), "backend=local",
        f"storage={postgres_url}", "heartbeat_s=1", f"sweep_dir={sweep_dir}",
        f'overrides=["data.root={fashion_mnist_root}"]',
    ]  # fmt: skip
    env = {**cli_env(), **sweep_env(tmp_path)}
    a = start_worker(args, env, tmp_path / "a.log")
    b = start_worker(args, env, tmp_path / "b.log")
    try:
        victim = running_trial(sweep_dir, b, tmp_path / "b.log")
        os.killpg(b.pid, signal.SIGKILL)
        b.wait()
        # Minutes on an idle machine; the limit leaves room for a busy one.
        assert a.wait(timeout=1500) == 0, (tmp_path / "a.log").read_text()[-5000:]
    finally:
        for worker in (a, b):
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)

    table = trials(sweep_dir).set_index("trial")
    assert table.loc[victim, "status"] == "interrupted"
    ok = table[table["status"] == "ok"]
    assert sorted(ok["seed"]) == [0, 1, 2, 3]  # every trial of the budget once, to its end
    assert len(table) == 5  # and the interrupted one, listed
    retry = ok[ok["retry_of"] == victim]
    assert len(retry) == 1 and retry.iloc[0]["seed"] == table.loc[victim, "seed"]
    assert retry.iloc[0]["worker"].endswith(f":{a.pid}")
    assert set(ok["worker"].str.rsplit(":", n=1).str[1]) <= {str(a.pid), str(b.pid)}
    for run_dir in ok["run_dir"]:
        assert (Path(run_dir) / "summary.json").is_file()
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert sorted(t.params["seed"] for t in complete) == [0, 1, 2, 3]
    assert [t.number for t in study.get_trials(states=(optuna.trial.TrialState.FAIL,))] == [victim]
    assert not study.get_trials(
        states=(optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)
    )
    # A worker started later finds the sweep done and runs nothing; resume=true too.
    again = run_cli("sweep", *args[:-1], "resume=true", args[-1], env=sweep_env(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(trials(sweep_dir)) == 5
    elsewhere = run_cli("sweep", *args[:-2], f"sweep_dir={tmp_path / 'other'}", args[-1])
    assert_user_error(elsewhere, "belongs to the sweep dir", str(sweep_dir))


# --- a database outage: waited out, the trial recorded when the database is back ---------------


@pytest.mark.slow
def test_a_worker_waits_out_a_database_outage_and_records_the_trial_that_ran_through_it(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """One trial, a worker with two slots: one runs the trial, the other waits for it to end
    (and would run it again if its heartbeat stopped). The PostgreSQL server stops while the
    trial trains, longer than the heartbeat's grace period, and starts again. The worker says
    so once per attempt to reach it, the trial trains on, and when the server is back it is
    recorded as if nothing happened: no traceback, and the waiting slot does not take the
    trial for dead although its last heartbeat is old."""
    sweep_dir = tmp_path / "sweep"
    log = tmp_path / "worker.log"
    with postgres_server(postgres()) as server:
        args = [
            *seed_sweep(tmp_path, "outage", [0]), "backend=local", f"storage={server.url}",
            "workers=2", "heartbeat_s=2", "storage_retry_s=300", f"sweep_dir={sweep_dir}",
            f'overrides=["data.root={fashion_mnist_root}"]',
        ]  # fmt: skip
        worker = start_worker(args, {**cli_env(), **sweep_env(tmp_path)}, log)
        try:
            trial = running_trial(sweep_dir, worker, log)
            server.stop()
            # 2 x heartbeat_s = 4 s of grace: the outage outlasts it.
            wait_for(lambda: log.read_text().count("is unreachable") >= 6, worker, log)
            server.start()
            assert worker.wait(timeout=900) == 0, log.read_text()[-3000:]
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        study = optuna.load_study(study_name="outage", storage=server.url)
        assert [(t.number, t.state) for t in study.get_trials()] == [
            (trial, optuna.trial.TrialState.COMPLETE)
        ]
    output = log.read_text()
    assert "Traceback" not in output, output[-5000:]
    attempts = [line for line in output.splitlines() if "is unreachable" in line]
    assert "Connection refused" in attempts[0] and "attempt 1," in attempts[0], attempts
    assert "is back after" in output
    table = trials(sweep_dir)
    assert list(table["status"]) == ["ok"] and table["retry_of"].isna().all()
    summary = json.loads((sweep_dir / table.iloc[0]["run_dir"] / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["global_step"] == 20


def test_after_an_outage_no_trial_counts_as_dead_before_its_worker_could_beat_again(
    tmp_path: Path,
) -> None:
    """A worker asks which trials are dead while the database is away. When it is back, the
    running trial's last heartbeat is older than the grace period, only because nobody could
    write one: the answer is none. Once the grace period has passed without a heartbeat, the
    trial counts as dead again."""
    from genlab.sweeps.storage import open_storage

    with postgres_server(postgres()) as server:
        storage = open_storage(server.url, tmp_path, heartbeat_s=1, retry_s=60)
        study = optuna.create_study(storage=storage.studies, study_name="outage")
        with warnings.catch_warnings():  # a trial asked for outside Study.optimize
            warnings.simplefilter("ignore", UserWarning)
            trial = study.ask()
        study_id = storage.studies.get_study_id_from_name("outage")
        storage.studies.record_heartbeat(
            storage.studies.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        )
        server.stop()
        with ThreadPoolExecutor(1) as pool:
            asking = pool.submit(fail_stale_trials, study)
            time.sleep(4)  # twice the grace period of 2 x heartbeat_s
            server.start()
            asking.result(timeout=60)  # waited for the database, then answered
        assert study.get_trials()[0].state == optuna.trial.TrialState.RUNNING
        time.sleep(2.5)  # the grace period, without a heartbeat: the worker is dead
        fail_stale_trials(study)
        assert study.get_trials()[0].state == optuna.trial.TrialState.FAIL


# --- the database password: never in the URL, so never in a file or an output ------------------

PASSWORD = "pw-Kq7x-at-rest"  # distinctive: a file or an output holding it is a leak


@pytest.mark.parametrize(
    "storage",
    [
        ["storage=postgresql://genlab:{password}@127.0.0.1:{port}/sweeps"],
        # the job array of docs/scaling_out.md: Hydra would write multirun.yaml and submitit
        # would pickle the config into the sweep dir
        ["-m", "hydra/launcher=slurm_local", "worker=range(2)",
         "storage=postgresql://genlab:{password}@127.0.0.1:{port}/sweeps"],
        # swept: left out of the composed config of -m, composed into each job's
        ["-m", "storage=sqlite:///{tmp}/x.db,postgresql://genlab:{password}@127.0.0.1:{port}/db"],
        ["storage='postgresql://genlab@127.0.0.1:{port}/sweeps?password={password}'"],
        # as a config file would give it: only the composed config holds the password
        ["storage=${{oc.env:SWEEP_DB}}"],
    ],
    ids=["url", "slurm_array", "swept", "query", "composed"],
)  # fmt: skip
def test_a_password_in_the_storage_url_is_refused_before_anything_is_written(
    storage: list[str], tmp_path: Path
) -> None:
    sweep_dir = tmp_path / "sweep"
    port = closed_port()
    args = [arg.format(password=PASSWORD, port=port, tmp=tmp_path) for arg in storage]
    env = {**sweep_env(tmp_path), "SWEEP_DB": f"postgresql://genlab:{PASSWORD}@127.0.0.1:{port}/db"}
    result = run_cli("sweep", *args, "backend=local", f"sweep_dir={sweep_dir}", env=env)
    assert_user_error(result, "storage= holds a database password", "~/.pgpass", "PGPASSWORD")
    assert PASSWORD not in result.stdout + result.stderr
    assert not sweep_dir.exists() and not (tmp_path / "x.db").exists()


@pytest.mark.slow
def test_a_shared_sweep_writes_and_prints_no_database_password_when_its_database_stops(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """A PostgreSQL server that asks for a password. In the URL, as the docs once showed it:
    refused. From PGPASSWORD: a worker runs until the server stops mid-trial and stays away
    longer than the worker waits, which ends the worker with one error line. After the
    restart, from a password file (PGPASSFILE, as ~/.pgpass): a worker runs the trial again to
    its end. From a service file: a worker started later finds the sweep done. No file of the
    sweep dir (the .hydra records, logs, tables, trial run dirs and their W&B runs) and no
    output holds the password."""
    sweep_dir = tmp_path / "sweep"
    args = [
        *seed_sweep(tmp_path, "secret", [0]), "backend=local", "heartbeat_s=1",
        f"sweep_dir={sweep_dir}", f'overrides=["data.root={fashion_mnist_root}"]',
    ]  # fmt: skip
    secrets = tmp_path / "secrets"  # the user's own files, outside the sweep dir
    secrets.mkdir(mode=0o700)
    outputs: list[str] = []
    with postgres_server(postgres(), password=PASSWORD) as server:
        in_url = server.url.replace("genlab@", f"genlab:{PASSWORD}@")
        refused = run_cli("sweep", *args, f"storage={in_url}", env=sweep_env(tmp_path))
        outputs += [refused.stdout, refused.stderr]
        assert_user_error(refused, "storage= holds a database password")
        assert not sweep_dir.exists()

        log = tmp_path / "first_worker.log"
        env = {**cli_env(), **sweep_env(tmp_path), "PGPASSWORD": PASSWORD}
        worker = start_worker([*args, f"storage={server.url}", "storage_retry_s=3"], env, log)
        try:
            running_trial(sweep_dir, worker, log)
            # Training, with its W&B run: the outage reaches every kind of file a trial writes.
            wait_for(lambda: any(sweep_dir.glob("trials/*/wandb/offline-run-*")), worker, log)
            server.stop()
            assert worker.wait(timeout=120) == 2, log.read_text()[-3000:]
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        outputs.append(log.read_text())
        errors = [line for line in outputs[-1].splitlines() if line.startswith("genlab: error:")]
        assert len(errors) == 1 and "has been unreachable for" in errors[0], outputs[-1][-3000:]
        assert "Traceback" not in outputs[-1], outputs[-1][-3000:]
        server.start()

        password_file = secrets / "pgpass"
        password_file.write_text(f"127.0.0.1:{server.port}:sweeps:genlab:{PASSWORD}\n")
        password_file.chmod(0o600)  # libpq ignores a password file others can read
        from_file = {**sweep_env(tmp_path), "PGPASSFILE": str(password_file)}
        rerun = run_cli("sweep", *args, f"storage={server.url}", env=from_file)
        outputs += [rerun.stdout, rerun.stderr]
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert sorted(trials(sweep_dir)["status"]) == ["interrupted", "ok"]

        service_file = secrets / "pg_service.conf"
        service_file.write_text(
            f"[genlab_sweeps]\nhost=127.0.0.1\nport={server.port}\ndbname=sweeps\nuser=genlab\n"
        )
        service = 'storage="postgresql:///?service=genlab_sweeps"'  # quoted: Hydra reads '='
        late = run_cli(
            "sweep", *args, service, env={**from_file, "PGSERVICEFILE": str(service_file)}
        )
        outputs += [late.stdout, late.stderr]
        assert late.returncode == 0, late.stderr[-3000:]
        assert "secret: 0 trials to run" in late.stdout + late.stderr

    # Every place the password could have reached exists, and none holds it.
    assert (sweep_dir / ".hydra" / "overrides.yaml").is_file() and (
        sweep_dir / "sweep.log"
    ).is_file()
    assert len(list(sweep_dir.glob("trials/*/wandb/offline-run-*/run-*.wandb"))) == 2
    leaks = [
        path for path in sweep_dir.rglob("*")
        if path.is_file() and PASSWORD.encode() in path.read_bytes()
    ]  # fmt: skip
    assert leaks == []
    assert not [output for output in outputs if PASSWORD in output]


# --- a job array of workers through submitit ------------------------------------------------------


def test_the_slurm_launcher_gives_each_sweep_worker_one_gpu_and_a_log_folder() -> None:
    GlobalHydra.instance().clear()
    overrides = ["hydra/launcher=slurm", "worker=3", "sweep_dir=/shared/sweeps/s"]
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose("sweep", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (1, 1, 1)
    assert (cfg.hydra.sweep.dir, cfg.hydra.sweep.subdir) == ("/shared/sweeps/s", "workers/3")


@pytest.mark.slow
def test_a_submitit_job_array_runs_two_workers_on_one_study(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """`-m hydra/launcher=slurm_local worker=0,1`: submitit's local executor starts the two
    workers as the jobs of one array (as SLURM would), both on one study (here a SQLite file,
    which several processes of one machine may share)."""
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "sweep", "-m", "hydra/launcher=slurm_local", "worker=0,1",
        *seed_sweep(tmp_path, "array", [0, 1]), "backend=local",
        f"storage=sqlite:///{tmp_path / 'study.db'}", "heartbeat_s=5", f"sweep_dir={sweep_dir}",
        f'overrides=["data.root={fashion_mnist_root}"]',
        env={**sweep_env(tmp_path), "GENLAB_SUBMITIT_DIR": str(tmp_path / "jobs")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    table = trials(sweep_dir)
    assert sorted(table["seed"]) == [0, 1] and set(table["status"]) == {"ok"}
    logs = [(sweep_dir / "workers" / str(n) / "sweep.log").read_text() for n in (0, 1)]
    assert all("study array in sqlite:///" in log for log in logs), logs
    assert table["worker"].nunique() == 2  # each worker ran one of the two trials
    assert len(list((tmp_path / "jobs").glob("*/*_log.out"))) == 2  # submitit's jobs
    assert not list(sweep_dir.rglob("*.pkl"))  # its job files are not in the shared sweep dir
