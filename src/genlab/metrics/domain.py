"""Domain feature extractors: small classifiers trained on one dataset, for FID/KID/PR and IS
on small grayscale images, offline.

Registered with torch-fidelity under their own names, so a number made with one never passes
for an Inception number. Weights ship inside the package and are checked by SHA256 at load.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from genlab.errors import CheckpointError, ConfigError
from genlab.hashing import sha256_of

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class DomainExtractorSpec:
    dataset: str
    weights_file: str  # inside genlab/metrics/weights/
    sha256: str | None  # None: not shipped; users train it and pass metrics.weights_path
    mean: float  # pixel statistics of the training split, for input normalisation
    std: float


DOMAIN_EXTRACTORS: dict[str, DomainExtractorSpec] = {
    "genlab-fashion-mnist-cnn": DomainExtractorSpec(
        dataset="fashion_mnist",
        weights_file="fashion_mnist_cnn.pt",
        sha256="87a7a82c8a6ef1cdc73f02eb0b19ff7f1474f2ccdb1e92bffb55a6f4168699e2",
        mean=0.2860,
        std=0.3530,
    ),
    "genlab-mnist-cnn": DomainExtractorSpec(
        dataset="mnist", weights_file="mnist_cnn.pt", sha256=None, mean=0.1307, std=0.3081
    ),
}


class DomainClassifier(nn.Module):
    """28x28 grayscale -> 10 logits; ``features`` is the 128-d pooled penultimate layer."""

    INPUT_SIZE = 28
    FEATURE_DIM = 128

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]

        self.body = nn.Sequential(
            *block(1, 32), nn.MaxPool2d(2),  # 14x14
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),  # 7x7
            *block(64, self.FEATURE_DIM), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.FEATURE_DIM, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.features(x)))


def load_classifier(classifier: DomainClassifier, path: Path) -> DomainClassifier:
    """Loads weights, turning a wrong or damaged file into a user error that names it."""
    try:
        classifier.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:  # unpickling and shape errors come in many types
        raise CheckpointError(
            f"{path} does not hold weights of genlab's domain classifier ({type(exc).__name__}); "
            "pass weights written by scripts/train_extractor.py as metrics.weights_path"
        ) from exc
    return classifier


def resolve_domain_weights(name: str, weights_path: str | None) -> Path:
    """The weights file of a domain extractor, verified against its SHA256 when shipped."""
    spec = DOMAIN_EXTRACTORS[name]
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise ConfigError(f"metrics.weights_path={path} does not exist")
        return path
    path = WEIGHTS_DIR / spec.weights_file
    if spec.sha256 is None or not path.is_file():
        raise ConfigError(
            f"no weights ship for {name}: train them with `python scripts/train_extractor.py "
            f"data={spec.dataset}` and pass metrics.weights_path=FILE"
        )
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise CheckpointError(
            f"{path} has SHA256 {actual}, expected {spec.sha256}: the file is damaged or was "
            "replaced; restore it from the genlab repository"
        )
    return path


class DomainFeatureExtractor(FeatureExtractorBase):
    """torch-fidelity's interface over :class:`DomainClassifier`.

    Input: uint8 (N, 3, H, W) as torch-fidelity passes it; grayscale is recovered by averaging
    the (repeated) channels and images are resized to 28x28.
    """

    FEATURES = ("penultimate", "logits_unbiased")

    def __init__(
        self,
        name: str,
        features_list: list[str],
        feature_extractor_weights_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, features_list)
        self.spec = DOMAIN_EXTRACTORS[name]
        self.classifier = DomainClassifier()
        load_classifier(
            self.classifier, resolve_domain_weights(name, feature_extractor_weights_path)
        )
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return DomainFeatureExtractor.FEATURES

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return {
            "isc": "logits_unbiased",
            "fid": "penultimate",
            "kid": "penultimate",
            "prc": "penultimate",
        }[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> Tensor:
        return torch.zeros(1, 3, 28, 28, dtype=torch.uint8)

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected uint8 (N, 3, H, W) images, got {x.dtype} {tuple(x.shape)}")
        gray = x.float().mean(dim=1, keepdim=True) / 255.0
        if gray.shape[-2:] != (DomainClassifier.INPUT_SIZE, DomainClassifier.INPUT_SIZE):
            gray = F.interpolate(
                gray, size=DomainClassifier.INPUT_SIZE, mode="bilinear", antialias=True
            )
        gray = (gray - self.spec.mean) / self.spec.std
        features = self.classifier.features(gray)
        outputs = {"penultimate": features, "logits_unbiased": self.classifier.head(features)}
        return tuple(outputs[name] for name in self.features_list)


@functools.cache
def register_domain_extractors() -> None:
    """Adds genlab's extractors to torch-fidelity's registry (once per process: it refuses a
    name registered before)."""
    from torch_fidelity import register_feature_extractor

    for name in DOMAIN_EXTRACTORS:
        register_feature_extractor(name, DomainFeatureExtractor)
