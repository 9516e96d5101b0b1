"""genlab's models against independent reference loops (tests/reference/), step for step.

Each test trains a Lucic et al. 2018 experiment, composed by Hydra from conf/ at tiny width,
with genlab's real training entry point (Lightning's Trainer.fit, deterministic mode), then
trains the same networks from the same seed with the reference loop, and compares every step's
losses and mean discriminator outputs. The reference builds its networks from the same config
nodes through genlab.nets (the architecture is shared by construction) and must draw the same
initial weights from the seed; its losses, update order, data pipeline and optimizers are its
own, written from the papers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from genlab.config import compose_train_config
from genlab.training import train
from tests.reference.data import fashion_mnist_train, shuffled_batches
from tests.reference.gan import GANSetup, train_gan
from tests.reference.vae import train_vae

TINY = ["lucic2018.width=4", "lucic2018.hidden=16"]
# Batches per test: >= 50 updates of every network (n_disc=5: 250 batches, 50 G updates).
GAN_BATCHES = {"ns_gan": 60, "lsgan": 60, "wgan": 250, "wgan_gp": 250}
LSGAN_RAW = ["model.loss.sigmoid=false"]  # Mao et al.'s LSGAN, genlab's default
VAE_BATCHES = 60
# The GANs agree to the last bit; the VAE's KL term to 1e-6 (written as in the paper, it
# rounds differently). Any real difference grows by orders of magnitude within a few steps; a
# small atol, since the clipped WGAN critic's outputs are about 1e-5.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-9}


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny networks gain nothing from threads, and on a busy machine OpenMP's waiting threads
    make each small op take milliseconds (10x slower tests)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class StepRecorder(pl.Callback):
    """Every batch's training values, and the model's weights before training."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.initial_state: dict[str, torch.Tensor] = {}
        self._generator_steps = 0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.initial_state = {k: v.clone() for k, v in pl_module.state_dict().items()}

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        # The batch's own values (the models log them only every log_every_n_steps batches).
        values = pl_module.step_values
        row = {k.removeprefix("train/"): float(v) for k, v in values.items() if "train/" in k}
        steps = getattr(pl_module, "generator_steps", None)
        if steps is not None:
            # g_loss stays in callback_metrics between generator updates: keep it where new.
            if steps == self._generator_steps:
                row.pop("g_loss", None)
            self._generator_steps = steps
        self.rows.append(row)


@pytest.fixture
def genlab_run(
    fashion_mnist_root: Path, tmp_path: Path
) -> Callable[..., tuple[DictConfig, StepRecorder]]:
    """Trains a Lucic et al. experiment for ``batches`` batches; its config and records."""

    def run(experiment: str, batches: int, *overrides: str) -> tuple[DictConfig, StepRecorder]:
        cfg = compose_train_config(
            [
                f"experiment=lucic2018/fashion_mnist_{experiment}",
                f"data.root={fashion_mnist_root}",
                *TINY,
                "trainer.max_epochs=1",
                f"+trainer.limit_train_batches={batches}",
                "trainer.deterministic=true",
                "+trainer.limit_val_batches=0",
                "logger=none",
                "metrics=off",
                "callbacks.progress_bar=null",
                "callbacks.sample_grid=null",
                *overrides,
            ],
            tmp_path / "run",
        )
        recorder = StepRecorder()
        summary = train(cfg, extra_callbacks=[recorder])
        assert summary["status"] == "ok"
        assert len(recorder.rows) == batches
        return cfg, recorder

    return run


def reference_batches(cfg: DictConfig) -> Iterator[list[torch.Tensor]]:
    """The reference's own batches, from the IDX files genlab's run put into data.root."""
    data = cfg.data
    dataset = fashion_mnist_train(
        data.root, data.val_size, data.split_seed, tuple(cfg.model.value_range)
    )
    return shuffled_batches(dataset, data.batch_size, data.shuffle_seed)


def assert_same_initial_weights(networks: dict[str, torch.nn.Module], genlab: dict) -> None:
    """The reference drew the same weights from the seed (else the comparison is moot)."""
    for prefix, network in networks.items():
        for name, value in network.state_dict().items():
            torch.testing.assert_close(value, genlab[f"{prefix}.{name}"], rtol=0, atol=0)


def assert_same_rows(genlab: list[dict], reference: list[dict], keys: set[str]) -> None:
    for step, (ours, theirs) in enumerate(zip(genlab, reference, strict=True)):
        # Same updates on the same batches: a generator step in one loop only fails here.
        assert keys & theirs.keys() == keys & ours.keys(), (step, ours, theirs)
        for key in keys & theirs.keys():
            torch.testing.assert_close(
                ours[key], theirs[key], **TOLERANCE, msg=lambda m, k=key, s=step: f"{k} at {s}: {m}"
            )


def gan_setup(cfg: DictConfig, objective: str) -> GANSetup:
    model = cfg.model
    opt = model.optimizer_d
    assert model.optimizer_g == opt, "the reference gives both networks one optimizer config"
    optimizer = {"torch.optim.Adam": "adam", "torch.optim.RMSprop": "rmsprop"}[opt._target_]
    return GANSetup(
        objective=objective,
        latent_dim=model.latent_dim,
        optimizer=optimizer,
        lr=opt.lr,
        betas=tuple(opt.get("betas", (0.9, 0.999))),
        n_disc=model.n_disc,
        clip_value=model.get("clip_value"),
        gp_weight=model.get("gp_weight"),
    )


@pytest.mark.parametrize(
    ("experiment", "objective", "overrides"),
    [
        ("ns_gan", "non_saturating", []),
        ("lsgan", "least_squares_sigmoid", []),
        ("lsgan", "least_squares", LSGAN_RAW),
        ("wgan", "wasserstein", []),
        ("wgan_gp", "wasserstein", []),
    ],
    ids=["ns_gan", "lsgan", "lsgan_raw_outputs", "wgan", "wgan_gp"],
)
def test_gan_matches_the_reference_loop(
    experiment: str, objective: str, overrides: list[str], genlab_run: Callable
) -> None:
    batches = GAN_BATCHES[experiment]
    cfg, recorder = genlab_run(experiment, batches, *overrides)
    setup = gan_setup(cfg, objective)

    torch.manual_seed(cfg.seed)
    generator = instantiate(cfg.model.generator)
    discriminator = instantiate(cfg.model.discriminator)
    assert_same_initial_weights(
        {"generator": generator, "discriminator": discriminator}, recorder.initial_state
    )
    rows = train_gan(generator, discriminator, reference_batches(cfg), setup, batches)

    assert sum("g_loss" in row for row in rows) >= 50
    assert_same_rows(
        recorder.rows, rows, {"d_loss", "d_real", "d_fake", "g_loss", "gradient_penalty"}
    )


def test_vae_matches_the_reference_loop(genlab_run: Callable) -> None:
    cfg, recorder = genlab_run("vae", VAE_BATCHES)
    optimizer = cfg.model.optimizer
    assert optimizer._target_ == "torch.optim.Adam" and cfg.model.beta == 1.0

    torch.manual_seed(cfg.seed)
    encoder = instantiate(cfg.model.encoder)
    decoder = instantiate(cfg.model.decoder)
    assert_same_initial_weights({"encoder": encoder, "decoder": decoder}, recorder.initial_state)
    rows = train_vae(
        encoder, decoder, reference_batches(cfg), optimizer.lr, tuple(optimizer.betas), VAE_BATCHES
    )

    assert_same_rows(recorder.rows, rows, {"loss", "recon", "kl"})
