"""Real Lightning training, a few steps of each model, on Fashion-MNIST and an image folder."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import pytorch_lightning as pl
import torch
import wandb
from hydra.utils import get_class
from omegaconf import DictConfig

from genlab.checkpoints.format import WANDB_RUN_ID_KEY
from genlab.models import GAN, VAE, WGAN, WGANGP, load_checkpoint
from genlab.tracking.summary import read_summary
from genlab.tracking.wandb_run import WandbLogger, finish_wandb, wandb_run_info
from genlab.training import train
from tests.helpers import model_options, small_networks

# The values each model class reports; a subclass reports its bases' too.
TRAINING_VALUES = {
    GAN: {"train/d_loss", "train/g_loss"},
    WGAN: {"train/wasserstein"},
    WGANGP: {"train/gradient_penalty", "train/wasserstein"},
    VAE: {"train/elbo", "train/recon", "train/kl", "val/elbo", "val/recon", "val/kl"},
}
# Papers' experiments on the image folder at their datasets' shapes, with tiny networks.
PAPER_SETUPS = {
    "gulrajani2017/cifar10_resnet": [
        "data.channels=3",
        "data.image_size=32",
        "model.generator.width=8",
        "model.discriminator.width=8",
    ],
    "kingma2013/mnist_vae": [
        "data.channels=1",
        "data.image_size=28",
        "model.encoder.trunk.hidden=16",
        "model.decoder.hidden=16",
    ],
}


@pytest.fixture
def fmnist_config(
    fashion_mnist_root: Path, train_config: Callable[..., DictConfig]
) -> Callable[..., DictConfig]:
    """A small, logger-free run of ``model`` on real Fashion-MNIST for ``steps`` steps."""

    def make(model: str, steps: int, *overrides: str) -> DictConfig:
        cfg = train_config(
            f"model={model}",
            f"data.root={fashion_mnist_root}",
            f"trainer.max_steps={steps}",
            "logger=none",
            *overrides,
        )
        return small_networks(cfg)

    return make


def _losses(summary: dict) -> dict[str, float]:
    return {k: v for k, v in summary.items() if k.startswith(("train/", "val/"))}


def _training_values(cfg: DictConfig) -> set[str]:
    model_class = get_class(cfg.model._target_)
    return set().union(*(TRAINING_VALUES.get(c, set()) for c in model_class.__mro__))


def _batches(cfg: DictConfig) -> int:
    """Batches a run of trainer.max_steps optimizer steps consumes: an adversarial model
    makes n_disc discriminator steps and one generator step per n_disc batches."""
    steps, n_disc = cfg.trainer.max_steps, cfg.model.get("n_disc")
    if n_disc is None:
        return steps
    assert steps % (n_disc + 1) == 0, "a budget of whole generator updates"
    return steps // (n_disc + 1) * n_disc


@pytest.mark.parametrize("model", model_options())
def test_trains_on_fashion_mnist(model: str, fmnist_config: Callable[..., DictConfig]) -> None:
    cfg = fmnist_config(model, 24)
    summary = train(cfg)
    assert summary["status"] == "ok"
    assert summary["global_step"] == 24
    losses = _losses(summary)
    assert _training_values(cfg) <= losses.keys() and losses, losses
    assert all(v is not None and math.isfinite(v) for v in losses.values()), losses
    assert summary["images_seen"] == _batches(cfg) * cfg.data.batch_size


@pytest.mark.parametrize("model", model_options())
def test_trains_on_an_image_folder(
    model: str, image_folder: Path, train_config: Callable[..., DictConfig]
) -> None:
    cfg = train_config(
        f"model={model}",
        "data=image_folder",
        f"data.path={image_folder}",
        "data.image_size=32",
        "data.batch_size=8",
        "data.num_workers=0",
        "trainer.max_steps=20",
        "logger=none",
        "metrics=off",  # the image-folder default, Inception, has no weights offline
    )
    small_networks(cfg)
    summary = train(cfg)
    assert summary["status"] == "ok"
    assert all(math.isfinite(v) for v in _losses(summary).values())
    grid = Path(cfg.paths.output_dir) / "samples" / "samples_step0000020.png"
    assert grid.is_file()


@pytest.mark.slow
@pytest.mark.parametrize("experiment", PAPER_SETUPS)
def test_paper_experiments_train_on_an_image_folder(
    experiment: str, image_folder: Path, train_config: Callable[..., DictConfig]
) -> None:
    """The papers' set-ups (WGAN-GP with the ResNets, the MLP VAE) as configured, on a small
    image folder in place of CIFAR-10 and MNIST, which need a download."""
    cfg = train_config(
        f"experiment={experiment}",
        "data=image_folder",
        f"data.path={image_folder}",
        "data.batch_size=8",
        "data.num_workers=0",
        "trainer.max_steps=12",
        "logger=none",
        "metrics=off",
        *PAPER_SETUPS[experiment],
    )
    summary = train(cfg)
    assert summary["status"] == "ok" and summary["global_step"] == 12
    losses = _losses(summary)
    assert losses and all(v is not None and math.isfinite(v) for v in losses.values()), losses
    if experiment.startswith("gulrajani2017"):
        assert summary["generator_steps"] == 2  # n_critic 5: 10 critic + 2 generator updates
        assert {"train/gradient_penalty", "train/wasserstein"} <= losses.keys()
    else:
        assert {"train/elbo", "val/elbo"} <= losses.keys()


def test_wgan_clips_every_critic_weight_after_each_critic_step(
    fmnist_config: Callable[..., DictConfig],
) -> None:
    cfg = fmnist_config("wgan", 12, "model.clip_value=0.005")
    summary = train(cfg)
    assert summary["status"] == "ok" and summary["generator_steps"] == 2
    assert math.isfinite(summary["train/wasserstein"])
    model, _ = load_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    critic = model.discriminator
    weights = torch.cat([p.detach().flatten() for p in critic.parameters()])
    assert weights.abs().max() <= 0.005
    # Clipping bound the weights, not the initialisation: many sit at the bound.
    assert (weights.abs() == 0.005).float().mean() > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("model", model_options())
def test_checkpoint_reloads_and_samples_identically(
    model: str, fmnist_config: Callable[..., DictConfig]
) -> None:
    cfg = fmnist_config(model, 20)
    train(cfg)
    reloaded, run_cfg = load_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    again, _ = load_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert run_cfg.model_name == model
    first = reloaded.sample(16, seed=7)
    assert torch.equal(first, again.sample(16, seed=7))
    assert torch.equal(first, reloaded.sample(16, seed=7))
    assert not torch.equal(first, reloaded.sample(16, seed=8))
    # The reloaded weights are the trained ones, not a fresh initialisation.
    assert read_summary(cfg.paths.output_dir)["global_step"] == 20
    trained_state = torch.load(
        Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=False
    )["state_dict"]
    for key, value in reloaded.state_dict().items():
        assert torch.equal(value, trained_state[key]), key


def test_a_resumed_run_logs_into_the_wandb_run_its_checkpoint_names(
    fmnist_config: Callable[..., DictConfig],
) -> None:
    """The W&B run id travels in the checkpoint: a run killed before writing summary.json,
    whose local W&B folders are gone (``wandb sync --clean`` deletes synced ones), resumes into
    the same W&B run. A checkpoint of an earlier genlab, without the id, takes summary.json's."""
    overrides = [
        "logger=wandb",
        "metrics=off",
        "callbacks.model_checkpoint.every_n_train_steps=4",
        "callbacks.sample_grid.every_n_steps=null",
    ]
    first_cfg = fmnist_config("gan", 4, *overrides)
    run_id = train(first_cfg)["wandb_run_id"]
    run = Path(first_cfg.paths.output_dir)
    last = run / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)[WANDB_RUN_ID_KEY] == run_id

    def remove_local_wandb_runs() -> None:
        for folder in (run / "wandb").glob("offline-run-*"):
            shutil.rmtree(folder)

    (run / "summary.json").unlink()
    remove_local_wandb_runs()
    resumed = train(fmnist_config("gan", 8, *overrides, "resume=true"))
    assert resumed["global_step"] == 8 and resumed["wandb_run_id"] == run_id

    checkpoint = torch.load(last, weights_only=True)
    del checkpoint[WANDB_RUN_ID_KEY]
    torch.save(checkpoint, last)
    remove_local_wandb_runs()
    again = train(fmnist_config("gan", 12, *overrides, "resume=true"))
    assert again["global_step"] == 12 and again["wandb_run_id"] == run_id
    (folder,) = (run / "wandb").glob("offline-run-*")
    assert folder.name.endswith(f"-{run_id}")


