"""Losses, the gradient penalty, the ELBO and the networks, against values derived by hand."""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from genlab.data.image_folder import ImageFiles
from genlab.errors import ConfigError, DataNotFoundError
from genlab.job_progress import JobProgress
from genlab.losses import (
    BernoulliLikelihood,
    GaussianLikelihood,
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
    gradient_penalty,
    kl_standard_normal,
)
from genlab.machine import MachineRecord, describe_machine
from genlab.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    GaussianEncoder,
    InfoGANDiscriminator,
    InfoGANGenerator,
    MLPDecoder,
    MLPDiscriminator,
    ResNetDiscriminator,
    ResNetGenerator,
)
from genlab.nets.dcgan import ImageProjection, LatentProjection
from genlab.sampling import interpolation_latents
from tests.helpers import assert_machine_block

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_non_saturating_and_minimax_match_their_definitions() -> None:
    expected_d = (
        -sum(log_sigmoid(r) for r in REAL.tolist()) / 2
        - sum(math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE.tolist()) / 2
    )
    assert NonSaturatingLoss().discriminator(REAL, FAKE).item() == pytest.approx(expected_d)
    assert NonSaturatingLoss().generator(FAKE).item() == pytest.approx(
        -sum(log_sigmoid(f) for f in FAKE.tolist()) / 2
    )
    minimax_g = sum(math.log(1 - 1 / (1 + math.exp(-f))) for f in FAKE.tolist()) / 2
    assert MinimaxLoss().generator(FAKE).item() == pytest.approx(minimax_g)
    assert MinimaxLoss().discriminator(REAL, FAKE).item() == pytest.approx(expected_d)


def test_hinge_least_squares_wasserstein() -> None:
    # hinge: mean(relu(1 - real)) + mean(relu(1 + fake)) = (0 + 2)/2 + (1.5 + 0)/2
    assert HingeLoss().discriminator(REAL, FAKE).item() == pytest.approx(1.75)
    assert HingeLoss().generator(FAKE).item() == pytest.approx(1.25)
    # LSGAN: 0.5 mean((real-1)^2) + 0.5 mean(fake^2) = 0.5*(1+4)/2 + 0.5*(0.25+9)/2
    assert LeastSquaresLoss().discriminator(REAL, FAKE).item() == pytest.approx(1.25 + 2.3125)
    assert LeastSquaresLoss().generator(FAKE).item() == pytest.approx(0.5 * (0.25 + 16) / 2)
    assert WassersteinLoss().discriminator(REAL, FAKE).item() == pytest.approx(-1.25 - 0.5)
    assert WassersteinLoss().generator(FAKE).item() == pytest.approx(1.25)


def test_gradient_penalty_of_a_linear_critic_is_analytic() -> None:
    # D(x) = <w, x> has gradient w everywhere: the penalty is (||w|| - 1)^2.
    critic = nn.Linear(12, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.arange(12.0).view(1, 12) / 10)
    real, fake = torch.randn(5, 12), torch.randn(5, 12)
    penalty = gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx((critic.weight.norm().item() - 1) ** 2, rel=1e-5)
    penalty.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the penalty trains the critic.
    norm = critic.weight.norm()
    expected = 2 * (norm - 1) * critic.weight / norm
    assert torch.allclose(critic.weight.grad, expected.detach(), rtol=1e-4)


