"""The command-line apps start without the libraries only their tasks need.

`--help`, `--cfg job` and Hydra's composition import neither torch nor Lightning, W&B,
torch-fidelity, Optuna, pandas, matplotlib or scipy. Checked by the modules a fresh
interpreter imports (``python -X importtime`` lists every one), never by timing: the times are
in docs/benchmarks.md (scripts/benchmark_cli.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import HYDRA_APPS, REPO, assert_user_error, require

# Top-level packages that load only once a task runs.
HEAVY = {
    "torch",
    "torchvision",
    "torchmetrics",
    "pytorch_lightning",
    "lightning",
    "lightning_fabric",
    "wandb",
    "torch_fidelity",
    "optuna",
    "pandas",
    "matplotlib",
    "scipy",
}
# pyproject.toml's [project.scripts] (tomllib is Python >= 3.11; genlab supports 3.10)
_SCRIPTS_TABLE = (REPO / "pyproject.toml").read_text().split("[project.scripts]")[1].split("\n[")[0]
CONSOLE_SCRIPTS = dict(re.findall(r'^([\w-]+) = "([\w.:]+)"$', _SCRIPTS_TABLE, re.MULTILINE))


def heavy_imports(*command: str) -> list[str]:
    """The heavy packages ``python -X importtime <command>`` imports, each with the genlab
    module that first imported it; the command must succeed."""
    env = {**os.environ, "WANDB_MODE": "offline"}
    env.pop("HYDRA_FULL_ERROR", None)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 1, "python -X importtime reported no imports"
    # Each module is listed after the modules it imports, indented two spaces per level:
    # read backwards, the lines nest like a call tree.
    found: dict[str, str] = {}
    chain: list[str] = []
    for line in reversed(lines[1:]):
        field = line.rsplit("|", 1)[1]
        name = field.strip()
        depth = (len(field) - len(field.lstrip()) - 1) // 2
        chain = [*chain[:depth], name]
        package = name.split(".")[0]
        if package in HEAVY and package not in found:
            importers = [m for m in chain if m.startswith("genlab")] or ["the app"]
            found[package] = f"{package} (imported by {importers[-1]})"
    return sorted(found.values())


@pytest.mark.parametrize("name", sorted(CONSOLE_SCRIPTS))
def test_console_script_help_imports_no_heavy_library(name: str) -> None:
    """Each `genlab-*` entry point, called as its generated wrapper calls it."""
    module, function = CONSOLE_SCRIPTS[name].split(":")
    code = f"import sys; from {module} import {function}; sys.argv[0] = {name!r}; {function}()"
    assert heavy_imports("-c", code, "--help") == []


@pytest.mark.parametrize("app", HYDRA_APPS)
def test_script_cfg_job_imports_no_heavy_library(app: str) -> None:
    """Hydra composes the whole config and prints it; nothing is instantiated."""
    assert heavy_imports(str(REPO / "scripts" / f"{app}.py"), "--cfg", "job") == []


@pytest.mark.parametrize(
    "overrides",
    [
        ("--help",),
        ("model=vae", "--cfg", "job"),
        ("model=wgan_gp", "data=cifar10", "logger=wandb", "metrics=inception", "--cfg", "job"),
        ("experiment=quickstart", "--cfg", "job"),
    ],
)
def test_train_script_imports_no_heavy_library(overrides: tuple[str, ...]) -> None:
    assert heavy_imports(str(REPO / "scripts" / "train.py"), *overrides) == []


def test_runs_script_help_imports_no_heavy_library() -> None:
    assert heavy_imports(str(REPO / "scripts" / "runs.py"), "--help") == []


def test_runs_listing_imports_no_heavy_library(tmp_path: Path) -> None:
    """genlab-runs reads JSON and YAML only: listing a folder of runs starts in a moment."""
    assert heavy_imports(str(REPO / "scripts" / "runs.py"), str(tmp_path)) == []


def test_composing_and_reading_runs_imports_no_heavy_library(tmp_path) -> None:
    """The library side: genlab.config composes a training config, genlab.compare.runs reads
    run dirs, both without Lightning, pandas or matplotlib."""
    code = (
        "from pathlib import Path\n"
        "from genlab.config import compose_train_config\n"
        "import genlab.compare.runs\n"
        f"cfg = compose_train_config(['model=vae'], Path({str(tmp_path)!r}))\n"
        "assert cfg.model._target_ == 'genlab.models.VAE', cfg.model._target_\n"
    )
    assert heavy_imports("-c", code) == []


def test_public_import_paths_still_resolve() -> None:
    """The lazy package attribute and the Hydra targets load the real objects on use."""
    from hydra.utils import get_class, get_method

    from genlab.compare import compare
    from genlab.compare.report import compare as compare_in_report
    from genlab.models import GAN, VAE

    assert compare is compare_in_report
    assert get_method("genlab.compare.compare") is compare_in_report
    assert get_class("genlab.models.GAN") is GAN and get_class("genlab.models.VAE") is VAE
    with pytest.raises(AttributeError, match="no_such_thing"):
        import genlab.compare

        _ = genlab.compare.no_such_thing


def test_every_app_is_checked() -> None:
    """Each console script's module is one of the apps above: a new app joins these tests."""
    modules = {
        target.split(":")[0].removeprefix("genlab.cli.") for target in CONSOLE_SCRIPTS.values()
    }
    assert modules == {*HYDRA_APPS, "runs"}


def test_scripts_run_by_a_python_without_genlab_say_how_to_set_it_up() -> None:
    """`python3 scripts/train.py` outside .venv: one line naming the fix, exit status 2, for
    every script (each checks before its first import of genlab or a library genlab needs)."""
    python = Path(sys.base_prefix) / "bin" / "python3"
    require(python.is_file(), f"no {python}: the Python this environment was made from")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    probe = "import importlib.util as u; print(u.find_spec('genlab') is None)"
    lacks_genlab = subprocess.run(
        [str(python), "-c", probe], env=env, capture_output=True, text=True, timeout=60
    ).stdout.strip()
    require(lacks_genlab == "True", f"{python} has genlab installed: it cannot show its absence")
    # render_docs.py (`make docs`) uses the standard library only: it runs without genlab.
    needs_genlab = (p for p in (REPO / "scripts").glob("*.py") if p.name != "render_docs.py")
    scripts = sorted(p for p in needs_genlab if not p.name.startswith("_"))
    assert len(scripts) > 10
    for script in scripts:
        result = subprocess.run(
            [str(python), f"scripts/{script.name}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        # time_command.py puts its own checkout's genlab on the path (it times a fresh clone
        # before its .venv exists), so what it misses is torch.
        missing = "torch" if script.name == "time_command.py" else "genlab"
        assert_user_error(
            result,
            f"{missing} is not installed in this Python ({python})",
            "make setup",
            "source .venv/bin/activate",
        )
        assert len(result.stderr.strip().splitlines()) == 1, (script, result.stderr)
