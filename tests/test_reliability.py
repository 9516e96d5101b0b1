"""Reliability: resume after SIGKILL, stop signals at every moment of a run (start-up,
training, evaluations, a second Ctrl+C), atomic checkpoints, the divergence guard, a table of
bad inputs, determinism and checkpoint retention. Real training runs of a few steps each."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from genlab.checkpoints import AtomicCheckpointIO
from genlab.config_types import check_value_type
from genlab.errors import ConfigError, TrainingDiverged
from genlab.process import judged_env
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.lock import DirectoryLock
from genlab.tracking.summary import read_summary
from genlab.training import train
from tests.helpers import (
    FASHION_MNIST_MIRROR,
    REPO,
    REPORTED_METRICS,
    SMALL_GAN,
    SMALL_VAE,
    assert_user_error,
    cli_env,
    compose_train,
    csv_losses,
    require,
    run_cli,
    user_error_in_process,
)

# -- resume after a kill -----------------------------------------------------------------------

# 160 training images in batches of 16: an epoch is 10 batches, 20 GAN optimizer steps, and
# periodic checkpoints every 20 steps fall on epoch boundaries (see docs/reliability.md).
RESUMABLE = [
    "debug=fast",
    *SMALL_GAN,
    "data.batch_size=16",
    "data.val_size=59840",
    "metrics=off",
    "logger=[csv,wandb]",
    "trainer.log_every_n_steps=1",
    "trainer.deterministic=true",
    "seed=3",
    "trainer.max_steps=60",
    "callbacks.model_checkpoint.every_n_train_steps=20",
    "callbacks.sample_grid.every_n_steps=null",
]


def train_command(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "scripts" / "train.py"), *args]


@pytest.mark.slow
def test_sigkilled_run_resumes_and_matches_an_uninterrupted_one(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    common = [*RESUMABLE, f"data.root={fashion_mnist_root}"]
    reference = tmp_path / "reference"
    done = subprocess.run(
        train_command(*common, f"hydra.run.dir={reference}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    run = tmp_path / "killed"
    ckpts = run / "checkpoints"
    process = subprocess.Popen(
        train_command(*common, f"hydra.run.dir={run}"),
        env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (ckpts / "step0000040.ckpt").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no periodic checkpoint appeared"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (run / "summary.json").exists()

    # Damage every file of the newest step (last.ckpt is a copy of it): resume must warn and
    # take the previous periodic checkpoint.
    newest_step = max(int(p.stem.removeprefix("step")) for p in ckpts.glob("step*.ckpt"))
    assert newest_step >= 40
    for path in (ckpts / f"step{newest_step:07d}.ckpt", ckpts / "last.ckpt"):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    resume_from = newest_step - 20

    resumed = subprocess.run(
        train_command(*common, "resume=true", f"hydra.run.dir={run}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert f"Skipping {ckpts / 'last.ckpt'}, which cannot be read" in log
    assert f"Resuming from {ckpts / f'step{resume_from:07d}.ckpt'}" in log

    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 60
    assert summary["generator_steps"] == 30 and summary["images_seen"] == 30 * 16
    assert torch.load(ckpts / "last.ckpt", weights_only=True)["global_step"] == 60
    # One W&B run: the resumed process logged into the id the killed one created.
    run_dirs = sorted((run / "wandb").glob("offline-run-*"))
    assert len(run_dirs) == 2
    assert {p.name.rsplit("-", 1)[-1] for p in run_dirs} == {summary["wandb_run_id"]}

    # The CSV rows count batches (2 optimizer steps each). Tolerance: exact up to float
    # rounding; deterministic CPU runs give bit-identical losses here.
    expected, after = csv_losses(reference), csv_losses(run)
    assert list(after.index) == list(range(resume_from // 2, 30))
    pd.testing.assert_frame_equal(after, expected.loc[after.index], rtol=0, atol=1e-6)


# 1600 training images in batches of 16: an epoch is 100 batches, 200 GAN optimizer steps, so
# a stop a moment after step 30 falls mid-epoch, and 240 steps run into the next epoch.
MID_EPOCH = [
    "debug=fast",
    *SMALL_GAN,
    "data.batch_size=16",
    "data.val_size=58400",
    "metrics=off",
    "logger=csv",
    "trainer.log_every_n_steps=1",
    "trainer.deterministic=true",
    "seed=3",
    "callbacks.model_checkpoint.every_n_train_steps=30",
    "callbacks.sample_grid.every_n_steps=null",
]
STEPS_PER_EPOCH, FINAL_STEP = 200, 240


@pytest.fixture(scope="module")
def uninterrupted_run(fashion_mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("uninterrupted")
    done = subprocess.run(
        train_command(
            *MID_EPOCH, f"data.root={fashion_mnist_root}", f"trainer.max_steps={FINAL_STEP}",
            f"hydra.run.dir={run}",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return run


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGTERM", "max_steps"])
def test_a_run_stopped_mid_epoch_resumes_exactly(
    stop: str, uninterrupted_run: Path, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    common = [*MID_EPOCH, f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"]
    if stop == "SIGTERM":
        # Worker processes, and Lightning's fetcher, have prefetched batches that the stopped
        # run never trained on: the resumed run must start with the first of them.
        common.append("data.num_workers=2")
        process = subprocess.Popen(
            train_command(*common, f"trainer.max_steps={FINAL_STEP}"),
            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while not (run / "checkpoints" / "step0000030.ckpt").exists() and process.poll() is None:
            assert time.monotonic() < deadline, "no periodic checkpoint appeared"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=300) == 128 + signal.SIGTERM
    else:
        stopped = subprocess.run(
            train_command(*common, "trainer.max_steps=30"),
            env=cli_env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert stopped.returncode == 0, stopped.stderr[-3000:]
    step = read_summary(run)["global_step"]
    assert step % STEPS_PER_EPOCH > 0 and step < FINAL_STEP, step

    resumed = subprocess.run(
        train_command(*common, "resume=true", f"trainer.max_steps={FINAL_STEP}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert read_summary(run)["global_step"] == FINAL_STEP

    # The rest of the interrupted epoch and the next one: the same batches, latents and
    # updates, so the same losses and final weights, bit for bit.
    expected, after = csv_losses(uninterrupted_run), csv_losses(run)
    assert list(after.index) == list(range(step // 2, FINAL_STEP // 2))
    pd.testing.assert_frame_equal(after, expected.loc[after.index], rtol=0, atol=0)
    weights, reference = (
        torch.load(r / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        for r in (run, uninterrupted_run)
    )
    assert weights.keys() == reference.keys()
    assert all(torch.equal(weights[name], reference[name]) for name in weights)


# -- atomic writes, retention, periodic and final checkpoints --------------------------------


def test_atomic_checkpoint_io_leaves_the_old_file_when_a_save_fails(tmp_path: Path) -> None:
    io, target = AtomicCheckpointIO(), tmp_path / "ckpts" / "last.ckpt"
    io.save_checkpoint({"global_step": 1}, target)
    with pytest.raises(Exception, match="pickle"):  # a lambda cannot be pickled mid-save
        io.save_checkpoint({"global_step": 2, "bad": lambda: None}, target)
    assert torch.load(target, weights_only=True) == {"global_step": 1}
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"]  # no partial file left


def test_keep_last_time_trigger_and_final_checkpoint(
    fashion_mnist_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def config(name: str, *overrides: str) -> DictConfig:
        return compose_train(
            ["debug=fast", *SMALL_GAN, f"data.root={fashion_mnist_root}", "logger=none",
             "metrics=off", "data.batch_size=16", *overrides],
            tmp_path / name,
        )  # fmt: skip

    # resume=true in a new run dir starts the run, with a warning.
    cfg = config(
        "steps", "trainer.max_steps=14", "callbacks.model_checkpoint.every_n_train_steps=4",
        "callbacks.model_checkpoint.save_top_k=2", "resume=true",
    )  # fmt: skip
    assert train(cfg)["status"] == "ok"
    assert "resume=true: no checkpoint in" in caplog.text
    ckpts = Path(cfg.paths.output_dir) / "checkpoints"
    # Saved at 4, 8, 12; the two newest kept; last.ckpt written again at the end (14).
    assert sorted(p.name for p in ckpts.iterdir()) == [
        "last.ckpt",
        "step0000008.ckpt",
        "step0000012.ckpt",
    ]
    last = ckpts / "last.ckpt"
    assert not last.is_symlink()  # a copy written through the atomic plugin, not a link
    assert torch.load(last, weights_only=True)["global_step"] == 14

    timed = config(
        "minutes", "trainer.max_steps=10", "callbacks.model_checkpoint.every_n_train_steps=null",
        "callbacks.model_checkpoint.every_n_minutes=1e-9",
        "callbacks.model_checkpoint.save_top_k=3",
    )  # fmt: skip
    train(timed)
    saved = sorted(p.name for p in (Path(timed.paths.output_dir) / "checkpoints").iterdir())
    # The time trigger fires after every batch (2 GAN steps), also under manual optimization.
    assert saved == ["last.ckpt", "step0000006.ckpt", "step0000008.ckpt", "step0000010.ckpt"]


# -- divergence --------------------------------------------------------------------------------


@pytest.mark.slow
def test_absurd_learning_rate_stops_the_run_as_diverged(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    result = subprocess.run(
        train_command(
            "model=vae", *SMALL_VAE, "debug=fast", "model.optimizer.lr=1e6", "metrics=off",
            "trainer.max_steps=200", f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("genlab: error:")]
    assert len(errors) == 1 and "training diverged at step" in errors[0], result.stderr[-3000:]
    assert "train/loss=nan" in errors[0] and "Traceback" not in result.stderr
    summary = read_summary(run)
    assert summary["status"] == "diverged" and summary["global_step"] <= 5
    assert not (run / "checkpoints").exists()
    (wandb_run,) = (run / "wandb").glob("offline-run-*")
    assert "got exitcode: 1" in (wandb_run / "logs" / "debug.log").read_text()


def test_explosion_threshold_stops_a_gan(
    fashion_mnist_root: Path, train_config: Callable[..., DictConfig]
) -> None:
    # With lr=1e6 the GAN's losses stay finite but reach ~1e15: only a threshold catches it.
    cfg = train_config(
        *SMALL_GAN, f"data.root={fashion_mnist_root}", "logger=none", "metrics=off",
        "model.optimizer_g.lr=1e6", "model.optimizer_d.lr=1e6", "trainer.max_steps=200",
        "callbacks.divergence_guard.threshold=1e4",
    )  # fmt: skip
    with pytest.raises(TrainingDiverged, match=r"callbacks\.divergence_guard\.threshold=10000"):
        train(cfg)
    summary = read_summary(cfg.paths.output_dir)
    assert summary["status"] == "diverged" and summary["global_step"] <= 20


# -- determinism -------------------------------------------------------------------------------


class _RecordWandbSeed(pl.Callback):
    """Reads the seed back from the (offline) W&B run's config while the run is open."""

    seed: object = None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        (logger,) = [lg for lg in trainer.loggers if isinstance(lg, pl.loggers.WandbLogger)]
        self.seed = logger.experiment.config["seed"]


