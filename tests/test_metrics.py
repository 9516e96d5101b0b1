"""Metric verification: genlab's numbers agree with torch-fidelity run by hand and with
torchmetrics, behave as FID must on real data, and come from cached real features."""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path

import pytest
import torch
import torch_fidelity
from omegaconf import OmegaConf
from PIL import Image
from torchmetrics.image.fid import FrechetInceptionDistance

from genlab._compat.torch_fidelity import fid_features_to_statistics, fid_statistics_to_metric
from genlab.data import FashionMNISTDataModule
from genlab.data.base import UInt8RGB
from genlab.errors import CheckpointError
from genlab.metrics import degenerate
from genlab.metrics.density_coverage import density_coverage
from genlab.metrics.domain import DomainFeatureExtractor, register_domain_extractors
from genlab.metrics.evaluator import Evaluator
from genlab.metrics.extractor_weights import (
    INCEPTION,
    WeightsNotFoundError,
    resolve_inception_weights,
)
from genlab.metrics.extrapolation import extrapolate
from genlab.metrics.fidelity import compute_metrics
from genlab.metrics.protocol import MetricProtocol
from genlab.paths import config_dir
from tests.helpers import FASHION_MNIST_MIRROR, REPORTED_METRICS

DOMAIN = "genlab-fashion-mnist-cnn"


def protocol(**overrides) -> MetricProtocol:
    """conf/metrics/default.yaml with small, fixed counts."""
    defaults = OmegaConf.to_container(OmegaConf.load(config_dir() / "metrics" / "default.yaml"))
    settings = {
        **defaults,
        "extractor": DOMAIN,
        "weights_path": None,
        "metrics": ["fid", "is", "kid", "prc", "dc"],
        "num_samples": 500,
        "real_split": "test",
        "num_real": 1000,
        "kid_subset_size": 100,
        "seed": 0,
        "batch_size": 250,
        **overrides,
    }
    return MetricProtocol.from_config(OmegaConf.create(settings))


@pytest.fixture(scope="module")
def fashion_mnist(fashion_mnist_root: Path) -> FashionMNISTDataModule:
    datamodule = FashionMNISTDataModule(
        root=str(fashion_mnist_root),
        mirrors=[str(FASHION_MNIST_MIRROR)],
        value_range=(0.0, 1.0),
        val_size=5000,
        num_workers=0,
        metrics_extractor=None,
    )
    datamodule.prepare_data()
    return datamodule


@pytest.fixture(scope="module")
def real_test(fashion_mnist: FashionMNISTDataModule) -> torch.Tensor:
    """The first 1000 test images, uint8 (N, 1, 28, 28)."""
    return fashion_mnist.load_split("test").tensors[0][:1000]


@pytest.fixture(scope="module")
def real_train(fashion_mnist: FashionMNISTDataModule) -> torch.Tensor:
    return fashion_mnist.load_split("train").tensors[0][:1000]


def noisy(images: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))
    return (images.float() + sigma * 255 * noise).round().clamp(0, 255).to(torch.uint8)


def save_pngs(images: torch.Tensor, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0].numpy(), mode="L").save(folder / f"{i:05d}.png")
    return folder


def test_domain_extractor_ships_verified_and_accurate(
    fashion_mnist: FashionMNISTDataModule,
) -> None:
    """The committed weights load (SHA256-checked) and classify Fashion-MNIST's test set."""
    extractor = DomainFeatureExtractor(DOMAIN, ["logits_unbiased"])
    test = fashion_mnist.uint8_images("test")
    labels = fashion_mnist.load_split("test").tensors[1]
    images = torch.stack([test[i] for i in range(len(test))])
    with torch.no_grad():
        predictions = torch.cat([extractor(chunk)[0].argmax(1) for chunk in images.split(1000)])
    assert (predictions == labels).float().mean().item() >= 0.92


def test_fid_equals_torch_fidelity_on_png_files(
    real_test: torch.Tensor, real_train: torch.Tensor, tmp_path: Path
) -> None:
    generated = noisy(real_train[:500], 0.1)
    ours = compute_metrics(
        UInt8RGB.from_tensor(generated), UInt8RGB.from_tensor(real_test), protocol(metrics=["fid"])
    )
    register_domain_extractors()
    reference = torch_fidelity.calculate_metrics(
        input1=str(save_pngs(generated, tmp_path / "generated")),
        input2=str(save_pngs(real_test, tmp_path / "real")),
        fid=True,
        feature_extractor=DOMAIN,
        cuda=False,
        verbose=False,
        cache=False,
    )["frechet_inception_distance"]
    assert ours["fid"] > 0
    assert abs(ours["fid"] - reference) / reference <= 1e-3