def test_elbo_terms() -> None:
    mean, logvar = torch.zeros(3, 4), torch.zeros(3, 4)
    assert torch.equal(kl_standard_normal(mean, logvar), torch.zeros(3))
    mean = torch.ones(3, 4)
    assert torch.allclose(kl_standard_normal(mean, logvar), torch.full((3,), 2.0))
    target = torch.tensor([[[[1.0, 0.0]]]])
    logits = torch.zeros_like(target)
    assert BernoulliLikelihood().nll(logits, target).item() == pytest.approx(2 * math.log(2))
    gaussian = GaussianLikelihood(std=0.5)
    per_pixel = 0.5 * (0.5 / 0.5) ** 2 + math.log(0.5) + 0.5 * math.log(2 * math.pi)
    assert gaussian.nll(logits, target).item() == pytest.approx(2 * per_pixel)
    with pytest.raises(ConfigError, match="std"):
        GaussianLikelihood(std=0.0)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_networks_fit_the_image_size(size: int, channels: int) -> None:
    generator = DCGANGenerator(
        latent_dim=8, channels=channels, image_size=size, width=8, output="tanh"
    )
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, channels, size, size)
    assert images.abs().max() <= 1.0
    assert DCGANDiscriminator(channels, size, width=8, norm="batch")(images).shape == (2, 1)
    trunk = functools.partial(DCGANDiscriminator, channels, size, width=8, norm="batch")
    mean, logvar = GaussianEncoder(5, trunk)(images)
    assert mean.shape == logvar.shape == (2, 5)


@pytest.mark.parametrize(
    ("layer", "reference", "input_shape"),
    [
        (
            LatentProjection(16, 32, 7, bias=False),
            nn.ConvTranspose2d(16, 32, 7, bias=False),
            (5, 16),
        ),
        (LatentProjection(16, 8, 4, bias=True), nn.ConvTranspose2d(16, 8, 4), (5, 16)),
        (ImageProjection(32, 1, 4, 2, 1), nn.ConvTranspose2d(32, 1, 4, 2, 1), (5, 32, 14, 14)),
        (ImageProjection(32, 3, 4, 2, 1), nn.ConvTranspose2d(32, 3, 4, 2, 1), (5, 32, 16, 16)),
    ],
)
def test_generator_projections_are_the_transposed_convolutions_they_replace(
    layer: nn.ConvTranspose2d, reference: nn.ConvTranspose2d, input_shape: tuple[int, ...]
) -> None:
    reference.load_state_dict(layer.state_dict())  # the same parameters under the same keys
    x = torch.randn(input_shape)
    x_ref = x.view(*input_shape, 1, 1) if len(input_shape) == 2 else x
    out, out_ref = layer(x), reference(x_ref)
    torch.testing.assert_close(out, out_ref, rtol=1e-5, atol=1e-6)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), list(layer.parameters()))
    grads_ref = torch.autograd.grad((out_ref * weights).sum(), list(reference.parameters()))
    for grad, grad_ref in zip(grads, grads_ref, strict=True):
        # Sums of thousands of float32 terms (batch x pixels) in another order, some cancelling:
        # their rounding differs by up to ~3e-4 of the gradient's scale (300 random draws); a
        # wrong layout differs by the scale itself.
        scale = grad_ref.abs().max().item()
        torch.testing.assert_close(grad, grad_ref, rtol=1e-4, atol=1e-3 * scale)


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("norm", ["batch", "none"])
def test_infogan_networks_fit_the_image_size(size: int, norm: str) -> None:
    generator = InfoGANGenerator(8, 1, size, output="sigmoid", width=4, hidden=16, norm=norm)
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, 1, size, size)
    assert images.min() >= 0.0 and images.max() <= 1.0  # sigmoid output, as Lucic et al.
    critic = InfoGANDiscriminator(1, size, width=4, hidden=16, norm=norm, spectral_norm=True)
    assert critic(images).shape == (2, 1)
    layers = [m for m in critic.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == 4 and all(hasattr(m, "parametrizations") for m in layers)
    trunk = functools.partial(InfoGANDiscriminator, 1, size, width=4, hidden=16, norm=norm)
    mean, logvar = GaussianEncoder(3, trunk)(images)
    assert mean.shape == logvar.shape == (2, 3)


def test_infogan_networks_refuse_sizes_not_divisible_by_four() -> None:
    with pytest.raises(ConfigError, match="divisible by 4"):
        InfoGANGenerator(8, 1, 30, output="sigmoid")


def test_spectral_norm_option_wraps_every_convolution() -> None:
    critic = DCGANDiscriminator(1, 28, width=8, norm="batch", spectral_norm=True)
    convs = [m for m in critic.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)


def test_unsupported_image_size_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"data\.image_size"):
        DCGANGenerator(latent_dim=8, channels=1, image_size=30, width=8, output="tanh")