def test_wandb_run_is_reported_and_finished_only_once_started(tmp_path: Path) -> None:
    """Lightning's logger starts a W&B run when its ``experiment`` is first touched; genlab's
    summary and finish must not start one just to report or close it."""
    idle = WandbLogger(save_dir=str(tmp_path / "idle"), mode="offline")
    assert wandb_run_info([idle]) == {}
    finish_wandb([idle], exit_code=0)
    assert wandb.run is None and not (tmp_path / "idle").exists()

    used = WandbLogger(save_dir=str(tmp_path / "used"), mode="offline")
    used.log_metrics({"x": 1.0}, step=0)
    info = wandb_run_info([used])
    assert info["wandb_run_id"] == used.version and info["wandb_mode"] == "offline"
    assert info["wandb_url"] is None
    wandb_dir = Path(info["wandb_dir"])
    assert wandb_dir.parent == tmp_path / "used" / "wandb" and wandb_dir.name.endswith(used.version)
    finish_wandb([used], exit_code=0)
    assert wandb.run is None


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gan", "wgan_gp"])
def test_compiled_networks_train(model: str, fmnist_config: Callable[..., DictConfig]) -> None:
    """torch.compile through AOTAutograd (the inductor path minus code generation); WGAN-GP
    keeps its critic eager, since the gradient penalty differentiates it twice."""
    cfg = fmnist_config(model, 12, "compile.enabled=true", "compile.backend=aot_eager")
    summary = train(cfg)
    assert summary["status"] == "ok" and summary["global_step"] == 12
    assert all(math.isfinite(v) for v in _losses(summary).values())
    reloaded, _ = load_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert reloaded.sample(4, seed=0).shape[0] == 4  # compiled runs keep plain checkpoint keys