@pytest.mark.slow
def test_same_seed_same_losses_and_metrics(fashion_mnist_root: Path, tmp_path: Path) -> None:
    def run(name: str, seed: int, *extra: str, callbacks=()) -> tuple[Path, dict]:
        out = tmp_path / name
        cfg = compose_train(
            ["debug=fast", *SMALL_GAN, "data.batch_size=16", f"data.root={fashion_mnist_root}",
             f"seed={seed}",
             "trainer.deterministic=true", "trainer.max_steps=50", "trainer.log_every_n_steps=1",
             "callbacks.sample_grid.every_n_steps=null", "metrics.num_samples=128",
             "metrics.num_real=256", *extra],
            out,
        )  # fmt: skip
        return out, train(cfg, extra_callbacks=callbacks)

    recorder = _RecordWandbSeed()
    # The W&B logger in one run only: loggers must not change what is trained.
    first, first_summary = run("a", 5, "logger=[csv,wandb]", callbacks=[recorder])
    second, second_summary = run("b", 5, "logger=csv")
    other, _ = run("c", 6, "logger=csv", "metrics=off")
    assert recorder.seed == 5 and first_summary["seed"] == 5
    a, b, c = csv_losses(first), csv_losses(second), csv_losses(other)
    assert len(a) == 25  # 50 optimizer steps = 25 batches
    pd.testing.assert_frame_equal(a, b, rtol=0, atol=0)
    assert not (a.to_numpy() == c.to_numpy()).any()
    for key in ("fid", "kid_mean", "is_mean", "precision", "recall"):
        assert first_summary[key] == second_summary[key], key