def test_fid_agrees_with_torchmetrics(real_test: torch.Tensor, real_train: torch.Tensor) -> None:
    generated = noisy(real_train[:500], 0.1)
    ours = compute_metrics(
        UInt8RGB.from_tensor(generated), UInt8RGB.from_tensor(real_test), protocol(metrics=["fid"])
    )
    features = DomainFeatureExtractor(DOMAIN, ["penultimate"])

    class Penultimate(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return features(x)[0]

    metric = FrechetInceptionDistance(feature=Penultimate())
    metric.update(real_test.expand(-1, 3, -1, -1), real=True)
    metric.update(generated.expand(-1, 3, -1, -1), real=False)
    reference = metric.compute().item()
    assert abs(ours["fid"] - reference) / reference <= 1e-3


@pytest.mark.slow
def test_fid_is_small_between_real_splits_and_grows_with_noise(
    real_test: torch.Tensor, real_train: torch.Tensor
) -> None:
    p = protocol(metrics=["fid"])
    real = UInt8RGB.from_tensor(real_test)
    between_splits = compute_metrics(UInt8RGB.from_tensor(real_train), real, p)["fid"]
    sigmas = [0.05, 0.1, 0.2, 0.4]
    corrupted = [
        compute_metrics(UInt8RGB.from_tensor(noisy(real_train, s)), real, p)["fid"] for s in sigmas
    ]
    assert between_splits < corrupted[0]
    assert all(a < b for a, b in itertools.pairwise(corrupted)), corrupted
    assert between_splits < 0.1 * corrupted[-1]


def test_all_metrics_and_small_budgets(
    real_test: torch.Tensor, real_train: torch.Tensor, caplog
) -> None:
    p = protocol(kid_subset_size=1000)
    with caplog.at_level(logging.WARNING):
        results = compute_metrics(
            UInt8RGB.from_tensor(real_train[:256]), UInt8RGB.from_tensor(real_test), p
        )
    assert "KID subset size lowered from 1000 to 256" in caplog.text
    assert results.keys() >= REPORTED_METRICS
    assert all(math.isfinite(v) for v in results.values())
    # Real images are sharp and diverse: IS well above 1 out of 10 classes, high precision/recall.
    assert results["is_mean"] > 3
    assert results["precision"] > 0.5 and results["recall"] > 0.5


@pytest.fixture
def extracted(monkeypatch) -> list[int]:
    """The sizes of the datasets torch-fidelity extracts features from, in order."""
    sizes: list[int] = []
    extract = torch_fidelity.utils.get_featuresdict_from_dataset

    def spy(input, *args, **kwargs):
        sizes.append(len(input))
        return extract(input, *args, **kwargs)

    monkeypatch.setattr(torch_fidelity.utils, "get_featuresdict_from_dataset", spy)
    return sizes


def test_density_coverage_and_extrapolation_reuse_torch_fidelitys_features(
    real_test: torch.Tensor, real_train: torch.Tensor, extracted: list[int], monkeypatch
) -> None:
    """Precision/recall are torch-fidelity's own numbers; density/coverage are computed on
    the very features it extracted for them, and so are FID∞ / IS∞ (whose fit passes
    through the FID of all 500 images)."""
    generated, real = noisy(real_train[:500], 0.1), real_test
    p = protocol(metrics=["fid", "is", "prc", "dc"], extrapolate=True, extrapolate_points=5)
    ours = compute_metrics(UInt8RGB.from_tensor(generated), UInt8RGB.from_tensor(real), p)
    assert sorted(extracted) == [500, 1000]  # each set once, for every metric
    monkeypatch.undo()
    register_domain_extractors()
    reference = torch_fidelity.calculate_metrics(
        input1=UInt8RGB.from_tensor(generated),
        input2=UInt8RGB.from_tensor(real),
        fid=True,
        prc=True,
        feature_extractor=DOMAIN,
        cuda=False,
        verbose=False,
        cache=False,
        save_cpu_ram=True,
        prc_batch_size=p.prc_batch_size,
    )
    assert ours["precision"] == reference["precision"]
    assert ours["recall"] == reference["recall"]
    assert ours["fid"] == pytest.approx(reference["frechet_inception_distance"], rel=1e-9)
    features = DomainFeatureExtractor(DOMAIN, ["penultimate"])
    with torch.no_grad():
        real_features = features(real.expand(-1, 3, -1, -1))[0]
        generated_features = features(generated.expand(-1, 3, -1, -1))[0]
    direct = density_coverage(real_features, generated_features, 5, p.prc_batch_size)
    assert ours["density"] == pytest.approx(direct["density"], rel=1e-4)
    assert ours["coverage"] == pytest.approx(direct["coverage"], abs=2e-3)
    assert 0 < ours["coverage"] <= 1 and ours["density"] > 0
    assert p.describe(500, 1000, 28)["metric_extrapolation_counts"] == "50,162,275,387,500"
    real_statistics = fid_features_to_statistics(real_features)

    def fid(x: torch.Tensor) -> float:
        statistics = fid_features_to_statistics(x)
        return fid_statistics_to_metric(statistics, real_statistics, False)[
            "frechet_inception_distance"
        ]

    fit = extrapolate(generated_features, fid, (50, 162, 275, 387, 500), seed=p.seed)
    assert fit.scores[-1] == pytest.approx(ours["fid"], rel=1e-4)
    assert ours["fid_inf"] == pytest.approx(fit.intercept, rel=1e-3)
    assert math.isfinite(ours["is_inf"])


@pytest.mark.slow
def test_real_statistics_are_cached(
    fashion_mnist: FashionMNISTDataModule,
    real_train: torch.Tensor,
    tmp_path: Path,
    extracted: list[int],
) -> None:
    generated = UInt8RGB.from_tensor(real_train[:300])
    cache = tmp_path / "cache"

    def evaluate(num_real: int) -> dict[str, float]:
        p = protocol(metrics=["fid", "kid"], num_real=num_real)
        return Evaluator(p, fashion_mnist, cache).score(generated)

    first = evaluate(600)
    assert sorted(extracted) == [300, 600]
    assert all(DOMAIN in f.name and "n600" in f.name for f in cache.iterdir())

    extracted.clear()
    second = evaluate(600)
    assert extracted == [300], "the second evaluation extracted real features again"
    assert second["fid"] == pytest.approx(first["fid"], rel=1e-9)
    assert second["kid_mean"] == pytest.approx(first["kid_mean"], rel=1e-9)

    extracted.clear()
    evaluate(700)  # another protocol (real count) must not reuse those statistics
    assert sorted(extracted) == [300, 700]


@pytest.mark.slow
def test_inception_runs_offline_from_a_weights_file(
    real_test: torch.Tensor, tmp_path: Path
) -> None:
    """Same architecture as the published weights, random initialisation: the path works."""
    from genlab._compat.torch_fidelity import save_random_inception_weights

    weights = save_random_inception_weights(tmp_path / "pt_inception-random.pth", INCEPTION)
    p = protocol(
        extractor=INCEPTION, weights_path=str(weights), metrics=["fid", "kid"], kid_subset_size=16
    )
    results = compute_metrics(
        UInt8RGB.from_tensor(noisy(real_test[:24], 0.2)), UInt8RGB.from_tensor(real_test[24:48]), p
    )
    assert math.isfinite(results["fid"]) and results["fid"] > 0
    assert p.describe(24, 24, 28)["metric_extractor"] == INCEPTION
    assert p.weights_path == weights


def test_missing_inception_weights_offline_names_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    try:
        path = resolve_inception_weights(None, timeout_s=20)
    except WeightsNotFoundError as error:
        message = str(error)
        assert "put it at" in message and str(tmp_path / "torch_home") in message
        assert "metrics.weights_path=FILE" in message and "genlab-fashion-mnist-cnn" in message
    else:  # a machine with internet downloads the real file
        assert path.is_file()


def test_damaged_domain_weights_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="does not hold weights"):
        protocol(weights_path=str(bad))


def test_constant_samples_are_flagged_and_real_images_are_not(
    fashion_mnist: FashionMNISTDataModule, real_train: torch.Tensor
) -> None:
    """A generator that draws one grey image, scored as every run is: the spread of its
    samples is 0 and its scores sit at their floors; real images pass every check."""
    evaluator = Evaluator(protocol(num_samples=256, num_real=1000), fashion_mnist, None)
    grey = torch.full((256, 1, 28, 28), 128, dtype=torch.uint8)
    constant = evaluator.score(UInt8RGB.from_tensor(grey))
    assert constant[degenerate.SAMPLE_STD_KEY] == 0
    assert constant["is_mean"] == pytest.approx(1.0, abs=1e-6)
    assert constant["precision"] == 0 and constant["recall"] == 0
    flagged = degenerate.record(constant)[degenerate.DEGENERATE_KEY]
    assert flagged["flag"] and len(flagged["reasons"]) == 3
    real = evaluator.score(UInt8RGB.from_tensor(real_train[:256]))
    assert real[degenerate.SAMPLE_STD_KEY] > 5 * degenerate.SAMPLE_STD_FLOOR
    assert degenerate.record(real) == {degenerate.DEGENERATE_KEY: {"flag": False, "reasons": []}}