@pytest.mark.parametrize(("size", "blocks"), [(28, 2), (32, 3), (64, 4)])
def test_resnet_networks_fit_the_image_size(size: int, blocks: int) -> None:
    generator = ResNetGenerator(latent_dim=8, channels=3, image_size=size, width=8)
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, 3, size, size)
    assert images.abs().max() <= 1.0  # tanh output
    ups = [m for m in generator.modules() if isinstance(m, nn.Upsample)]
    assert len(ups) == 2 * blocks  # each up-block resamples its residual path and its shortcut
    critic = ResNetDiscriminator(channels=3, image_size=size, width=8, out_features=4)
    assert critic(images).shape == (2, 4)
    trunk = functools.partial(ResNetDiscriminator, 3, size, width=8)
    mean, logvar = GaussianEncoder(5, trunk)(images)
    assert mean.shape == logvar.shape == (2, 5)


def test_resnet_critic_has_no_normalisation_and_optional_spectral_norm() -> None:
    """Batch norm would couple the samples that the gradient penalty treats one by one."""
    norms = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)
    critic = ResNetDiscriminator(channels=3, image_size=32, width=8)
    assert not [m for m in critic.modules() if isinstance(m, norms)]
    generator = ResNetGenerator(latent_dim=8, channels=3, image_size=32, width=8)
    assert len([m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]) == 7
    sn_critic = ResNetDiscriminator(channels=3, image_size=32, width=8, spectral_norm=True)
    layers = [m for m in sn_critic.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)


def test_resnet_critic_scores_each_sample_on_its_own() -> None:
    critic = ResNetDiscriminator(channels=3, image_size=32, width=8)
    images = torch.randn(4, 3, 32, 32)
    assert torch.allclose(critic(images)[:1], critic(images[:1]), atol=1e-6)


@pytest.mark.parametrize("size", [30, 48])
def test_resnet_networks_refuse_unsupported_image_sizes(size: int) -> None:
    with pytest.raises(ConfigError, match=r"data\.image_size"):
        ResNetGenerator(latent_dim=8, channels=3, image_size=size)
    with pytest.raises(ConfigError, match=r"data\.image_size"):
        ResNetDiscriminator(channels=3, image_size=size)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_mlp_networks_fit_the_image_size(depth: int) -> None:
    decoder = MLPDecoder(latent_dim=6, channels=1, image_size=28, hidden=16, depth=depth)
    logits = decoder(torch.randn(3, 6))
    assert logits.shape == (3, 1, 28, 28)
    assert logits.min() < 0.0  # raw logits: the likelihood maps them to pixel means
    linears = [m for m in decoder.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == depth + 1
    assert all(isinstance(m, nn.Tanh) for m in decoder.net if isinstance(m, nn.Tanh | nn.ReLU))
    images = torch.rand(3, 1, 28, 28)
    assert MLPDiscriminator(1, 28, hidden=16, depth=depth)(images).shape == (3, 1)
    trunk = functools.partial(MLPDiscriminator, 1, 28, hidden=16, depth=depth)
    mean, logvar = GaussianEncoder(4, trunk)(images)
    assert mean.shape == logvar.shape == (3, 4)


def test_mlp_decoder_as_a_generator_bounds_its_output() -> None:
    images = MLPDecoder(6, 3, 8, hidden=16, activation="relu", output="sigmoid")(torch.randn(3, 6))
    assert images.shape == (3, 3, 8, 8)
    assert images.min() >= 0.0 and images.max() <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activation": "swish"}, "activation"), ({"depth": -1}, "depth"), ({"hidden": 0}, "hidden")],
)
def test_mlp_networks_reject_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MLPDiscriminator(1, 28, **kwargs)
    with pytest.raises(ConfigError, match=match):
        MLPDecoder(4, 1, 28, **kwargs)