@pytest.mark.slow
def test_bf16_mixed_precision_trains(fmnist_config: Callable[..., DictConfig]) -> None:
    summary = train(fmnist_config("wgan_gp", 6, "trainer.precision=bf16-mixed"))
    assert summary["status"] == "ok"
    assert all(math.isfinite(v) for v in _losses(summary).values())


class _GeneratorSnapshots(pl.Callback):
    """The generator's parameters after every batch (one generator step each with n_disc=1)."""

    def __init__(self) -> None:
        self.states: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_) -> None:
        self.states.append(
            {k: v.detach().clone() for k, v in pl_module.generator.named_parameters()}
        )


def test_generator_ema_is_the_moving_average_and_makes_the_samples(
    fmnist_config: Callable[..., DictConfig],
) -> None:
    decay = 0.5
    cfg = fmnist_config("gan", 10, f"model.ema_decay={decay}")  # last.ckpt at step 10
    snapshots = _GeneratorSnapshots()
    train(cfg, extra_callbacks=[snapshots])
    assert len(snapshots.states) == 5
    expected = snapshots.states[0]  # the first update copies the generator
    for state in snapshots.states[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * state[k] for k in state}
    model, _ = load_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    ema = dict(model.generator_ema.module.named_parameters())
    for name, value in expected.items():
        torch.testing.assert_close(ema[name], value, rtol=1e-5, atol=1e-6)
        assert not torch.equal(ema[name], dict(model.generator.named_parameters())[name])
    # Samples (grids, metrics, scripts/sample.py) come from the EMA generator.
    z = model.sample_latent(4, torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.generate(z), model.to_unit_range(model.generator_ema.module(z)))
        assert not torch.equal(model.generate(z), model.to_unit_range(model.generator(z)))


