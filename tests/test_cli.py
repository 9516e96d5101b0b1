"""The command-line contract, run as a user runs it: a fresh interpreter per command, except
for the user errors an app's task reports once its config is composed, checked in-process."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from omegaconf import OmegaConf

from genlab.cli.evaluate import evaluate
from genlab.cli.sample import sample
from genlab.tracking.summary import read_summary
from tests.helpers import (
    CONF,
    HYDRA_APPS,
    REPO,
    REPORTED_METRICS,
    app_task_config,
    assert_machine_block,
    assert_no_good_run,
    assert_user_error,
    compose_app,
    execute_notebook,
    run_cli,
    user_error_in_process,
    wandb_offline_values,
)

FAST = [
    "debug=fast",
    "model.generator.width=16",
    "model.discriminator.width=16",
]


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory, fashion_mnist_root: Path) -> Path:
    """The README's default experiment, shrunk to a few steps, with the W&B logger (offline)."""
    run_dir = tmp_path_factory.mktemp("quickstart") / "run"
    result = run_cli(
        "train",
        "experiment=quickstart",
        "trainer.max_steps=30",
        "callbacks.sample_grid.every_n_steps=10",
        "callbacks.model_checkpoint.every_n_train_steps=10",
        "metrics.num_samples=256",
        "metrics.num_real=512",
        f"metrics.cache_dir={run_dir.parent / 'cache'}",
        f"data.root={fashion_mnist_root}",
        f"hydra.run.dir={run_dir}",
        "callbacks.progress_log.every_n_seconds=0.001",  # a line per step
        env={"WANDB_SILENT": "false"},  # the console a user sees, W&B's lines included
    )
    assert result.returncode == 0, result.stderr[-5000:]
    (run_dir.parent / "console.txt").write_text(result.stdout + result.stderr)
    return run_dir


def test_console_holds_no_library_warning(quickstart_run: Path) -> None:
    """Only genlab's lines, the progress bar and the end-of-run block: no library warning."""
    console = (quickstart_run.parent / "console.txt").read_text()
    warnings = [
        line
        for line in console.splitlines()
        if ("warning" in line.lower()) and "][genlab." not in line
    ]
    assert warnings == [], "\n".join(warnings)
    assert "FLOPs" not in console and "metric_weights_sha256" not in console
    assert "status: ok after 30 steps" in console
    # The final evaluation announces itself before it runs (it takes a while at 10k images).
    announced = console.index("Evaluating at step 30: 256 generated images against the test split")
    sampled = console.index("Sampled 256 images (")
    extracted = console.index("Features of 256 generated and 512 real images (")
    assert announced < sampled < extracted < console.index("Metrics at step 30")


def test_a_job_log_shows_progress_lines_and_each_evaluation(quickstart_run: Path) -> None:
    """Written to a pipe, as a cluster job's log file is, the console has a progress line at
    the set interval (step of the budget, speed, ETA, losses) and lines around the evaluation:
    the progress bar draws only on a terminal."""
    console = (quickstart_run.parent / "console.txt").read_text()
    progress = re.compile(
        r"\]\[genlab\.callbacks\.progress_log\]\[INFO\] - step (\d+)/30 \(\d+%\), "
        r"[\d.]+ steps/s, (ETA|trained in) [\w ]+, train/d_loss=\S+ .*train/g_loss=\S+$"
    )
    steps = [int(m[1]) for line in console.splitlines() if (m := progress.search(line))]
    assert any(step < 30 for step in steps), console[-5000:]  # an interval's line mid-run
    assert steps[-1] == 30 and steps == sorted(steps)
    assert re.search(r"- step 30/30 \(100%\), [\d.]+ steps/s, trained in \d+ s, ", console)
    assert "Training from step 0 to step 30; progress every 0.001 s" in console
    # The evaluation: announced when it starts, its scores and time when it ends.
    started = console.index("Evaluating at step 30: 256 generated images")
    ended = re.search(r"Metrics at step 30 \(genlab-fashion-mnist-cnn, \d+ s\): .*fid=", console)
    assert ended is not None, console[-5000:]
    assert console.index("- step 30/30 (100%)") < started < ended.start()