def test_interpolation_starts_and_ends_at_the_endpoints() -> None:
    start, end = torch.randn(3, 16), torch.randn(3, 16)
    path = interpolation_latents(start, end, steps=5).view(3, 5, 16)
    assert torch.allclose(path[:, 0], start, atol=1e-5)
    assert torch.allclose(path[:, -1], end, atol=1e-5)


def test_gradient_penalty_is_computed_in_float32_under_autocast() -> None:
    """Mixed precision must not lower the penalty's inner gradient to bfloat16."""
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 1))
    real, fake = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    torch.manual_seed(0)
    exact = gradient_penalty(critic, real, fake)
    torch.manual_seed(0)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real, fake)
    assert mixed.dtype == torch.float32
    assert torch.equal(mixed, exact)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_ema_decay_outside_the_open_unit_interval_is_rejected(decay: float) -> None:
    from genlab.models import GAN

    with pytest.raises(ConfigError, match=r"model\.ema_decay"):
        GAN(
            DCGANGenerator(latent_dim=8, image_size=28, channels=1, width=8, output="tanh"),
            DCGANDiscriminator(image_size=28, channels=1, width=8, norm="batch"),
            NonSaturatingLoss(), torch.optim.Adam, torch.optim.Adam, latent_dim=8, n_disc=1,
            ema_decay=decay,
        )  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), [(32768, 128), (65535, 255), (1000, 4), (0, 0)])
def test_16_bit_images_are_scaled_not_clipped(value: int, expected: int, tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((8, 8), value, dtype=np.uint16)).save(path)
    with Image.open(path) as opened:
        assert opened.mode.startswith("I")  # Pillow's 16-bit mode, which convert() clips
    for channels in (1, 3):
        image, _ = ImageFiles([path], image_size=8, channels=channels)[0]
        assert image.dtype == torch.uint8 and image.shape == (channels, 8, 8)
        assert image.unique().tolist() == [expected]


def test_float_images_are_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "float.tiff"
    Image.fromarray(np.full((8, 8), 0.5, dtype=np.float32)).save(path)
    # Only PNG and JPEG are decoded, and neither holds floating-point pixels.
    with pytest.raises(DataNotFoundError, match=r"cannot decode image .*float\.tiff"):
        ImageFiles([path], image_size=8, channels=1)[0]


def test_job_progress_counts_and_estimates_what_is_left() -> None:
    progress = JobProgress(total=5, workers=2)
    assert [progress.start() for _ in range(3)] == ["[1/5]", "[2/5]", "[3/5]"]
    # 2 done in 60 s and 120 s: 3 left at 90 s each, 2 at a time -> 135 s.
    assert progress.finish(60.0) == "1/5 done, about 2 min 00 s left"  # 4 x 60 s / 2
    assert progress.finish(120.0) == "2/5 done, about 2 min 15 s left"
    for _ in range(3):
        last = progress.finish(1.0)
    assert last.startswith("5/5 done in ")


def test_multirun_job_count_is_the_product_of_the_sweeps() -> None:
    from genlab.cli.multirun_progress import count_jobs

    assert count_jobs(["seed=0,1,2", "model=gan,vae", "trainer.max_steps=4"]) == 6
    assert count_jobs(["seed=range(4)", "debug=fast"]) == 4
    assert count_jobs(["seed=1"]) == 1
    assert count_jobs(["model=glob(*)"]) is None  # expanded by Hydra against the config


def _small_gan(**kwargs) -> nn.Module:
    from genlab.models import GAN

    return GAN(
        DCGANGenerator(latent_dim=8, image_size=28, channels=1, width=8, output="tanh"),
        DCGANDiscriminator(image_size=28, channels=1, width=8, norm="batch"),
        NonSaturatingLoss(), torch.optim.Adam, torch.optim.Adam, latent_dim=8, n_disc=1,
        **kwargs,
    )  # fmt: skip