class _ReadTrainBar(pl.Callback):
    """The training bar's (completed, total) when each fit ends."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float | None]] = []

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        bar = trainer.progress_bar_callback
        task = bar.progress.tasks[bar.train_progress_bar_id]
        self.seen.append((task.completed, task.total))
        assert task.description.startswith("step (epoch")


@pytest.mark.parametrize(("model", "steps"), [("wgan_gp", 12), ("gan", 10)])
def test_steps_and_progress_bar_count_optimizer_steps_also_after_a_resume(
    model: str, steps: int, fmnist_config: Callable[..., DictConfig]
) -> None:
    """A GAN makes 2 optimizer steps per batch, WGAN-GP 1.2 (five critic steps per generator
    step): the summary's counts and the bar end at max_steps of max_steps, not at the batch
    count, and a run resumed from its checkpoint continues every count."""
    reader = _ReadTrainBar()
    cfg = fmnist_config(model, steps, "metrics=off")
    first = train(cfg, extra_callbacks=[reader])
    # GAN: 5 batches, 5 + 5 steps; WGAN-GP: 10 batches, 10 critic + 2 generator steps.
    batches, generator_steps = {"gan": (5, 5), "wgan_gp": (10, 2)}[model]
    assert first["global_step"] == steps and first["generator_steps"] == generator_steps
    assert first["images_seen"] == batches * cfg.data.batch_size
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    resumed_cfg = fmnist_config(model, 2 * steps, "metrics=off", f"ckpt_path={last}")
    resumed = train(resumed_cfg, extra_callbacks=[reader])
    assert reader.seen == [(steps, steps), (2 * steps, 2 * steps)]
    assert resumed["global_step"] == 2 * steps
    assert resumed["images_seen"] == 2 * first["images_seen"]
    assert resumed["generator_steps"] == 2 * first["generator_steps"]


class _LastStepValues(pl.Callback):
    """The model's training values after every batch, logged or not."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_) -> None:
        self.values = {k: float(v) for k, v in pl_module.step_values.items()}


@pytest.mark.parametrize("model", ["gan", "vae"])
def test_training_values_are_logged_every_n_batches_and_summarised_at_the_end(
    model: str, fashion_mnist_root: Path, train_config: Callable[..., DictConfig]
) -> None:
    cfg = small_networks(train_config(
        f"model={model}", f"data.root={fashion_mnist_root}",
        "trainer.max_steps=14", "trainer.log_every_n_steps=4", "logger=csv", "metrics=off",
    ))  # fmt: skip
    last = _LastStepValues()
    summary = train(cfg, extra_callbacks=[last])
    logged = pd.read_csv(Path(cfg.paths.output_dir) / "csv" / "metrics.csv")
    train_rows = logged.dropna(subset=[next(iter(last.values))])
    # Batches 4, 8, 12 (logging steps 3, 7, 11); the GAN's 14 optimizer steps are 7 batches.
    assert list(train_rows["step"]) == {"gan": [3], "vae": [3, 7, 11]}[model]
    # The summary reports the last batch's values even when that batch was not logged.
    assert {k: v for k, v in summary.items() if k.startswith("train/")} == last.values


class _ThreadCounts(pl.Callback):
    def __init__(self) -> None:
        self.seen: set[int] = set()

    def on_train_batch_end(self, *_) -> None:
        self.seen.add(torch.get_num_threads())


def test_threads_apply_while_training_and_are_restored(
    fmnist_config: Callable[..., DictConfig],
) -> None:
    before = torch.get_num_threads()
    counts = _ThreadCounts()
    summary = train(fmnist_config("gan", 4, "threads=1"), extra_callbacks=[counts])
    assert summary["status"] == "ok"
    assert counts.seen == {1}
    assert torch.get_num_threads() == before