# -- bad inputs --------------------------------------------------------------------------------


def _vae_checkpoint(tmp_path: Path, root: Path) -> str:
    out = tmp_path / "vae_run"
    cfg = compose_train(
        ["debug=fast", "model=vae", *SMALL_VAE, f"data.root={root}", "trainer.max_steps=2",
         "logger=none", "metrics=off"],
        out,
    )  # fmt: skip
    train(cfg)
    return str(out / "checkpoints" / "last.ckpt")


def _mirror(tmp_path: Path, damage: Callable[[Path], None]) -> list[str]:
    """A copy of the Fashion-MNIST mirror with one file damaged, and an empty data root."""
    mirror = tmp_path / "mirror"
    shutil.copytree(FASHION_MNIST_MIRROR, mirror)
    damage(mirror / "t10k-labels-idx1-ubyte.gz")
    return [f"data.mirrors=[{mirror}]", "data.download=false", f"data.root={tmp_path / 'root'}"]


def _flip_bytes(gz: Path) -> None:
    data = bytearray(gz.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = bytes(16)
    gz.write_bytes(bytes(data))


def _change_content(gz: Path) -> None:
    labels = bytearray(gzip.decompress(gz.read_bytes()))
    labels[-1] = (labels[-1] + 1) % 10  # a valid gzip of a file that is not the dataset's
    gz.write_bytes(gzip.compress(bytes(labels)))


def _garbage(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\x00not a torch file" * 64)
    return path


def _empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


# (id, overrides built from (tmp_path, fashion_mnist_root), fragments of the error line;
# {tmp} in a fragment is tmp_path)
BAD_INPUTS = [
    ("max_steps_not_int", lambda t, r: ["trainer.max_steps=abc"], ["trainer.max_steps", "'abc'"]),
    (
        "max_steps_negative",
        lambda t, r: ["trainer.max_steps=-5"],
        ["trainer.max_steps", "trainer.max_steps=2000"],
    ),
    (
        "max_steps_zero",
        lambda t, r: ["trainer.max_steps=0"],
        ["trainer.max_steps", "trainer.max_steps=2000"],
    ),
    ("negative_lr", lambda t, r: ["model.optimizer_g.lr=-0.001"], ["model.optimizer_g.lr"]),
    ("n_disc_zero", lambda t, r: ["model.n_disc=0"], ["model.n_disc", "at least 1"]),
    ("negative_beta", lambda t, r: ["model=vae", "model.beta=-1"], ["model.beta"]),
    ("num_samples_zero", lambda t, r: ["metrics.num_samples=0"], ["metrics.num_samples"]),
    (
        "num_samples_too_few",
        lambda t, r: [f"data.root={r}", "metrics.num_samples=5"],
        ["metrics.num_samples=5 is too few images for is (at least 10"],
    ),
    (
        "num_real_too_few",
        lambda t, r: [f"data.root={r}", "metrics.num_real=3"],
        ["metrics.num_real=3 is too few images for is, prc"],
    ),
    ("corrupt_gz", lambda t, r: _mirror(t, _flip_bytes), ["t10k-labels-idx1-ubyte.gz", "corrupt"]),
    (
        "checksum_mismatch",
        lambda t, r: _mirror(t, _change_content),
        ["SHA256 mismatch", "t10k-labels-idx1-ubyte.gz", "replace it"],
    ),
    (
        "missing_weights",
        lambda t, r: [f"data.root={r}", f"metrics.weights_path={t / 'none.pth'}"],
        ["metrics.weights_path", "none.pth", "does not exist"],
    ),
    (
        "corrupt_weights",
        lambda t, r: [f"data.root={r}", f"metrics.weights_path={_garbage(t, 'w.pth')}"],
        ["w.pth", "metrics.weights_path"],
    ),
    (
        "corrupt_inception_weights",
        lambda t, r: [
            f"data.root={r}",
            "metrics=inception",
            f"metrics.weights_path={_garbage(t, 'i.pth')}",
        ],
        ["i.pth", "not a readable weights file", "metrics.weights_path"],
    ),
    (
        "missing_ckpt",
        lambda t, r: [f"data.root={r}", f"ckpt_path={t / 'none.ckpt'}"],
        ["checkpoint not found", "none.ckpt"],
    ),
    (
        "corrupt_ckpt",
        lambda t, r: [f"data.root={r}", f"ckpt_path={_garbage(t, 'bad.ckpt')}"],
        ["bad.ckpt", "corrupt or truncated"],
    ),
    (
        "other_family_ckpt",
        lambda t, r: [f"data.root={r}", f"ckpt_path={_vae_checkpoint(t, r)}"],
        ["model=vae", "this run trains model=gan"],
    ),
    ("batch_size_zero", lambda t, r: ["data.batch_size=0"], ["data.batch_size", "at least 1"]),
    ("val_size_fraction_one", lambda t, r: ["data.val_size=1.0"], ["data.val_size"]),
    (
        "val_size_everything",
        lambda t, r: [f"data.root={r}", "data.val_size=60000"],
        ["data.val_size=60000 leaves no training images"],
    ),
    (
        "missing_image_folder",
        lambda t, r: [*SMALL_GAN, "data=image_folder", f"data.path={t / 'no_such_folder'}"],
        ["{tmp}/no_such_folder", "data.path"],
    ),
    (
        "empty_image_folder",
        lambda t, r: ["data=image_folder", f"data.path={_empty_folder(t)}"],
        ["no PNG/JPEG images", "{tmp}/empty"],
    ),
    (
        "dataset_missing_offline",
        lambda t, r: [
            *SMALL_GAN,
            "data.mirrors=[]",
            "data.download=false",
            f"data.root={t / 'empty_root'}",
        ],
        ["Fashion-MNIST", "{tmp}/empty_root/FashionMNIST/raw", "dataset-fashion-mnist"],
    ),
    (
        "channels_two",
        lambda t, r: ["data=image_folder", f"data.path={t}", "data.channels=2"],
        ["data.channels must be 1 or 3"],
    ),
    ("grayscale_as_rgb", lambda t, r: ["data.channels=3"], ["grayscale", "data.channels=1"]),
    ("latent_dim_zero", lambda t, r: ["model.latent_dim=0"], ["model.latent_dim", "at least 1"]),
    (
        "latent_dim_negative",
        lambda t, r: ["model.latent_dim=-3"],
        ["model.latent_dim must be an integer of at least 1, got -3"],
    ),
    (
        "generator_width_zero",
        lambda t, r: ["model.generator.width=0"],
        ["model.generator.width must be an integer of at least 1, got 0"],
    ),
    (
        "betas_one_value",
        lambda t, r: ["model.optimizer_g.betas=[0.5]"],
        ["model.optimizer_g.betas must be two numbers in [0, 1)", "got [0.5]"],
    ),
    ("value_range_reversed", lambda t, r: ["model.value_range=[1,-1]"], ["model.value_range"]),
    ("ema_decay_one", lambda t, r: ["model.ema_decay=1.0"], ["model.ema_decay", "(0, 1)"]),
    (
        "gp_weight_negative",
        lambda t, r: ["model=wgan_gp", "model.gp_weight=-1"],
        ["model.gp_weight"],
    ),
    ("clip_value_zero", lambda t, r: ["model=wgan", "model.clip_value=0"], ["model.clip_value"]),
    (
        "vae_likelihood_std_zero",
        lambda t, r: ["model=vae", "model/likelihood=gaussian", "model.likelihood.std=0"],
        ["model.likelihood.std"],
    ),
    (
        "unknown_norm",
        lambda t, r: ["model.discriminator.norm=groupnorm"],
        ["unknown norm", "groupnorm"],
    ),
    ("bad_image_size", lambda t, r: ["data.image_size=30"], ["data.image_size"]),
    ("seed_negative", lambda t, r: ["seed=-1"], ["seed must be a non-negative integer"]),
    (
        "no_end",
        lambda t, r: ["trainer.max_steps=-1", "trainer.max_epochs=-1"],
        ["training has no end"],
    ),
    (
        "minutes_zero",
        lambda t, r: ["callbacks.model_checkpoint.every_n_minutes=0"],
        ["every_n_minutes must be positive"],
    ),
    (
        "grid_every_zero",
        lambda t, r: ["callbacks.sample_grid.every_n_steps=0"],
        ["callbacks.sample_grid.every_n_steps must be >= 1"],
    ),
    (
        "replicas_every_zero",
        lambda t, r: ["callbacks.replicas_in_sync.every_n_steps=0"],
        ["callbacks.replicas_in_sync.every_n_steps must be >= 1"],
    ),
    (
        "threshold_zero",
        lambda t, r: ["callbacks.divergence_guard.threshold=0"],
        ["divergence_guard.threshold must be positive"],
    ),
    (
        "warn_above_negative",
        lambda t, r: ["callbacks.divergence_guard.warn_above=-1"],
        ["divergence_guard.warn_above must be positive"],
    ),
    (
        "unknown_metric",
        lambda t, r: [f"data.root={r}", "metrics.metrics=[fid,lpips]"],
        ["metrics.metrics must list some of"],
    ),
    (
        "real_split_val",
        lambda t, r: [f"data.root={r}", "metrics.real_split=val"],
        ["metrics.real_split"],
    ),
    (
        "kid_subset_one",
        lambda t, r: [f"data.root={r}", "metrics.kid_subset_size=1"],
        ["metrics.kid_subset_size must be an integer >= 2"],
    ),
    (
        "prc_batch_one",
        lambda t, r: [f"data.root={r}", "metrics.prc_batch_size=1"],
        ["metrics.prc_batch_size must be an integer >= 2"],
    ),
    (
        "dc_neighborhood_zero",
        lambda t, r: [f"data.root={r}", "metrics.dc_neighborhood=0"],
        ["metrics.dc_neighborhood must be an integer >= 1"],
    ),
    (
        "extrapolate_one_point",
        lambda t, r: [f"data.root={r}", "metrics.extrapolate=true", "metrics.extrapolate_points=1"],
        ["metrics.extrapolate_points must be an integer >= 2"],
    ),
    (
        "extrapolate_without_fid_or_is",
        lambda t, r: [f"data.root={r}", "metrics.extrapolate=true", "metrics.metrics=[kid]"],
        ["metrics.extrapolate=true extrapolates fid and is"],
    ),
    (
        "metrics_every_zero",
        lambda t, r: [f"data.root={r}", "metrics.every_n_steps=0"],
        ["metrics.every_n_steps must be >= 1"],
    ),
    ("plain_ddp_for_a_gan", lambda t, r: ["trainer.strategy=ddp"], ["trainer=ddp_cpu"]),
    # Lightning's own checks of Trainer arguments, reported as one genlab error line; Apple's
    # MPS exists on no Linux machine, so the refusal holds wherever tests run.
    (
        "precision_unknown",
        lambda t, r: [f"data.root={r}", "metrics=off", "trainer.precision=8-bit"],
        ["trainer:", "Precision '8-bit' is invalid"],
    ),
    (
        "accelerator_mps",
        lambda t, r: [f"data.root={r}", "metrics=off", "trainer.accelerator=mps"],
        ["trainer:", "MPS"],
    ),
    (
        "resume_and_ckpt_path",
        lambda t, r: ["resume=true", f"ckpt_path={t / 'x.ckpt'}"],
        ["ckpt_path=FILE", "resume=true", "not both"],
    ),
]


@pytest.mark.parametrize(("overrides", "fragments"), [row[1:] for row in BAD_INPUTS],
                         ids=[row[0] for row in BAD_INPUTS])  # fmt: skip
def test_bad_input_is_one_clear_line(
    overrides: Callable[[Path, Path], list[str]],
    fragments: list[str],
    fashion_mnist_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What `genlab-train` runs after Hydra composed the config: report_user_errors(train).
    (Hydra-level rows, and the wiring of the real CLI, are checked by subprocess tests.)"""
    run = tmp_path / "run"
    cfg = compose_train(["debug=fast", *overrides(tmp_path, fashion_mnist_root)], run)
    result = user_error_in_process(train, cfg, capsys)
    assert_user_error(result, *(fragment.format(tmp=tmp_path) for fragment in fragments))
    assert not (run / "checkpoints").exists() and not (run / "summary.json").exists()
    assert not (run / "wandb").exists()


def test_unknown_config_key_is_rejected_by_hydra(tmp_path: Path) -> None:
    result = subprocess.run(
        train_command("trainer.max_stepz=10", f"hydra.run.dir={tmp_path / 'run'}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode != 0 and "Key 'max_stepz' is not in struct" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_unwritable_output_dir_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = subprocess.run(
        train_command(f"hydra.run.dir={blocker / 'run'}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(result, str(blocker), "is a file, not a folder", "hydra.run.dir=DIR")


# -- nothing lost: the final checkpoint, finished runs, signals, one writer per run dir ---------

# A run whose only checkpoint is the final one (no periodic step falls within the budget).
FINAL_ONLY = [
    "debug=fast",
    *SMALL_GAN,
    "data.batch_size=16",
    "logger=csv",
    "trainer.max_steps=20",
    "callbacks.model_checkpoint.every_n_train_steps=1000",
    "callbacks.sample_grid.every_n_steps=null",
    "metrics.num_samples=64",
    "metrics.num_real=128",
]


def run_dir_state(run: Path) -> dict[str, tuple[int, str]]:
    """Every file of a run dir (the lock and Hydra's log included) with its modification time
    and content hash."""
    return {
        str(p.relative_to(run)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_failed_final_evaluation_keeps_the_final_checkpoint_and_resume_finishes_it(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")  # the metric cache cannot be created: the evaluation fails
    common = [*FINAL_ONLY, f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"]
    failed = subprocess.run(
        train_command(*common, f"metrics.cache_dir={blocker / 'cache'}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert failed.returncode == 1, failed.stderr[-3000:]
    summary = read_summary(run)
    assert summary["status"] == "failed" and summary["global_step"] == 20
    assert "not_a_folder" in summary["error"]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 20

    resumed = subprocess.run(
        train_command(*common, "resume=true"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 20
    assert summary["fid"] > 0 and summary["metric_num_generated"] == 64


@pytest.mark.slow
def test_metrics_history_keeps_one_row_per_step_and_survives_a_cut_off_line(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """A resume that evaluates a step again (here after a garbled summary.json) replaces its
    row; a line cut off by a kill is skipped by compare.py, naming the file, and removed by the
    next run that writes the file."""
    run, out = tmp_path / "run", tmp_path / "cmp"
    history = run / HISTORY_FILE
    common = [
        *FINAL_ONLY, "metrics.every_n_steps=6", f"data.root={fashion_mnist_root}",
        f"hydra.run.dir={run}",
    ]  # fmt: skip

    def train_run(*args: str) -> str:
        result = subprocess.run(train_command(*common, *args), env=cli_env(),
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout + result.stderr

    def steps() -> list[int]:
        text = history.read_text()
        assert text.endswith("\n")
        return [json.loads(line)["step"] for line in text.splitlines()]

    train_run()
    assert steps() == [6, 12, 18, 20]
    (run / "summary.json").write_text('{"status": "ok", "glo')
    train_run("resume=true")  # nothing left to train: the final evaluation again
    assert read_summary(run)["status"] == "ok"
    assert steps() == [6, 12, 18, 20]

    text = history.read_text()
    cut = len(text.splitlines()[-1]) // 2 + 1  # half the last line and its newline
    history.write_text(text[:-cut])  # as a kill while step 20 was written leaves it
    compared = run_cli("compare", f"runs=[{run}]", f"out={out}")
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert compared.stderr.count(f"{history}: skipping the cut-off last line") == 1
    assert "the other 3 evaluations are kept" in compared.stderr
    assert pd.read_csv(out / "comparison.csv")["n_seeds"].tolist() == [1]
    assert (out / "curve_fid.png").is_file()  # drawn from the evaluations at steps 6, 12, 18

    output = train_run("resume=true", "trainer.max_steps=30")
    assert f"{history}: removing the cut-off last line" in output
    assert steps() == [6, 12, 18, 24, 30]


@pytest.mark.slow
def test_resume_of_a_finished_run_changes_nothing_unless_the_budget_grows(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    common = [*FINAL_ONLY, f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"]
    done = subprocess.run(train_command(*common), env=cli_env(), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    finished = run_dir_state(run)
    assert {".hydra/config.yaml", "summary.json", "train.log", ".genlab.lock"} <= finished.keys()

    again = subprocess.run(train_command(*common, "resume=true"), env=cli_env(),
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already finished (status ok at step 20); nothing to do" in again.stdout + again.stderr
    assert run_dir_state(run) == finished

    # Another network width: refused before anything is written, naming the differing value.
    wider = subprocess.run(
        train_command(*common, "resume=true", "model.generator.width=32"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(wider, "does not fit this model", "model.generator.width=16 (this run: 32)")
    assert run_dir_state(run) == finished

    # A larger budget continues the run and rewrites its summary completely.
    longer = subprocess.run(
        train_command(*common, "resume=true", "trainer.max_steps=30"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert longer.returncode == 0, longer.stderr[-3000:]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 30
    assert summary.keys() >= REPORTED_METRICS
    overrides = (run / ".hydra" / "overrides.yaml").read_text()
    assert "trainer.max_steps=30" in overrides
    # The lines said before the run knew it had work reach its log file too.
    assert (
        f"Resuming from {run / 'checkpoints' / 'last.ckpt'} (step 20)"
        in (run / "train.log").read_text()
    )


@pytest.mark.slow
def test_a_partial_checkpoint_left_by_a_killed_save_is_removed_when_the_run_resumes(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    common = [*FINAL_ONLY, "metrics=off", f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"]
    done = subprocess.run(train_command(*common, "trainer.max_steps=10"), env=cli_env(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # What a SIGKILL in the middle of torch.save leaves: the first bytes under the partial name.
    partial = ckpts / ".step0000020.ckpt.partial-4242"
    partial.write_bytes((ckpts / "last.ckpt").read_bytes()[:4096])

    longer = subprocess.run(
        train_command(*common, "resume=true", "trainer.max_steps=20"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert longer.returncode == 0, longer.stderr[-3000:]
    assert not partial.exists()
    assert f"Removed 1 partial checkpoint file(s) that an interrupted save left in {ckpts}: " \
        f"{partial.name}" in longer.stdout + longer.stderr  # fmt: skip
    assert read_summary(run)["global_step"] == 20
    assert [p.name for p in ckpts.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_resume_continues_from_the_highest_step_not_the_newest_file(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    common = [
        *FINAL_ONLY, "metrics=off", "callbacks.model_checkpoint.every_n_train_steps=10",
        f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
    ]  # fmt: skip
    done = subprocess.run(train_command(*common), env=cli_env(), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in ckpts.iterdir()) == [
        "last.ckpt", "step0000010.ckpt", "step0000020.ckpt"
    ]  # fmt: skip
    step_20 = run_dir_state(run)["checkpoints/step0000020.ckpt"]
    (ckpts / "step0000010.ckpt").touch()  # the older step is now the newest file

    longer = subprocess.run(
        train_command(*common, "resume=true", "trainer.max_steps=30"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert longer.returncode == 0, longer.stderr[-3000:]
    assert run_dir_state(run)["checkpoints/step0000020.ckpt"] == step_20
    assert f"Resuming from {ckpts / 'last.ckpt'} (step 20)" in longer.stdout + longer.stderr
    assert read_summary(run)["global_step"] == 30
    assert torch.load(ckpts / "last.ckpt", weights_only=True)["global_step"] == 30


@pytest.mark.slow
def test_a_resume_uses_changed_learning_rates_or_refuses_the_change(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run, last = tmp_path / "run", tmp_path / "run" / "checkpoints" / "last.ckpt"
    common = [*FINAL_ONLY, "metrics=off", f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"]
    done = subprocess.run(train_command(*common, "trainer.max_steps=10"), env=cli_env(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    trained = run_dir_state(run)

    # Values that the checkpoint's restored state would override: refused, all of them named,
    # before anything is written.
    refused = subprocess.run(
        train_command(
            *common, "resume=true", "trainer.max_steps=20", "seed=4", "model.fixed_noise_seed=1",
            "model.optimizer_g._target_=torch.optim.SGD", "+model.optimizer_d.amsgrad=true",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(
        refused, "seed 0 -> 4", "model.fixed_noise_seed 0 -> 1",
        "model.optimizer_g._target_ torch.optim.Adam -> torch.optim.SGD",
        "model.optimizer_d.amsgrad False -> True", "start a new run",
    )  # fmt: skip
    assert run_dir_state(run) == trained

    # A raised learning rate is used: the GAN diverges (promise 15), and last.ckpt keeps step 10.
    diverged = subprocess.run(
        train_command(
            *common, "resume=true", "trainer.max_steps=200", "model.optimizer_g.lr=1e6",
            "model.optimizer_d.lr=1e6", "callbacks.divergence_guard.threshold=1e4",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert diverged.returncode == 3, diverged.stderr[-3000:]
    applied = "resume: model.optimizer_d.lr 0.0002 -> 1000000.0 (applied)"
    assert applied in diverged.stdout + diverged.stderr
    errors = [line for line in diverged.stderr.splitlines() if line.startswith("genlab: error:")]
    assert len(errors) == 1 and "training diverged" in errors[0], diverged.stderr[-3000:]
    assert "lower the learning rates (model.optimizer*.lr) and add resume=true" in errors[0]
    assert torch.load(last, weights_only=True)["global_step"] == 10

    # The advice works: lower rates with resume=true continue from step 10 and are used.
    lowered = subprocess.run(
        train_command(
            *common, "resume=true", "trainer.max_steps=20", "model.optimizer_g.lr=1e-4",
            "model.optimizer_d.lr=1e-4", "model.optimizer_d.betas=[0.0,0.9]",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert lowered.returncode == 0, lowered.stderr[-3000:]
    log = lowered.stdout + lowered.stderr
    assert f"Resuming from {last} (step 10)" in log
    assert "resume: model.optimizer_g.lr 0.0002 -> 0.0001 (applied)" in log
    assert "resume: model.optimizer_d.betas [0.5, 0.999] -> [0.0, 0.9] (applied)" in log
    final = torch.load(last, weights_only=True)
    assert final["global_step"] == 20
    generator, discriminator = (state["param_groups"][0] for state in final["optimizer_states"])
    assert generator["lr"] == discriminator["lr"] == 1e-4
    assert tuple(generator["betas"]) == (0.5, 0.999)
    assert tuple(discriminator["betas"]) == (0.0, 0.9)
    assert read_summary(run)["status"] == "ok"
    assert "lr: 0.0001" in (run / ".hydra" / "config.yaml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGTERM, "preempted"), (signal.SIGINT, "interrupted")],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_stop_signal_saves_the_current_step_and_resume_continues(
    signum: signal.Signals, status: str, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    common = [
        *FINAL_ONLY, "metrics=off", "logger=[csv,wandb]", "trainer.max_steps=100000",
        f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
    ]  # fmt: skip
    process = subprocess.Popen(
        train_command(*common), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    metrics_csv = run / "csv" / "metrics.csv"
    deadline = time.monotonic() + 300
    while not metrics_csv.exists() and process.poll() is None:  # training has started
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, output[-3000:]
    summary = read_summary(run)
    assert summary["status"] == status, summary
    assert f"stopped by {signum.name} at step {summary['global_step']}" in summary["error"]
    assert "resume=true" in summary["error"] and "Traceback" not in output
    step = summary["global_step"]
    assert step > 0
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == step
    (wandb_run,) = (run / "wandb").glob("offline-run-*")
    assert f"got exitcode: {128 + signum}" in (wandb_run / "logs" / "debug.log").read_text()

    resumed = subprocess.run(
        train_command(*common, "resume=true", f"trainer.max_steps={step + 4}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resuming from {run / 'checkpoints' / 'last.ckpt'}" in resumed.stdout + resumed.stderr
    assert read_summary(run)["global_step"] == step + 4


@pytest.mark.slow
def test_a_second_process_in_a_run_dir_is_refused(fashion_mnist_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = subprocess.Popen(
        train_command(*FINAL_ONLY, "metrics=off", "trainer.max_steps=100000",
                      f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"),
        env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not (run / "csv" / "metrics.csv").exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended"
            time.sleep(0.05)
        second = subprocess.run(
            train_command("model=vae", *SMALL_VAE, "debug=fast", "metrics=off", "logger=csv",
                          f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}"),
            env=cli_env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert_user_error(second, f"the run dir {run} is in use by process {first.pid}")
        config = (run / ".hydra" / "config.yaml").read_text()
        assert "genlab.models.GAN" in config and "VAE" not in config
    finally:
        first.kill()
        first.wait()
    # The lock of a killed process is released with it: the next run takes the dir.
    lock = DirectoryLock(run).acquire()
    lock.release()


# -- stop signals at every moment of a run -----------------------------------------------------


class TrainingProcess:
    """scripts/train.py in a process of its own (and process group, as a terminal's foreground
    job: a Ctrl+C reaches it and the W&B service it starts), its console read as it comes, so
    that a test signals it at a chosen moment."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            train_command(*args), env=env or cli_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, ready: Callable[[], bool], what: str, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            assert self.process.poll() is None, f"the run ended before {what}: {self.output}"
            assert time.monotonic() < deadline, f"no {what} in {timeout_s} s: {self.output}"
            time.sleep(0.01)

    def wait_for_line(self, text: str) -> None:
        self.wait_for(lambda: any(text in line for line in self.lines), repr(text))

    def press_ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def stop(self, signum: signal.Signals) -> None:
        """SIGINT as a terminal's Ctrl+C sends it, other signals as ``kill`` does."""
        if signum == signal.SIGINT:
            self.press_ctrl_c()
        else:
            self.process.send_signal(signum)

    def end(self, timeout_s: float = 300) -> int:
        returncode = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout=10)
        return returncode

    @property
    def output(self) -> str:
        return "".join(self.lines)[-5000:]


def wandb_exit_code(run: Path) -> list[int]:
    """The exit code each of the run dir's W&B runs was finished with, oldest first."""
    codes = []
    for wandb_run in sorted((run / "wandb").glob("offline-run-*")):
        log = (wandb_run / "logs" / "debug.log").read_text()
        codes += [int(code) for code in re.findall(r"got exitcode: (\d+)", log)]
    return codes


def checkpoint_step(path: Path) -> int:
    return int(torch.load(path, weights_only=True)["global_step"])


STOPS = pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGTERM, "preempted"), (signal.SIGINT, "interrupted")],
    ids=["SIGTERM", "SIGINT"],
)


