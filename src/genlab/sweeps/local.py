"""backend=local: a sweep definition run by Optuna, with its state in a study storage.

The study (every trial and its state) lives in Optuna's RDB storage: SQLite in the sweep dir by
default, driven by one sweep process, or a database shared by several sweep processes
(``storage=postgresql://...``), each a worker that takes trials from the study's queue. A
killed sweep resumes where it stopped. Each trial is a training process of its own; a trial
that fails is recorded (Optuna's FAIL state, genlab's status beside it) and the sweep goes on.
Ctrl+C or SIGTERM stops the sweep (:mod:`genlab.sweeps.stop`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from genlab.errors import ConfigError
from genlab.job_progress import JobProgress
from genlab.metrics import degenerate
from genlab.naming import folder_name
from genlab.process import give_verdict
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.pruning import EvaluationReader, check_reports, make_pruner
from genlab.sweeps.queue import fill, waiting
from genlab.sweeps.report import write_report
from genlab.sweeps.search_space import grid_size, make_sampler, suggest
from genlab.sweeps.stop import INTERRUPTED, SweepStop
from genlab.sweeps.storage import STORAGE_FILE, SweepStorage, open_storage, retry_callback
from genlab.sweeps.table import swept_parameters, trial_rows, write_tables
from genlab.sweeps.trial import agent_command, child_command, run_trial
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.lock import DirectoryLock, FileMutex

log = logging.getLogger("genlab.sweep")
TRIALS_DIR = "trials"
_DEFINITION_ATTR = "genlab_sweep_definition"
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # the sweep process that runs a trial
_SWEEP_DIR_ATTR = "genlab_sweep_dir"
# Short critical sections shared by all workers of a sweep (files in the sweep dir).
_SETUP_LOCK = ".genlab.setup.lock"  # open the study and fill its queue, one worker at a time
_ASK_LOCK = ".genlab.ask.lock"  # from "is a trial waiting?" to having taken it
_TABLE_LOCK = ".genlab.table.lock"  # read the study and write trials.csv/md


class TrialFailed(Exception):
    """A trial ended without a metric value (failed or diverged): Optuna records it as FAIL."""


@dataclass
class LocalSweep:
    definition: SweepDefinition
    sweep_dir: Path
    count: int | None = None
    workers: int = 1
    resume: bool = False
    seed: int = 0
    overrides: tuple[str, ...] = ()
    cwd: Path = Path(".")
    storage: str | None = None  # None: SQLite in the sweep dir, for this process alone
    study_name: str | None = None  # None: the definition's name
    heartbeat_s: int = 60
    storage_retry_s: float = 600  # shared storage: how long a database outage is waited out
    _progress: JobProgress = field(default_factory=lambda: JobProgress(0), init=False)
    _storage: SweepStorage | None = field(default=None, init=False)
    _local: threading.local = field(default_factory=threading.local, init=False)
    _stop: SweepStop = field(default_factory=SweepStop, init=False)

    @property
    def stopped_by(self) -> signal.Signals | None:
        """The signal that stopped the sweep before its trials were done, or None."""
        return self._stop.received

    def run(self) -> list[dict[str, Any]]:
        """Runs the trials still to run; returns the rows of the sweep's trial table."""
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # A method the engine cannot run is named before anything else is asked of it.
        sampler = make_sampler(self.definition, self.seed)
        make_pruner(self.definition)
        budget = self._budget()
        # Every parameter drawn once in memory: a definition the engine cannot run fails
        # before the sweep dir holds any state.
        params = suggest(optuna.create_study(sampler=sampler).ask(), self.definition)
        self._check_trial_config(params)
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        with self._stop.installed():
            if self.storage is not None:
                return self._run(budget)
            # One engine per SQLite study: a second process would find its running trials
            # stale.
            with DirectoryLock(self.sweep_dir, "sweep dir"):
                return self._run(budget)

    def _run(self, budget: int) -> list[dict[str, Any]]:
        with FileMutex(self.sweep_dir / _SETUP_LOCK):
            storage = self._storage = open_storage(
                self.storage, self.sweep_dir, self.heartbeat_s, self.storage_retry_s
            )
            study = self._study(storage)
            fill(study, self.definition, budget, self.seed)
            self._write_table(study)
        todo = waiting(study)
        log.info(
            "Sweep %s: %d trials to run, %d at a time here (worker %s), in %s (study %s in %s)",
            self.definition.name,
            todo,
            self.workers,
            WORKER,
            self.sweep_dir,
            study.study_name,
            storage.url,
        )
        if todo:
            self._progress = JobProgress(todo, self.workers)
            with ThreadPoolExecutor(self.workers, thread_name_prefix="trial") as pool:
                runs = [pool.submit(self._work, study, storage) for _ in range(self.workers)]
                for future in runs:
                    future.result()
        # A stopped sweep's report waits for its end.
        self._write_table(study, report=not self._stop.requested)
        return trial_rows(study, self.definition)

    def report(self) -> list[Path]:
        """The report of the sweep in the sweep dir (and storage), written again; no trial runs."""
        if self.storage is None and not (self.sweep_dir / STORAGE_FILE).is_file():
            raise ConfigError(f"nothing to report: {self.sweep_dir} holds no sweep study")
        storage = open_storage(self.storage, self.sweep_dir, self.heartbeat_s, self.storage_retry_s)
        name = self.study_name or self.definition.name
        if name not in optuna.study.get_all_study_names(storage.studies):
            raise ConfigError(
                f"nothing to report: {storage.url} holds no sweep {name} (sweep_dir=, storage=)"
            )
        study = optuna.load_study(study_name=name, storage=storage.studies)
        return self._write_table(study, report=True)

    def _work(self, study: optuna.Study, storage: SweepStorage) -> None:
        """Takes trials from the queue until it is empty. With a shared storage it then waits
        while other workers' trials run: one of them may stop sending heartbeats (its worker
        died), and is then queued again and run here."""
        poll_s = max(1.0, self.heartbeat_s / 2)
        while not self._stop.requested:
            with FileMutex(self.sweep_dir / _ASK_LOCK) as ask_lock:
                if storage.shared:
                    _fail_stale_trials(study)
                if waiting(study):
                    # Held until this trial is taken: the objective releases it.
                    self._local.ask_lock = ask_lock
                    study.optimize(
                        self._objective,
                        n_trials=1,
                        catch=(TrialFailed,),
                        callbacks=[self._trial_ended],
                    )
                    continue
                running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not (storage.shared and running):
                return
            time.sleep(poll_s)

    def _study(self, storage: SweepStorage) -> optuna.Study:
        name = self.study_name or self.definition.name
        exists = name in optuna.study.get_all_study_names(storage.studies)
        where = storage.url if storage.shared else str(self.sweep_dir)
        # Workers of a shared study start with one command: the first creates it, the others
        # join. One sweep process owns a SQLite study: starting it again needs resume=true.
        if exists and not self.resume and not storage.shared:
            raise ConfigError(
                f"{self.sweep_dir} already holds sweep {name}: continue it with resume=true, "
                "or choose another sweep_dir=DIR"
            )
        if self.resume and not exists:
            raise ConfigError(
                f"nothing to resume: {where} holds no sweep {name}; start it without resume=true"
            )
        study = optuna.create_study(
            storage=storage.studies,
            study_name=name,
            direction="minimize" if self.definition.minimize else "maximize",
            sampler=self._sampler(storage.shared),
            pruner=make_pruner(self.definition),
            load_if_exists=True,
        )
        stored = study.user_attrs.get(_DEFINITION_ATTR)
        if stored is None:
            study.set_user_attr(_DEFINITION_ATTR, self.definition.config)
            study.set_user_attr(_SWEEP_DIR_ATTR, str(self.sweep_dir.resolve()))
        elif stored != self.definition.config:
            raise ConfigError(
                f"the sweep definition of {name} changed since {where} was started; "
                "resume with the same definition, or start a new sweep_dir=DIR"
            )
        if storage.shared:
            stored_dir = study.user_attrs.get(_SWEEP_DIR_ATTR)
            if stored_dir != str(self.sweep_dir.resolve()):
                raise ConfigError(
                    f"study {name} in {storage.url} belongs to the sweep dir {stored_dir}: "
                    f"give every worker sweep_dir={stored_dir}, or name a new study=NAME"
                )
            if exists:
                log.info("Joining sweep %s in %s", name, storage.url)
            _fail_stale_trials(study)
        else:
            _requeue_interrupted(study, storage.studies)
        return study

    def _sampler(self, shared: bool) -> optuna.samplers.BaseSampler:
        """bayes: TPE chooses each trial's parameters when a worker takes it; grid and random
        trials are enqueued with theirs, so the sampler is never asked."""
        if self.definition.method != "bayes":
            return optuna.samplers.RandomSampler(seed=self.seed)
        if shared:
            # Workers with one seed would draw the same points; the constant liar keeps them
            # off the points that running trials are trying.
            return optuna.samplers.TPESampler(seed=None, constant_liar=True)
        return optuna.samplers.TPESampler(seed=self.seed)

    def _budget(self) -> int:
        if self.count is not None:
            if self.count < 1:
                raise ConfigError(f"count must be >= 1, got {self.count}")
            return self.count
        if self.definition.method == "grid":
            return grid_size(self.definition)
        if "run_cap" in self.definition.config:
            return int(self.definition.config["run_cap"])
        raise ConfigError(
            f"sweep {self.definition.name} ({self.definition.method}) has no end: "
            "give count=N (or run_cap: N in its definition)"
        )

    def _check_trial_config(self, params: dict[str, Any]) -> None:
        """One trial's command composed by the training app (``--cfg job``: nothing runs), so a
        parameter path the train config lacks (``model.lattent_dim``) stops the sweep before
        its first trial instead of failing every trial."""
        if not (self.cwd / self.definition.program).is_file():
            raise ConfigError(
                f"sweep {self.definition.name}: its program {self.definition.program} is not in "
                f"{self.cwd.resolve()}: run sweep.py from the repository root, or give the "
                "definition a `program:` path"
            )
        command = agent_command(
            self.definition, params, interpreter=sys.executable, env_prefix=(),
            overrides=self.overrides,
        )  # fmt: skip
        env = {key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"}
        composed = subprocess.run(
            [*command, "--cfg", "job"],
            cwd=self.cwd, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if composed.returncode != 0:
            reason = "; ".join(
                line.strip()
                for line in composed.stderr.splitlines()
                if line.strip() and "HYDRA_FULL_ERROR" not in line
            )
            raise ConfigError(
                f"sweep {self.definition.name}: its trials' command does not compose "
                f"({reason}); fix the parameter names in the definition (they are override "
                "paths of the train config: python scripts/train.py --cfg job lists them)"
            )
        check_reports(self.definition, yaml.safe_load(composed.stdout) or {})

    def _trial_ended(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """An interrupted trial is queued again with its parameters (the table's ``retry_of``
        names it), as one a killed sweep left running is on resume."""
        if trial.user_attrs.get("status") == INTERRUPTED:
            retry_callback()(study, trial)
        self._write_table(study)

    def _objective(self, trial: optuna.Trial) -> float:
        self._local.ask_lock.release()  # the trial is taken: the next worker may ask
        if self._stop.requested:  # taken as the stop came: it has not started
            trial.set_user_attr("status", INTERRUPTED)
            raise TrialFailed(f"trial {trial.number}: not started, the sweep was stopped")
        params = suggest(trial, self.definition)
        run_dir = (
            self.sweep_dir / TRIALS_DIR / trial_folder_name(trial.number, params, self.definition)
        )
        launch = agent_command(
            self.definition,
            params,
            interpreter=sys.executable,
            env_prefix=(),
            overrides=self.overrides,
        )
        command = child_command(
            launch, [f"run_name={self.definition.name}_trial{trial.number:03d}"], run_dir
        )
        trial.set_user_attr("params", params)
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("command", command)
        trial.set_user_attr("started", _now())
        trial.set_user_attr("worker", WORKER)
        trial.set_user_attr("status", "running")
        self._write_table(trial.study)
        log.info("%s Trial %d: %s", self._progress.start(), trial.number, " ".join(command[2:]))
        reports = _Reports(
            trial, EvaluationReader(run_dir / HISTORY_FILE, self.definition.summary_key)
        )

        def should_stop() -> tuple[str, str] | None:
            self._check_storage()
            return self._stop.trial_stop() or reports.should_stop()

        outcome = run_trial(
            command,
            run_dir,
            self.cwd,
            should_stop=should_stop,
            judged=bool(self.definition.config.get("early_terminate")),
        )
        reports.should_stop()  # the evaluations written after the last look
        if self._stop.requested and outcome.status not in ("ok", "pruned"):
            outcome.status = INTERRUPTED  # however the stop reached it
        trial.set_user_attr("ended", _now())
        trial.set_user_attr("status", outcome.status)
        trial.set_user_attr("exit_code", outcome.exit_code)
        trial.set_user_attr("wall_s", round(outcome.wall_s, 1))
        trial.set_user_attr("step", outcome.summary.get("global_step", reports.step))
        if outcome.error:
            trial.set_user_attr("error", outcome.error[:500])
        trial.set_user_attr(degenerate.DEGENERATE_KEY, degenerate.reasons(outcome.summary))
        value = outcome.summary.get(self.definition.summary_key)
        if outcome.status == "pruned":
            value, step = reports.value, reports.step
            trial.set_user_attr("step", step)
        log.info(
            "Trial %d: %s, %s=%s (%s)",
            trial.number,
            outcome.status if outcome.status != "pruned" else f"pruned at step {reports.step}",
            self.definition.summary_key,
            "n/a" if value is None else f"{value:.4g}",
            self._progress.finish(outcome.wall_s),
        )
        if outcome.status == "pruned":
            # Optuna records the trial PRUNED with its last reported value.
            raise optuna.TrialPruned(outcome.error)
        if outcome.status != "ok" or value is None:
            raise TrialFailed(f"trial {trial.number}: {outcome.status}: {outcome.error}")
        return float(value)

    def _check_storage(self) -> None:
        """Raises StorageUnavailable once the worker stopped waiting for its database: the
        trial is stopped (it saves ``last.ckpt``) rather than trained on to an end it cannot
        record."""
        if self._storage is not None:
            self._storage.check()

    def _write_table(self, study: optuna.Study, report: bool = False) -> list[Path]:
        """trials.csv and trials.md, and with ``report`` the report's PNGs; returns those."""
        # Read and written under one lock: a worker's older view never replaces a newer one.
        with FileMutex(self.sweep_dir / _TABLE_LOCK):
            write_tables(self.sweep_dir, self.definition, trial_rows(study, self.definition))
            if not report:
                return []
            written = write_report(study, self.definition, self.sweep_dir)
        log.info("Sweep report: %s", ", ".join(p.name for p in written) or "nothing to plot yet")
        return written


class _Reports:
    """A running trial's evaluations reported to Optuna as they appear (the evaluation's number
    is the step Optuna's pruner counts, as W&B counts a metric's logged values); the pruner's
    verdict stops the trial, or lets it go on past the evaluations read (the trial waits for
    that when the sweep prunes)."""

    def __init__(self, trial: optuna.Trial, reader: EvaluationReader) -> None:
        self.trial = trial
        self.reader = reader
        self.step: int | None = None  # training step and value of the last evaluation
        self.value: float | None = None
        self._pruned = False

    def should_stop(self) -> tuple[str, str] | None:
        for number, step, value in self.reader.new():
            self.trial.report(value, number)
            self.step, self.value = step, value
            if not self._pruned and self.trial.should_prune():
                self._pruned = True
                return (
                    "pruned",
                    f"pruned by the sweep at step {step}: {self.reader.key}={value:.4g} at "
                    f"evaluation {number} was not among the best (early_terminate)",
                )
        if self.reader.last_step >= 0 and not self._pruned:
            give_verdict(self.reader.path.parent, self.reader.last_step)
        return None


def _requeue_interrupted(study: optuna.Study, storage: optuna.storages.BaseStorage) -> None:
    """Trials left RUNNING by a killed sweep are marked failed (`interrupted`) and queued again
    by Optuna's RetryHeartbeatStaleTrialCallback, as Optuna does for trials whose heartbeat stopped:
    a SQLite study is run by one sweep process at a time, so every RUNNING trial is stale."""
    retry = retry_callback()
    study_id = storage.get_study_id_from_name(study.study_name)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "status", "interrupted")
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        retry(study, storage.get_trial(trial_id))
        log.info("Trial %d was interrupted: queued again", trial.number)


def _fail_stale_trials(study: optuna.Study) -> None:
    """Optuna's check of the heartbeats: a trial whose worker died is failed and queued again."""
    with warnings.catch_warnings():  # experimental in Optuna, stable in use
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def trial_folder_name(number: int, params: dict[str, Any], definition: SweepDefinition) -> str:
    """``007_loss-HingeLoss_lr-0.0002``: the trial's number and the values that tell it apart
    (no ``=``: the folder is passed to the trial as a Hydra override value)."""
    values = ((name, params.get(name)) for name in swept_parameters(definition))
    return folder_name(f"{number:03d}", values, definition.name)


def _now() -> float:
    return round(time.time(), 3)