def test_models_implement_the_interface_and_only_the_vae_reconstructs() -> None:
    from genlab.models import VAE, GenerativeModel, Reconstructs
    from genlab.nets import GaussianEncoder

    trunk = functools.partial(DCGANDiscriminator, 1, 28, width=8, norm="batch")
    decoder = DCGANGenerator(latent_dim=4, image_size=28, channels=1, width=8, output="none")
    vae = VAE(GaussianEncoder(4, trunk), decoder, BernoulliLikelihood(), torch.optim.Adam, 4)
    gan = _small_gan()
    assert isinstance(vae, GenerativeModel) and isinstance(gan, GenerativeModel)
    assert isinstance(vae, Reconstructs) and not isinstance(gan, Reconstructs)
    assert gan.progress() == {"global_step": 0, "images_seen": 0, "generator_steps": 0}
    assert vae.progress() == {"global_step": 0, "images_seen": 0, "generator_steps": 0}


def test_a_model_with_another_prior_overrides_one_method() -> None:
    from genlab.models import GAN

    class UniformPriorGAN(GAN):
        def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
            return torch.rand(n, self.latent_dim, generator=generator) * 2 - 1

    parts = _small_gan()
    gan = UniformPriorGAN(
        parts.generator, parts.discriminator, parts.loss, torch.optim.Adam, torch.optim.Adam,
        latent_dim=8, n_disc=1, num_fixed_samples=512,
    )  # fmt: skip
    # Both the training and sampling latents and the grid latents come from it.
    for latents in (gan.sample_latent(4096, torch.Generator().manual_seed(0)), gan.fixed_noise):
        assert latents.abs().max() <= 1 and abs(latents.std() - 3**-0.5) < 0.05


def test_end_of_run_report_names_every_result(tmp_path: Path) -> None:
    from genlab.tracking.report import end_of_run_report

    (tmp_path / "samples").mkdir()
    for step in (0, 20, 100):
        (tmp_path / "samples" / f"samples_step{step:07d}.png").touch()
    summary = {
        "status": "ok", "global_step": 100, "wall_s": 12.4, "fid": 31.234567, "is_mean": None,
        "metric_extractor": "genlab-fashion-mnist-cnn", "wandb_dir": "W", "wandb_mode": "offline",
    }  # fmt: skip
    lines = end_of_run_report(tmp_path, summary).splitlines()
    assert lines == [
        "status: ok after 100 steps (12 s)",
        f"run dir:     {tmp_path}",
        f"summary:     {tmp_path / 'summary.json'}",
        f"checkpoint:  {tmp_path / 'checkpoints' / 'last.ckpt'}",
        f"sample grid: {tmp_path / 'samples' / 'samples_step0000100.png'}",
        "metrics:     fid=31.23 (genlab-fashion-mnist-cnn)",
        "W&B run:     W (offline; upload later with `wandb sync W`)",
    ]
    online = {**summary, "wandb_mode": "online", "wandb_url": "https://wandb.ai/x"}
    assert end_of_run_report(tmp_path, online).splitlines()[-1] == "W&B run:     https://wandb.ai/x"
    older = {**summary, "metrics_step": 80}  # scores of an earlier evaluation are dated
    assert "metrics:     fid=31.23 (genlab-fashion-mnist-cnn; of step 80, not of step 100)" in (
        end_of_run_report(tmp_path, older).splitlines()
    )


def test_machine_block_describes_this_machine_with_the_load_at_start_and_end() -> None:
    before = round(os.getloadavg()[0], 2)
    record = MachineRecord(precision="bf16-mixed", threads=3)
    after = round(os.getloadavg()[0], 2)
    block = record.block()
    assert_machine_block(block, precision="bf16-mixed", threads=3)
    assert min(before, after) <= block["load_1min"]["start"] <= max(before, after)
    assert json.loads(json.dumps(block)) == block  # plain JSON values only
    # Without a thread count of its own, the work ran on torch's.
    assert MachineRecord(precision=None).block()["threads"] == torch.get_num_threads()
    line = describe_machine(block)
    assert block["cpu_model"] in line and block["torch"] in line and "bf16-mixed" in line
    assert f"{block['load_1min']['start']} at the start" in line
