"""The README's main commands, typed as the README shows them at the root of a fresh clone (no
override a user would not type, outputs where a user's go): each ends as documented and its
console holds no warning and no traceback. `reproduce.py`'s is in tests/test_reproduce.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from genlab.tracking.summary import read_summary
from tests.helpers import (
    assert_clean_console,
    assert_user_error,
    documented,
    printed_path,
    require,
    run_as_written,
    trials,
    warning_lines,
)


def new_folders(parent: Path, before: set[Path]) -> list[Path]:
    return sorted(p for p in parent.iterdir() if p.is_dir() and p not in before)


def folders(parent: Path) -> set[Path]:
    return set(parent.iterdir()) if parent.is_dir() else set()


@pytest.mark.slow
def test_make_quickstart(fresh_clone: Path) -> None:
    """The README's main job: set-up (up to date: nothing installed), then the quickstart
    experiment in full, its run dir in outputs/train/runs/."""
    # Without the set-up's stamp, scripts/setup.sh would install into the tests' environment.
    require((fresh_clone / ".venv" / ".genlab-installed").is_file(), "no .venv/.genlab-installed")
    result = run_as_written(fresh_clone, documented("make quickstart"), timeout=1800)
    console = assert_clean_console(result)
    assert "setup: .venv is up to date" in console
    run = printed_path(console, "run dir:")
    assert run.parent == fresh_clone / "outputs" / "train" / "runs"
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["experiment"] == "quickstart"
    assert summary["metric_num_generated"] == 10000 and "fid" in summary


def test_train_in_the_default_run_dir(fresh_clone: Path) -> None:
    result = run_as_written(fresh_clone, documented("python scripts/train.py debug=fast"))
    run = printed_path(assert_clean_console(result), "run dir:")
    assert run.parent == fresh_clone / "outputs" / "train" / "runs"
    assert run.name.endswith("_gan_fashion_mnist_seed0")
    assert read_summary(run)["status"] == "ok"


def test_the_default_run_dir_is_checked_before_it_is_made(fresh_clone: Path) -> None:
    """The writable-dir check resolves the default run dir (its name needs Hydra's runtime
    config): a file where its folder would go is one line naming the key to change."""
    blocker = fresh_clone / "outputs" / "train"
    moved = fresh_clone / "outputs" / "train.moved"
    if blocker.exists():
        blocker.rename(moved)
    blocker.write_text("")
    try:
        result = run_as_written(fresh_clone, documented("python scripts/train.py debug=fast"))
        assert_user_error(result, "outputs/train is a file, not a folder", "hydra.run.dir=DIR")
        assert warning_lines(result.stderr) == []
    finally:
        blocker.unlink()
        if moved.exists():
            moved.rename(blocker)


@pytest.mark.slow
def test_multirun(fresh_clone: Path) -> None:
    """Hydra's default sweep dir, the W&B logger in every job: one run dir per job under
    outputs/train/multiruns/, and job 2 starts W&B as cleanly as job 1."""
    multiruns = fresh_clone / "outputs" / "train" / "multiruns"
    before = folders(multiruns)
    result = run_as_written(
        fresh_clone, documented("python scripts/train.py -m seed=0,1 debug=fast")
    )
    console = assert_clean_console(result)
    assert "[1/2] Job 0: seed=0 debug=fast" in console and "[2/2] Job 1: seed=1" in console
    assert "Job 0: ok in" in console and "(2/2 done in" in console
    (sweep,) = new_folders(multiruns, before)
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_seed-0", "1_seed-1"]  # the number and the swept value
    for job in jobs:
        summary = read_summary(sweep / job)
        assert summary["status"] == "ok" and summary["global_step"] == 20
        assert Path(summary["wandb_dir"]).parent == sweep / job / "wandb"
        assert (sweep / job / ".hydra" / "config.yaml").is_file()


@pytest.mark.slow
def test_sweep_then_compare_its_trials(fresh_clone: Path) -> None:
    """The smoke sweep without a W&B login (backend=auto: local), then compare.py on its
    sweep dir; the trials' own consoles (console.log) hold no warning either."""
    sweeps = fresh_clone / "outputs" / "sweeps"
    before = folders(sweeps)
    sweep = run_as_written(fresh_clone, documented("python scripts/sweep.py sweep=smoke"))
    assert_clean_console(sweep)
    (sweep_dir,) = new_folders(sweeps, before)
    table = trials(sweep_dir)
    assert len(table) == 3 and set(table["status"]) == {"ok"}
    for run in table["run_dir"]:
        assert warning_lines((Path(run) / "console.log").read_text()) == [], run

    command = documented(
        "python scripts/compare.py 'runs=[outputs/sweeps/DIR]' out=outputs/comparison"
    )
    console = assert_clean_console(
        run_as_written(fresh_clone, command.replace("DIR", sweep_dir.name))
    )
    assert "Compared 3 runs in 3 variants: outputs/comparison/comparison.md" in console
    assert (fresh_clone / "outputs" / "comparison" / "comparison.md").is_file()


def test_compare_without_out_is_refused_in_one_line(fresh_clone: Path) -> None:
    """`out` is required (`???` in conf/compare.yaml): no report in a folder named `???`."""
    result = run_as_written(fresh_clone, "python scripts/compare.py 'runs=[outputs]'")
    assert_user_error(result, "out is required: pass out=DIR")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (fresh_clone / "???").exists()