def test_run_dir_is_complete(quickstart_run: Path) -> None:
    run = quickstart_run
    assert (run / ".hydra" / "config.yaml").is_file()
    assert (run / ".hydra" / "overrides.yaml").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (run / "checkpoints").glob("step*.ckpt")) == [
        "step0000010.ckpt",
        "step0000020.ckpt",
        "step0000030.ckpt",
    ]
    grids = sorted(p.name for p in (run / "samples").glob("samples_step*.png"))
    assert grids == [f"samples_step{s:07d}.png" for s in (0, 10, 20, 30)]
    summary = read_summary(run)
    assert summary["status"] == "ok"
    assert summary["model"] == "gan" and summary["data"] == "fashion_mnist"
    assert summary["experiment"] == "quickstart"
    assert summary["seed"] == 0 and summary["global_step"] == 30
    assert summary["images_seen"] == 15 * 64
    assert summary["wall_s"] > 0
    assert {"git_sha", "train/d_loss", "train/g_loss"} <= summary.keys()
    # The metrics and, beside them, the protocol that made them.
    assert summary.keys() >= REPORTED_METRICS
    assert summary["metric_extractor"] == "genlab-fashion-mnist-cnn"
    assert summary["metric_num_generated"] == 256 and summary["metric_num_real"] == 512
    assert summary["metric_real_split"] == "test" and len(summary["metric_weights_sha256"]) == 64
    # The machine that made these numbers, its load when training started and ended.
    assert_machine_block(summary["machine"], precision="32-true", threads=torch.get_num_threads())


def test_a_run_of_grey_samples_is_flagged_degenerate_in_its_summary(quickstart_run: Path) -> None:
    """30 steps leave the GAN drawing near-identical grey images: summary.json names the run
    degenerate and why, its end-of-run block says so, and its status stays ok."""
    summary = read_summary(quickstart_run)
    assert summary["status"] == "ok"
    assert summary["sample_pixel_std"] < 0.05
    flagged = summary["degenerate"]
    assert flagged["flag"] is True
    assert any(r.startswith("near-constant samples (pixel std") for r in flagged["reasons"])
    assert any(r.startswith("IS at its floor of 1") for r in flagged["reasons"])
    console = (quickstart_run.parent / "console.txt").read_text()
    assert "degenerate:  near-constant samples" in console


