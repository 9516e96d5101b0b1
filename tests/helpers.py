"""What the test modules share besides fixtures (those live in conftest.py): the checkout's
places, the config groups' options, composing configs, running the scripts as a user does and
reading what a run leaves behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from genlab import __version__
from genlab.config import compose_train_config
from genlab.machine import SPEED_FLAGS
from genlab.paths import config_dir, git_sha

if TYPE_CHECKING:
    from genlab.sweeps.definition import SweepDefinition

REPO = Path(__file__).resolve().parents[1]
CONF = config_dir()
FASHION_MNIST_MIRROR = Path("/usr/share/datasets/fashion-mnist")
# The metric keys summary.json and evaluate.py report (the contract's names).
REPORTED_METRICS = {
    "fid", "is_mean", "is_std", "kid_mean", "kid_std", "precision", "recall", "density", "coverage",
}  # fmt: skip
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The modules of genlab.cli that are Hydra apps, each with its scripts/<module>.py.
HYDRA_APPS = [
    "train", "sample", "evaluate", "sweep", "reproduce", "train_extractor", "calibrate_metrics",
    "compare",
]  # fmt: skip

SMALL_GAN = ["model.generator.width=16", "model.discriminator.width=16"]
SMALL_VAE = ["model.encoder.trunk.width=16", "model.decoder.width=16"]
ADVERSARIAL_LOSSES = ["train/d_loss", "train/g_loss"]

compose_train = compose_train_config


def require(condition: bool, reason: str) -> None:
    """Skip locally when a prerequisite is missing; fail in CI, which must provide it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this prerequisite: {reason}")
    pytest.skip(reason)


# --- configs -------------------------------------------------------------------------------


def config_options(group: str) -> list[str]:
    """The group's options, with those in sub-folders (``experiment=lucic2018/...``); files
    starting with ``_`` are shared parts, not options."""
    return sorted(
        p.relative_to(CONF / group).with_suffix("").as_posix()
        for p in (CONF / group).rglob("*.yaml")
        if not p.name.startswith("_") and ((CONF / group) == p.parent or group == "experiment")
    )


def model_options() -> list[str]:
    """The model families (conf/model/*.yaml): a new file there is trained by the tests."""
    return config_options("model")


def compose_app(name: str, overrides: list[str]) -> DictConfig:
    """The config of the Hydra app ``name`` (conf/<name>.yaml), with its hydra node."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose(name, overrides=overrides, return_hydra_config=True)


def app_task_config(name: str, overrides: list[str]) -> DictConfig:
    """The config the Hydra app ``name`` hands its task: composed, Hydra's runtime config set
    (read through HydraConfig), without the hydra node."""
    cfg = compose_app(name, overrides)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def small_networks(cfg: DictConfig, width: int = 16) -> DictConfig:
    """cfg with every network of its model at ``width`` channels, whatever the family."""

    def shrink(node: DictConfig) -> None:
        for key in node:
            if key == "width":
                node[key] = width
            elif OmegaConf.is_dict(node._get_node(key)):
                shrink(node[key])

    shrink(cfg.model)
    return cfg


def load_definition(name: str) -> SweepDefinition:
    from genlab.sweeps.definition import SweepDefinition  # jsonschema: only where needed

    cfg = compose_app("sweep", [f"sweep={name}"])
    return SweepDefinition.from_dict(OmegaConf.to_container(cfg.sweep), name)


# --- running the scripts ---------------------------------------------------------------------


def cli_env() -> dict[str, str]:
    """This process's environment for a script: W&B offline and quiet, Hydra's short errors."""
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    env.pop("HYDRA_FULL_ERROR", None)
    # Set by runs trained in this test process (their own staging folder), not by the user.
    env.pop("WANDB_DATA_DIR", None)
    return env


def run_cli(
    script: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs scripts/<script>.py in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / f"{script}.py"), *args],
        cwd=cwd or REPO,
        env={**cli_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def sweep_env(tmp: Path) -> dict[str, str]:
    """No W&B key anywhere: backend=auto must choose local."""
    return {"NETRC": str(tmp / "no_netrc"), "WANDB_API_KEY": ""}


# --- the documented commands, as a user runs them in a fresh clone ----------------------------

# The pages that show commands to users.
DOCUMENTED_PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def make_fresh_clone(destination: Path) -> Path:
    """A ``git clone`` of this repository (its committed files: commit before running the
    tests that use it) with ``.venv`` linked to the virtual environment running the tests,
    as ``make setup`` would have made it: set up after the checkout, so scripts/setup.sh
    finds it up to date and installs nothing."""
    require(sys.prefix != sys.base_prefix, "the tests run inside genlab's virtual environment")
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(destination)], check=True)
    (destination / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    stamp = Path(sys.prefix) / ".genlab-installed"
    if stamp.is_file():
        installed = stamp.stat().st_mtime - 60
        for name in ("pyproject.toml", "scripts/setup.sh"):
            os.utime(destination / name, (installed, installed))
    return destination


def as_written_env(clone: Path) -> dict[str, str]:
    """A user's shell after ``source .venv/bin/activate`` in ``clone``: no genlab, Hydra or
    W&B variables and no W&B login (the README's sweeps run locally then). The clone's own
    sources come first on the path: the environment's genlab is installed from another
    checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GENLAB_", "WANDB_", "HYDRA_")) and key != "PYTHONPATH"
    }
    venv = clone / ".venv"
    return {
        **env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(clone / "src"),
        "NETRC": str(clone.parent / "no_netrc"),
    }