@pytest.mark.slow
@STOPS
def test_a_stop_during_the_final_evaluation_abandons_it_and_resume_runs_it(
    signum: signal.Signals, status: str, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    common = [
        *(arg for arg in FINAL_ONLY if not arg.startswith("metrics.num_samples")),
        "logger=[csv,wandb]", f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
    ]  # fmt: skip
    # An evaluation of 5000 images: seconds even on a fast machine, and cut short at once.
    training = TrainingProcess(*common, "metrics.num_samples=5000")
    training.wait_for_line("Evaluating at step 20")
    training.stop(signum)
    assert training.end() == 128 + signum, training.output
    assert "Metrics at step 20" not in training.output
    assert "Traceback" not in training.output
    summary = read_summary(run)
    assert summary["status"] == status and summary["global_step"] == 20
    assert (
        f"stopped by {signum.name} during the evaluation at step 20, which did not finish; "
        "last.ckpt holds step 20: continue with resume=true, which runs the evaluation"
    ) in summary["error"]
    assert REPORTED_METRICS.isdisjoint(summary) and "metrics_step" not in summary
    assert not (run / HISTORY_FILE).exists()
    assert checkpoint_step(run / "checkpoints" / "last.ckpt") == 20
    assert wandb_exit_code(run) == [128 + signum]

    resumed = subprocess.run(
        train_command(*common, "resume=true", "metrics.num_samples=64"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 20
    assert summary.keys() >= REPORTED_METRICS and summary["metrics_step"] == 20
    assert [json.loads(line)["step"] for line in (run / HISTORY_FILE).open()] == [20]


@pytest.mark.slow
def test_a_stop_during_a_periodic_evaluation_abandons_it_and_the_summary_dates_the_scores(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Ctrl+C while the evaluation at step 12 runs: the scores of step 6 stay in the summary,
    dated; the resumed run evaluates step 12 first, then trains on."""
    run = tmp_path / "run"
    common = [
        *(arg for arg in FINAL_ONLY if not arg.startswith(("metrics.num_samples", "trainer."))),
        "metrics.num_samples=2000", "metrics.every_n_steps=6", "logger=csv",
        f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
    ]  # fmt: skip
    training = TrainingProcess(*common, "trainer.max_steps=100000")
    training.wait_for_line("Evaluating at step 12")
    training.press_ctrl_c()
    assert training.end() == 130, training.output
    assert "Metrics at step 6" in training.output
    assert "Metrics at step 12" not in training.output
    summary = read_summary(run)
    assert summary["status"] == "interrupted" and summary["global_step"] == 12
    assert "during the evaluation at step 12, which did not finish" in summary["error"]
    assert summary["metrics_step"] == 6 and summary["fid"] is not None
    assert summary["metrics_note"] == (
        "the scores are of the evaluation at step 6, not of step 12: the evaluation at step 12 "
        "did not finish"
    )
    assert checkpoint_step(run / "checkpoints" / "last.ckpt") == 12

    resumed = subprocess.run(
        train_command(*common, "resume=true", "trainer.max_steps=14"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "The evaluation at step 12 did not finish" in resumed.stdout + resumed.stderr
    assert [json.loads(line)["step"] for line in (run / HISTORY_FILE).open()] == [6, 12, 14]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["metrics_step"] == 14
    assert "metrics_note" not in summary


@pytest.mark.slow
@STOPS
def test_a_stop_signal_at_start_up_records_the_run_and_resume_reuses_its_wandb_run(
    signum: signal.Signals, status: str, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """The signal comes as soon as the run's W&B run exists, while W&B and Lightning start."""
    run = tmp_path / "run"
    common = [
        *FINAL_ONLY, "metrics=off", "logger=[csv,wandb]", f"data.root={fashion_mnist_root}",
        f"hydra.run.dir={run}",
    ]  # fmt: skip
    training = TrainingProcess(*common)
    training.wait_for(lambda: any((run / "wandb").glob("offline-run-*")), "W&B run")
    training.stop(signum)
    assert training.end() == 128 + signum, training.output
    assert "Traceback" not in training.output
    warnings = [line for line in training.lines if "WARNING" in line and status in line]
    assert len(warnings) == 1, training.output
    summary = read_summary(run)
    assert summary["status"] == status and summary["global_step"] == 0
    assert summary["error"] == (
        f"stopped by {signum.name} at start-up, before training (step 0); no checkpoint was "
        "saved: resume=true starts the run again"
    )
    assert not (run / "checkpoints" / "last.ckpt").exists()
    assert wandb_exit_code(run) == [128 + signum]

    resumed = subprocess.run(train_command(*common, "resume=true", "trainer.max_steps=4"),
                             env=cli_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert read_summary(run)["global_step"] == 4
    # One W&B run: the resumed process logged into the id the stopped one created.
    run_ids = {p.name.rsplit("-", 1)[-1] for p in (run / "wandb").glob("offline-run-*")}
    assert run_ids == {summary["wandb_run_id"]}
    assert wandb_exit_code(run) == [128 + signum, 0]


def test_a_second_ctrl_c_stops_at_once_and_the_summary_names_the_step_last_ckpt_holds(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Both Ctrl+C come while the run waits after its evaluation at step 12 (as a trial waits
    for its sweep's verdict): the first asks for a stop at the end of the step, the second
    stops at once, before last.ckpt (step 10) is saved again."""
    run = tmp_path / "run"
    training = TrainingProcess(
        *(arg for arg in FINAL_ONLY if not arg.startswith(("trainer.", "callbacks.model_"))),
        "trainer.max_steps=100000", "callbacks.model_checkpoint.every_n_train_steps=10",
        "metrics.every_n_steps=12", f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
        env=judged_env(cli_env()),
    )  # fmt: skip
    training.wait_for(lambda: (run / HISTORY_FILE).is_file(), "evaluation at step 12")
    training.press_ctrl_c()
    training.wait_for_line("Received SIGTERM")  # the first Ctrl+C, routed into Lightning's stop
    training.press_ctrl_c()
    assert training.end() == 130, training.output
    assert "Traceback" not in training.output
    summary = read_summary(run)
    assert summary["status"] == "interrupted" and summary["global_step"] == 12
    saved = checkpoint_step(run / "checkpoints" / "last.ckpt")
    assert saved == 10
    assert summary["error"] == (
        "stopped at once by a second SIGINT at step 12; last.ckpt holds step 10: continue with "
        "resume=true, which trains steps 11-12 again"
    )
    assert summary["metrics_step"] == 12 and "metrics_note" not in summary


@pytest.mark.parametrize(
    ("key", "default", "value", "fragment"),
    [
        ("data.batch_size", 64, "abc", "data.batch_size must be a number (its default is 64)"),
        ("model.latent_dim", 100, "abc", "model.latent_dim must be a number"),
        ("callbacks.model_checkpoint.every_n_train_steps", 5000, "abc", "got 'abc'"),
        ("model.optimizer_d.betas", [0.5, 0.999], "abc", "must be a list, e.g. [0.5,0.999]"),
        ("trainer.deterministic", False, 1, "must be true or false"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_and_the_type(
    key: str, default: object, value: object, fragment: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        check_value_type(key, default, value)
    assert fragment in str(refused.value)


@pytest.mark.parametrize(
    ("default", "value"),
    [(5000, 0.1), (0.0002, 1), (5000, None), (None, "x"), ("16-mixed", 32), ([0.5], [0.1, 0.2])],
)
def test_values_that_may_replace_a_default_pass(default: object, value: object) -> None:
    check_value_type("some.key", default, value)


def test_the_train_app_checks_value_types_against_the_defaults(tmp_path: Path) -> None:
    result = subprocess.run(
        train_command("model=vae", "model.optimizer.betas=abc", f"hydra.run.dir={tmp_path / 'r'}"),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(result, "model.optimizer.betas must be a list", "got 'abc'")
    assert not (tmp_path / "r" / ".hydra").exists()


def test_an_exploding_value_is_reported_without_a_threshold(
    fashion_mnist_root: Path,
    train_config: Callable[..., DictConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No threshold set (the default): the run is not stopped, but the user hears of it."""
    cfg = train_config(
        *SMALL_GAN, f"data.root={fashion_mnist_root}", "logger=none", "metrics=off",
        "model.optimizer_g.lr=1e6", "model.optimizer_d.lr=1e6", "trainer.max_steps=40",
    )  # fmt: skip
    train(cfg)
    warnings = [r.message for r in caplog.records if "far beyond a healthy scale" in r.message]
    assert warnings, "no warning about a value beyond callbacks.divergence_guard.warn_above"
    assert "callbacks.divergence_guard.threshold=1e+06 would stop it" in warnings[0]
    assert len(warnings) == len({w.split("=")[0] for w in warnings})  # once per value


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 1.5 MB tmpfs: room for the run's first files, not for a checkpoint."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    require(mounted.returncode == 0, f"cannot mount a tmpfs (needs root): {mounted.stderr}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_naming_the_place_and_the_space(
    fashion_mnist_root: Path, small_filesystem: Path
) -> None:
    run = small_filesystem / "run"
    result = subprocess.run(
        train_command(
            "debug=fast", *SMALL_GAN, "metrics=off", "logger=[csv,wandb]",
            f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
        ),
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_user_error(result, f"no space left on the device of {run}", "a checkpoint of this run")
    summary = read_summary(run)  # written once the partial checkpoint made room again
    assert summary["status"] == "failed" and "no space left" in summary["error"]
    leftovers = [p.name for p in run.rglob(".*") if p.name not in (".genlab.lock", ".hydra")]
    assert leftovers == []  # no partial checkpoint, grid or summary
    (wandb_run,) = (run / "wandb").glob("offline-run-*")
    assert "got exitcode: 1" in (wandb_run / "logs" / "debug.log").read_text()
