"""Every command the README and docs/*.md show in a fenced block, checked as written as far as
it can be without training: a Hydra app composes its config with exactly those arguments (what
`--cfg job` checks, done in this process: Hydra's compose API on the app's config, then the
config written as YAML, interpolations unresolved as `--cfg job` leaves them), an argparse
script accepts them (`--help` after them: argparse converts and checks every argument before it
reaches `--help`), and a `make` target exists. Each app's script itself is started with
`--cfg job` and `--help` by test_cli_startup.py.

A multirun (`-m`) cannot be combined with `--cfg`; its first job is checked instead: the
command without `-m`, each swept value replaced by its first value, as Hydra's parser expands
it. Commands that cannot be checked here are listed in NOT_CHECKED with the reason.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf, open_dict

from genlab.cli.compare import refuse_former_form
from tests.helpers import DOCUMENTED_PAGES, HYDRA_APPS, REPO, cli_env, compose_app

FENCE = re.compile(r"^```[\w-]*\n(.*?)^```", flags=re.S | re.M)
# `python scripts/X.py`, `genlab-X` or `make`, after optional VAR=value assignments.
COMMAND = re.compile(r"^(?:\w+=\S*\s+)*(?:python3?\s+scripts/\w+\.py|genlab-[\w-]+|make)(?:\s|$)")
CONSOLE_SCRIPTS = {
    "genlab-train": "train",
    "genlab-sample": "sample",
    "genlab-eval": "evaluate",
    "genlab-train-extractor": "train_extractor",
    "genlab-sweep": "sweep",
    "genlab-compare": "compare",
    "genlab-reproduce": "reproduce",
    "genlab-runs": "runs",
    "genlab-calibrate": "calibrate_metrics",
}
# The config a Hydra app composes (the name hydra_app is given), where it is not the script's.
APP_CONFIGS = {"calibrate_metrics": "calibrate"}
# Shell variables the docs use, given a value of the documented shape.
SHELL_VARIABLES = {"GENLAB_SWEEP_DB": "postgresql://genlab@db-host:5432/sweeps"}
# Arguments that only the user's own files make valid, and where that path is tested instead.
NOT_CHECKED = {
    "model/loss=my_loss": "the user's own loss config; docs/extending.md's walk-through runs "
    "it as written in test_extending.py",
    "sweep=mine": "the user's own DIR/sweep/mine.yaml",
}


@dataclass(frozen=True)
class Command:
    page: str
    line: str

    @property
    def words(self) -> list[str]:
        return [os.path.expandvars(word) for word in shlex.split(self.line, comments=True)]


def documented_commands() -> list[Command]:
    """The genlab and make commands of every fenced block, continuation lines joined."""
    found: dict[str, Command] = {}
    for page in DOCUMENTED_PAGES:
        for block in FENCE.findall(page.read_text()):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                line = line.strip().removeprefix("$ ")
                if COMMAND.match(line):
                    found.setdefault(" ".join(shlex.split(line, comments=True)), Command(
                        page.relative_to(REPO).as_posix(), line
                    ))  # fmt: skip
    return list(found.values())


def unchecked_reason(command: Command) -> str | None:
    return next((why for arg, why in NOT_CHECKED.items() if arg in command.words), None)


COMMANDS = [command for command in documented_commands() if unchecked_reason(command) is None]


def first_job(arguments: list[str]) -> list[str]:
    """A multirun's first job: each swept value (`a,b`, `range(8)`, ...) replaced by its first."""
    first = []
    for argument, override in zip(
        arguments, OverridesParser.create().parse_overrides(arguments), strict=True
    ):
        if override.is_sweep_override():
            value = next(iter(override.sweep_string_iterator()))
            first.append(f"{override.get_key_element()}={value}")
        else:
            first.append(argument)
    return first