def documented(command: str) -> str:
    """``command``, which README.md or a page of docs/ shows as it is."""
    assert any(command in page.read_text() for page in DOCUMENTED_PAGES), (
        f"no page documents {command!r}"
    )
    return command


def run_as_written(
    clone: Path, command: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``command`` typed into a shell at the root of ``clone`` (:func:`as_written_env`)."""
    assert shutil.which("bash"), "bash runs the documented commands"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=as_written_env(clone),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


_WARNING_OR_TRACEBACK = re.compile(r"warn|traceback", re.IGNORECASE)


def warning_lines(console: str) -> list[str]:
    """The lines of ``console`` that warn (Python's warnings, Hydra's, W&B's, Lightning's or
    genlab's) or belong to a traceback."""
    return [line for line in console.splitlines() if _WARNING_OR_TRACEBACK.search(line)]


def assert_clean_console(result: subprocess.CompletedProcess[str]) -> str:
    """A command that succeeded with no warning and no traceback on its console; returns the
    console."""
    console = result.stdout + result.stderr
    assert result.returncode == 0, console[-5000:]
    assert warning_lines(console) == [], "\n".join(warning_lines(console))
    return console


def printed_path(console: str, label: str) -> Path:
    """The path after ``label`` on a line of the console (``run dir:     /path``)."""
    match = re.search(rf"^{re.escape(label)}\s+(\S+)", console, re.MULTILINE)
    assert match, f"no {label!r} line:\n{console[-3000:]}"
    return Path(match[1])


def execute_notebook(name: str, workdir: Path) -> str:
    """Runs notebooks/<name> headless from workdir (its kernel sees this process's
    environment); returns the cells' outputs as JSON text. Notebooks are committed with their
    outputs stripped."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "notebooks are committed with outputs stripped"
    )
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(workdir)}}).execute()
    return json.dumps([c.get("outputs", []) for c in notebook.cells])


# --- what runs leave behind -------------------------------------------------------------------


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2, one 'genlab: error:' line naming the fix, and no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("genlab: error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def user_error_in_process(
    task: Callable[[DictConfig], Any], cfg: DictConfig, capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """What an app runs once Hydra composed its config, ``report_user_errors(task)(cfg)``, in
    this process: its exit status and stderr, for :func:`assert_user_error`. The CLI's wiring
    (Hydra, the script, the exit status of the process) is checked by the subprocess tests."""
    from genlab.cli.app import report_user_errors

    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        report_user_errors(task)(cfg)
    captured = capsys.readouterr()
    return subprocess.CompletedProcess([], exited.value.code, captured.out, captured.err)


def sweep_error_in_process(
    overrides: list[str],
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """:func:`user_error_in_process` for genlab-sweep with ``overrides`` (and the variables
    ``env`` sets): its task (``main`` as written, before hydra_app wraps it: the override types
    checked, then the sweep) run while Hydra is initialized, as in the app, where the type check
    composes the defaults. What happens before the task, Hydra's callbacks (a storage password,
    a busy sweep dir) and a config file's YAML errors, is checked by subprocess tests."""
    from genlab.cli.sweep import main

    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        cfg = app_task_config("sweep", overrides)
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
            return user_error_in_process(main.__wrapped__, cfg, capsys)


def assert_no_good_run(run: Path) -> None:
    """A rejected run leaves no checkpoint and no summary that could pass for a result."""
    assert not (run / "checkpoints").exists()
    summary = run / "summary.json"
    assert not summary.exists() or json.loads(summary.read_text())["status"] != "ok"


def csv_losses(run: Path) -> pd.DataFrame:
    """Per-batch losses of a GAN run with logger=csv and trainer.log_every_n_steps=1."""
    frame = pd.read_csv(run / "csv" / "metrics.csv")
    return frame.dropna(subset=ADVERSARIAL_LOSSES).set_index("step")[ADVERSARIAL_LOSSES]


def trials(sweep_dir: Path) -> pd.DataFrame:
    return pd.read_csv(sweep_dir / "trials.csv")


def assert_machine_block(block: dict[str, Any], precision: str | None, threads: int) -> None:
    """A machine block (genlab.machine) of work done on this machine in this checkout, by a
    process with ``threads`` torch threads computing in ``precision``."""
    import torch

    assert block["cpu_count"] == os.cpu_count()
    assert block["cpus_usable"] == len(os.sched_getaffinity(0))
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = set(re.search(r"^(?:flags|Features)\s*:(.*)$", cpuinfo, re.M).group(1).split())
    assert block["cpu_flags"] == [flag for flag in SPEED_FLAGS if flag in flags]
    assert block["cpu_model"] in cpuinfo
    assert block["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert block["torch"] == torch.__version__ and block["cuda"] == torch.version.cuda
    assert block["gpu_count"] == torch.cuda.device_count() == len(block["gpus"])
    assert block["libraries"]["pytorch-lightning"] == _distribution_version("pytorch-lightning")
    assert block["libraries"]["torch-fidelity"] == _distribution_version("torch-fidelity")
    assert block["genlab_commit"] == git_sha() and block["genlab_version"] == __version__
    assert block["threads"] == threads and block["precision"] == precision
    load = block["load_1min"]
    assert isinstance(load["start"], float) and isinstance(load["end"], float)
    assert load["start"] >= 0 and load["end"] >= 0


def _distribution_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def wandb_offline_values(run: Path, part: str) -> dict[str, Any]:
    """The ``config`` or the ``summary`` of an offline W&B run (``wandb/offline-run-*``), as
    ``wandb sync`` would upload them. wandb writes neither as a file offline, only its record
    log, ``run-<id>.wandb``: a LevelDB-style log (a 7-byte file header, then 32 KiB blocks of
    chunks with a 7-byte header: CRC, length, kind) of ``wandb_internal_pb2.Record``
    messages. W&B has no public reader of it, so this is the one place the tests depend on
    its format."""
    from wandb.proto import wandb_internal_pb2

    data = next(run.glob("run-*.wandb")).read_bytes()
    assert data[:4] == b":W&B", "not a W&B record log"
    block, full, last = 32768, 1, 4
    values: dict[str, Any] = {}
    position, pending = 7, b""
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position : position + 7])
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind not in (full, last):
            continue
        record = wandb_internal_pb2.Record()
        record.ParseFromString(pending)
        pending = b""
        kind_of_record = record.WhichOneof("record_type")
        if kind_of_record == "run":
            updates = getattr(record.run, part).update
        elif kind_of_record == part:
            updates = getattr(record, part).update
        else:
            continue
        for item in updates:
            values[item.key or ".".join(item.nested_key)] = json.loads(item.value_json)
    return values