@pytest.mark.slow
def test_eval_noise_rescores_a_checkpoint_as_evaluate_does_with_other_seeds(
    quickstart_run: Path, tmp_path: Path
) -> None:
    """compare.py eval_noise=2 re-scores each variant's first checkpoint with metric seeds
    2025 and 2026: its evaluation-noise std is that of evaluate.py's numbers at those seeds."""
    fids = []
    for seed in (2025, 2026):
        result = run_cli(
            "evaluate",
            f"ckpt_path={quickstart_run / 'checkpoints' / 'last.ckpt'}",
            f"metrics.seed={seed}",
            f"hydra.run.dir={tmp_path / f'eval{seed}'}",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        fids.append(read_summary(tmp_path / f"eval{seed}")["fid"])
        # evaluate.py judges the grey samples as training did.
        assert read_summary(tmp_path / f"eval{seed}")["degenerate"]["flag"] is True
    # Two variants x two seeds: copies of the run, with another config value and other finals.
    for variant, max_steps in (("a", 30), ("b", 40)):
        for seed in (0, 1):
            copy = tmp_path / "runs" / f"{variant}{seed}"
            shutil.copytree(quickstart_run, copy, ignore=shutil.ignore_patterns("wandb"))
            config = yaml.safe_load((copy / ".hydra" / "config.yaml").read_text())
            config["seed"], config["trainer"]["max_steps"] = seed, max_steps
            (copy / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
            summary = read_summary(copy)
            summary.update(seed=seed, fid=summary["fid"] + seed + (variant == "b"))
            (copy / "summary.json").write_text(json.dumps(summary))
    out = tmp_path / "cmp"
    result = run_cli("compare", f"runs=[{tmp_path / 'runs'}]", f"out={out}", "eval_noise=2")
    assert result.returncode == 0, result.stderr[-3000:]
    pairs = pd.read_csv(out / "pairwise.csv").set_index("metric")
    expected = abs(fids[0] - fids[1]) / 2**0.5  # the sample std of two numbers
    assert expected > 0
    assert pairs.loc["fid", "eval_std"] == pytest.approx(expected, rel=1e-4)
    assert pairs.loc["fid", "seed_std"] == pytest.approx(2**-0.5)  # finals x and x + 1
    assert "eval-noise std" in result.stderr


def test_evaluate_reproduces_the_train_time_metrics(quickstart_run: Path, tmp_path: Path) -> None:
    result = run_cli(
        "evaluate",
        f"ckpt_path={quickstart_run / 'checkpoints' / 'last.ckpt'}",
        f"hydra.run.dir={tmp_path / 'eval'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trained, evaluated = read_summary(quickstart_run), read_summary(tmp_path / "eval")
    assert evaluated["status"] == "ok" and evaluated["global_step"] == 30
    for key in (
        "metric_extractor",
        "metric_weights_sha256",
        "metric_num_generated",
        "metric_num_real",
    ):
        assert evaluated[key] == trained[key], key
    for key in ("fid", "kid_mean", "is_mean", "precision", "recall"):
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-4, abs=1e-9), key
    assert_machine_block(evaluated["machine"], precision="32-true", threads=torch.get_num_threads())


@pytest.mark.slow
def test_evaluate_scores_an_image_folder(
    image_folder: Path, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "evaluate",
        f"input={image_folder}",
        f"data.root={fashion_mnist_root}",
        "metrics.num_real=256",
        f"metrics.cache_dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'eval'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = read_summary(tmp_path / "eval")
    assert summary["input"] == str(image_folder) and summary["fid"] > 0
    assert summary["metric_num_real"] == 256
    assert summary["metric_num_generated"] == 48  # the folder's images, all of them


def test_evaluate_takes_another_metrics_group_for_a_checkpoint(
    quickstart_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # metrics=inception replaces the checkpoint's protocol group (its weights file is missing).
    cfg = app_task_config(
        "evaluate",
        [
            f"ckpt_path={quickstart_run / 'checkpoints' / 'last.ckpt'}",
            "metrics=inception",
            f"metrics.weights_path={tmp_path / 'missing.pth'}",
            f"hydra.run.dir={tmp_path / 'eval'}",
        ],
    )
    result = user_error_in_process(evaluate, cfg, capsys)
    assert_user_error(result, "metrics.weights_path", "missing.pth")


def test_evaluate_needs_exactly_one_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = app_task_config("evaluate", [f"hydra.run.dir={tmp_path / 'eval'}"])
    assert_user_error(user_error_in_process(evaluate, cfg, capsys), "ckpt_path=", "input=DIR")


def test_wandb_offline_run_exists(quickstart_run: Path) -> None:
    summary = read_summary(quickstart_run)
    assert summary["wandb_mode"] == "offline"
    run = Path(summary["wandb_dir"])
    assert run.parent == quickstart_run / "wandb" and run.name.startswith("offline-run-")
    assert (run / f"run-{summary['wandb_run_id']}.wandb").stat().st_size > 0
    # The run's config: the training config, the metric protocol and the machine block.
    config = wandb_offline_values(run, "config")
    assert config["seed"] == 0 and config["metric_protocol"]["metric_num_generated"] == 256
    assert config["machine"] == summary["machine"]
    # The W&B summary holds summary.json's numbers; the machine block only once, in the config.
    wandb_summary = wandb_offline_values(run, "summary")
    assert wandb_summary["genlab/fid"] == summary["fid"]
    assert "genlab/machine" not in wandb_summary
    logged_images = list((run / "files" / "media" / "images").glob("samples_*.png"))
    assert len(logged_images) == 4
    # Exactly one W&B run per training run.
    assert len(list((quickstart_run / "wandb").glob("offline-run-*"))) == 1


def test_sample_script_writes_grid_and_interpolation(quickstart_run: Path, tmp_path: Path) -> None:
    ckpt = quickstart_run / "checkpoints" / "last.ckpt"
    result = run_cli("sample", f"ckpt_path={ckpt}", "n=16")
    assert result.returncode == 0, result.stderr[-3000:]
    grid = quickstart_run / "samples" / "samples_last_n16_seed0.png"
    assert grid.is_file() and result.stdout.strip().endswith(grid.name)
    # The other forms in this process: what sample.py runs once Hydra composed its config.
    out = tmp_path / "interp.png"
    sample(app_task_config("sample", [f"ckpt_path={ckpt}", "n=3", "interpolate=true",
                                      "steps=5", f"out={out}"]))  # fmt: skip
    from PIL import Image

    with Image.open(out) as image:  # 3 rows x 5 columns of 28 px tiles with 2 px padding
        assert image.size == (5 * 30 + 2, 3 * 30 + 2)

    # out= an existing folder: the default name inside it.
    folder = tmp_path / "grids"
    folder.mkdir()
    assert sample(app_task_config("sample", [f"ckpt_path={ckpt}", "n=4", f"out={folder}"])) == (
        folder / "samples_last_n4_seed0.png"
    )
    assert [p.name for p in folder.iterdir()] == ["samples_last_n4_seed0.png"]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("seed=abc", "seed must be a non-negative integer"),
        ("out=grid.jpg", "must be a .png file or an existing folder"),
        ("out={blocker}/grid.png", "is a file, not a folder; pass another out=DIR"),
        # A folder that takes no new folder, whatever its permission bits say (also to root).
        ("out=/proc/nope/x.png", "cannot create the output dir /proc/nope: /proc"),
    ],
)
def test_sample_bad_input_is_one_line(
    override: str,
    fragment: str,
    quickstart_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What sample.py runs once Hydra composed its config (the script itself: the tests of a
    grid and of a required value)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    ckpt = quickstart_run / "checkpoints" / "last.ckpt"
    cfg = app_task_config("sample", [f"ckpt_path={ckpt}", override.format(blocker=blocker)])
    assert_user_error(user_error_in_process(sample, cfg, capsys), fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # nothing written


def test_inspect_runs_notebook_executes(quickstart_run: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GENLAB_RUNS", str(quickstart_run.parent))
    text = execute_notebook("inspect_runs.ipynb", tmp_path)
    assert "1 runs under" in text and quickstart_run.name in text
    assert "genlab-fashion-mnist-cnn" in text and "image/png" in text


def test_runs_lists_training_runs_of_every_kind_with_filters(
    quickstart_run: Path, tmp_path: Path
) -> None:
    """A train.py run, a sweep trial, an evaluate.py dir (not a training run) and a damaged
    summary, under one folder."""
    root = tmp_path / "outputs"
    shutil.copytree(quickstart_run, root / "train" / "runs" / "quick")
    shutil.copytree(quickstart_run, root / "sweeps" / "s1" / "trials" / "000_lr=0.001")
    evaluation = root / "evaluate" / "runs" / "e1"
    (evaluation / ".hydra").mkdir(parents=True)
    (evaluation / ".hydra" / "config.yaml").write_text("task_name: evaluate\n")
    (evaluation / "summary.json").write_text('{"status": "ok", "fid": 1.0}')
    damaged = root / "train" / "runs" / "damaged"
    shutil.copytree(quickstart_run / ".hydra", damaged / ".hydra")
    (damaged / "summary.json").write_text('{"status": "o')
    # Parseable files of other shapes: a degenerate field, a trainer node, an overrides file.
    odd = root / "train" / "runs" / "odd"
    shutil.copytree(quickstart_run / ".hydra", odd / ".hydra")
    (odd / "summary.json").write_text('{"status": "ok", "global_step": 3, "degenerate": "x"}')
    (odd / ".hydra" / "config.yaml").write_text("task_name: train\ntrainer: 5\n")
    (odd / ".hydra" / "overrides.yaml").write_text("a: 1\n")

    listed = run_cli("runs", str(root), "--csv", str(tmp_path / "runs.csv"))
    assert listed.returncode == 0, listed.stderr[-3000:]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in listed.stdout.splitlines()[2:]}
    assert set(rows) == {
        "train/runs/quick", "sweeps/s1/trials/000_lr=0.001", "train/runs/damaged",
        "train/runs/odd",
    }  # fmt: skip
    assert "| train | ok |" in rows["train/runs/odd"] and "| 3 |  |" in rows["train/runs/odd"]
    assert "| train | ok | gan | fashion_mnist | quickstart |" in rows["train/runs/quick"]
    assert "| 30 | 30 steps |" in rows["train/runs/quick"]  # global_step of its budget
    assert "| yes | genlab-fashion-mnist-cnn |" in rows["train/runs/quick"]  # degenerate
    assert "| sweep | ok |" in rows["sweeps/s1/trials/000_lr=0.001"]
    assert "| unreadable |" in rows["train/runs/damaged"]
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == 5

    only_failed = run_cli("runs", str(root), "--status", "failed")
    assert only_failed.returncode == 0 and "0 runs" in only_failed.stderr
    missing = run_cli("runs", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr


def test_runs_help_is_whole() -> None:
    """The description's every sentence and what each column of the table holds."""
    shown = run_cli("runs", "--help")
    assert shown.returncode == 0, shown.stderr[-3000:]
    text = " ".join(shown.stdout.split())
    assert "under a folder (train, multirun, sweep and baseline runs), with filters." in text
    for column in ("kind (", "swept (", "budget (", "degenerate (yes:"):
        assert column in text, text


def test_corrupt_checkpoint_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged or missing checkpoint file is one line naming it (sample.py run without any
    ckpt_path: test_every_required_value_is_refused_in_one_line_naming_it)."""
    ckpt = tmp_path / "last.ckpt"
    ckpt.write_bytes(b"not a checkpoint")
    for path, fragments in (
        (ckpt, ("corrupt", str(ckpt))),
        (tmp_path / "missing.ckpt", ("not found",)),
    ):
        cfg = app_task_config("sample", [f"ckpt_path={path}"])
        assert_user_error(user_error_in_process(sample, cfg, capsys), *fragments)


def test_unknown_model_is_rejected_by_hydra(tmp_path: Path) -> None:
    result = run_cli("train", "model=gann", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0
    assert "Could not find 'model/gann'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_data_is_rejected_by_hydra(tmp_path: Path) -> None:
    result = run_cli("train", "data=imagenet", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0 and "Could not find 'data/imagenet'" in result.stderr
    assert "Traceback" not in result.stderr


def test_download_path_stops_at_the_network_with_a_clear_error(tmp_path: Path) -> None:
    # The download code runs for real. Without internet (CI, this project's machines) it must
    # end in the clear message; with internet it must have fetched MNIST and trained.
    run = tmp_path / "run"
    result = run_cli(
        "train",
        "data=mnist",
        "metrics=off",
        f"data.root={tmp_path / 'root'}",
        f"hydra.run.dir={run}",
        *FAST,
    )
    if result.returncode == 0:
        assert (tmp_path / "root" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
        assert read_summary(run)["status"] == "ok"
        return
    assert_user_error(result, "MNIST", "the download failed", "MNIST/raw")
    assert_no_good_run(run)


def test_a_run_failing_mid_training_is_recorded_as_failed(tmp_path: Path) -> None:
    """Undecodable images surface only when training reads them: the run dir then says
    `failed`, and the one W&B run is closed with a failing exit code."""
    folder = tmp_path / "broken_images"
    folder.mkdir()
    for i in range(10):
        (folder / f"img{i}.png").write_bytes(b"not a png")
    run = tmp_path / "run"
    result = run_cli(
        "train", "data=image_folder", f"data.path={folder}", "data.image_size=32",
        "data.batch_size=4", "data.num_workers=2", "metrics=off", f"hydra.run.dir={run}", *FAST,
    )  # fmt: skip
    # Raised in a DataLoader worker process: still the original one-line message.
    assert_user_error(result, "cannot decode image", "img")
    assert "DataLoader worker" not in result.stderr
    summary = read_summary(run)
    assert summary["status"] == "failed" and "cannot decode image" in summary["error"]
    assert "Original Traceback" not in summary["error"]
    assert not (run / "checkpoints" / "last.ckpt").exists()
    (wandb_run,) = (run / "wandb").glob("offline-run-*")
    assert "got exitcode: 1" in (wandb_run / "logs" / "debug.log").read_text()


def test_help_and_cfg_job() -> None:
    result = run_cli("train", "--help")
    assert result.returncode == 0 and "model: gan, vae, wgan, wgan_gp" in result.stdout
    result = run_cli("train", "model=vae", "--cfg", "job")
    assert result.returncode == 0 and "genlab.models.VAE" in result.stdout


@pytest.mark.slow
def test_multirun_job_folders_name_the_swept_values(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Only the swept override names the folders: `seed=3` is the same in both jobs; runs.py
    lists each job with its swept value and budget."""
    sweep = tmp_path / "outputs" / "train" / "multiruns" / "m1"
    result = run_cli(
        "train", "-m", "model.optimizer_g.lr=1e-4,2e-4", "seed=3", "debug=fast", "metrics=off",
        "logger=csv", "trainer.max_steps=2", f"data.root={fashion_mnist_root}",
        f"hydra.sweep.dir={sweep}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_lr-0.0001", "1_lr-0.0002"]
    assert read_summary(sweep / jobs[1])["seed"] == 3

    listed = run_cli("runs", str(tmp_path / "outputs"), "--csv", str(tmp_path / "runs.csv"))
    assert listed.returncode == 0, listed.stderr[-3000:]
    table = pd.read_csv(tmp_path / "runs.csv", keep_default_na=False).set_index("run")
    for job, lr in zip(jobs, ("0.0001", "0.0002"), strict=True):
        row = table.loc[f"train/multiruns/m1/{job}"]
        assert (row["kind"], row["swept"], row["budget"]) == (
            "multirun", f"model.optimizer_g.lr={lr}", "2 steps",
        )  # fmt: skip
        assert f"| model.optimizer_g.lr={lr} | 1 | 2 | 2 steps |" in listed.stdout


def test_job_folder_names_are_short_and_safe() -> None:
    from genlab.naming import folder_name

    name = folder_name(
        "3", [("model/loss", "hinge"), ("data.root", "/a b/c=d"), ("x", "y" * 200)], "r"
    )
    assert name.startswith("3_loss-hinge_root--a-b-c-d_x-yyy") and len(name) == 120
    assert folder_name("0", [], "gan_seed0") == "0_gan_seed0"


def required_keys(node: object, key: str = "") -> list[str]:
    """The keys whose value is ``???`` (required, no default) in a plain config tree."""
    if node == "???":
        return [key]
    if isinstance(node, dict):
        children = [(f"{key}.{name}" if key else str(name), child) for name, child in node.items()]
    elif isinstance(node, list):
        children = [(f"{key}[{i}]", child) for i, child in enumerate(node)]
    else:
        return []
    return [found for child_key, child in children for found in required_keys(child, child_key)]


def test_every_required_value_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    """Each app's config (conf/<app>.yaml with its default groups) is walked for ``???``
    values; the app run without one refuses in one line that names the key."""
    apps = {}
    for module in HYDRA_APPS:
        source = (REPO / "src" / "genlab" / "cli" / f"{module}.py").read_text()
        (config_name,) = re.findall(r'@hydra_app\(\s*"(\w+)"', source)
        apps[config_name] = module
    assert set(apps) == {p.stem for p in CONF.glob("*.yaml")}, "an app config without its app"
    required = {}
    for config_name, module in apps.items():
        tree = OmegaConf.to_container(compose_app(config_name, []), resolve=False)
        del tree["hydra"]
        if keys := required_keys(tree):
            required[module] = keys
    assert required, "no app requires a value: this test checks nothing"
    for module, keys in required.items():
        for key in keys:
            others = [f"{other}=x" for other in keys if other != key]
            result = run_cli(module, *others, cwd=tmp_path)
            assert_user_error(result, f"{key} is required: pass {key}=")
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written (no folder named ???)