def split_assignments(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command's words after the ``VAR=value`` assignments before it, and those variables."""
    words, env = list(words), {}
    while re.fullmatch(r"\w+=\S*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return words, env


def script_and_arguments(words: list[str]) -> tuple[str, list[str]]:
    """The script under scripts/ a `python scripts/X.py` or `genlab-X` command runs, and its
    arguments."""
    if words[0] in CONSOLE_SCRIPTS:
        return CONSOLE_SCRIPTS[words[0]], words[1:]
    return Path(words[1]).stem, words[2:]


def check_command(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """The process that checks the command, and the environment variables it sets."""
    words, env = split_assignments(words)
    if words[0] == "make":
        return ["make", "--dry-run", *words[1:]], env
    script, arguments = script_and_arguments(words)
    python = [sys.executable, str(REPO / "scripts" / f"{script}.py")]
    if script not in HYDRA_APPS:
        # Before a `--`: what follows it is passed on unparsed, --help included.
        end = arguments.index("--") if "--" in arguments else len(arguments)
        return [*python, *arguments[:end], "--help", *arguments[end:]], env
    if "--help" in arguments or "--cfg" in arguments:
        return [*python, *arguments], env
    if "-m" in arguments or "--multirun" in arguments:
        arguments = first_job([a for a in arguments if a not in ("-m", "--multirun")])
    return [*python, *arguments, "--cfg", "job"], env


def composed_in_process(words: list[str]) -> tuple[str, list[str], list[str]] | None:
    """For a Hydra app's command of overrides only (after `-m`): the script, its arguments and
    the overrides `--cfg job` composes (a multirun's first job). None for any other command
    (a Hydra flag such as `--help`, an argparse script, `make`): it runs in a process."""
    words, _ = split_assignments(words)
    if words[0] == "make":
        return None
    script, arguments = script_and_arguments(words)
    overrides = [a for a in arguments if a not in ("-m", "--multirun")]
    if script not in HYDRA_APPS or any(a.startswith("-") for a in overrides):
        return None
    if "-m" in arguments or "--multirun" in arguments:
        overrides = first_job(overrides)
    return script, arguments, overrides


def cfg_job(script: str, arguments: list[str], overrides: list[str]) -> str:
    """What `scripts/<script>.py ARGUMENTS --cfg job` prints, in this process: the app's config
    composed by Hydra (its compose API runs the same composition as `hydra.main`) with the
    overrides, without the hydra node, as YAML, interpolations left unresolved."""
    if script == "compare":
        refuse_former_form(arguments)  # what compare's main() checks before Hydra starts
    cfg = compose_app(APP_CONFIGS.get(script, script), overrides)
    with open_dict(cfg):
        del cfg["hydra"]
    return OmegaConf.to_yaml(cfg)


def test_the_docs_show_commands_of_every_kind() -> None:
    """The collection itself works: the README's main commands are among those found."""
    lines = {command.line.split("#")[0].strip() for command in COMMANDS}
    assert {"make quickstart", "make test", "python scripts/train.py"} <= lines
    assert len(COMMANDS) > 50
    assert any("-m" in command.words for command in COMMANDS)


def test_every_command_left_unchecked_is_still_documented() -> None:
    """NOT_CHECKED names only arguments the docs still show (no stale exemptions)."""
    words = [set(command.words) for command in documented_commands()]
    stale = [argument for argument in NOT_CHECKED if not any(argument in w for w in words)]
    assert stale == []


def run_check(command: Command) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    argv, env = check_command(command.words)
    result = subprocess.run(
        argv,
        cwd=REPO,
        env={**cli_env(), **SHELL_VARIABLES, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return argv, result


IN_PROCESS = {command for command in COMMANDS if composed_in_process(command.words) is not None}


@pytest.fixture(scope="module")
def checks() -> dict[Command, tuple[list[str], subprocess.CompletedProcess[str]]]:
    """Every command that runs in a process checked once, as many at a time as there are cores
    (each check is an interpreter start-up: mostly imports)."""
    by_process = [command for command in COMMANDS if command not in IN_PROCESS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(by_process, pool.map(run_check, by_process), strict=True))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.page}: {c.line[:80]}")
def test_documented_command_composes_as_written(
    command: Command, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    composition = composed_in_process(command.words)
    if composition is None:
        argv, result = request.getfixturevalue("checks")[command]
        assert result.returncode == 0, (
            f"{command.page}: `{command.line}` does not run as written "
            f"(checked as `{shlex.join(argv)}`):\n{result.stderr[-2000:]}"
        )
        return
    script, arguments, overrides = composition
    for name, value in {**SHELL_VARIABLES, **split_assignments(command.words)[1]}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)  # where the subprocess checks run: relative paths are the checkout's
    try:
        cfg_job(script, arguments, overrides)
    except Exception as error:  # reported with the page and the command
        pytest.fail(
            f"{command.page}: `{command.line}` does not run as written (checked as "
            f"`scripts/{script}.py {shlex.join(overrides)} --cfg job` in this process):\n"
            f"{type(error).__name__}: {error}"
        )
