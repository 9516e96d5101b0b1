"""Reference image sets with a known defect, to read a metric's scale against: the real
training split (no defect), classes dropped (less diversity), Gaussian blur (less fidelity),
additive Gaussian noise, uniform noise and a blank image (no content at all)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision.transforms.functional as TF
from torch import Tensor


@dataclass(frozen=True)
class ReferenceSet:
    name: str
    defect: str  # what it tells about a score: read "FID of <defect>"
    build: Callable[[Tensor, Tensor, torch.Generator], Tensor]  # (images, labels, rng) -> images


def reference_sets(
    classes_dropped: list[int], blur_sigmas: list[float], noise_sigmas: list[float]
) -> list[ReferenceSet]:
    """The sets, in the order a table lists them: no defect first, no content last."""
    sets = [ReferenceSet("train split", "real images of the training split", _unchanged)]
    sets += [
        ReferenceSet(
            f"{k} classes dropped",
            f"real images of all but {k} classes (less diversity)",
            _drop_classes(k),
        )
        for k in classes_dropped
    ]
    sets += [
        ReferenceSet(f"blur sigma={s:g}", f"Gaussian blur, sigma = {s:g} pixels", _blur(s))
        for s in blur_sigmas
    ]
    sets += [
        ReferenceSet(
            f"noise sigma={s:g}", f"additive Gaussian noise, sigma = {s:g} of the range", _noise(s)
        )
        for s in noise_sigmas
    ]
    sets += [
        ReferenceSet("uniform noise", "every pixel uniform in [0, 255]", _uniform),
        ReferenceSet("blank", "every pixel 0", _blank),
    ]
    return sets


def _unchanged(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
    return images


def _drop_classes(k: int) -> Callable[[Tensor, Tensor, torch.Generator], Tensor]:
    def build(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
        classes = labels.unique()
        if not 0 < k < len(classes):
            raise ValueError(f"cannot drop {k} of {len(classes)} classes")
        dropped = classes[-k:]  # the last k class indices
        return images[~torch.isin(labels, dropped)]

    return build


def _blur(sigma: float) -> Callable[[Tensor, Tensor, torch.Generator], Tensor]:
    def build(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
        size = 2 * math.ceil(3 * sigma) + 1  # the kernel reaches 3 sigma on each side
        blurred = TF.gaussian_blur(images.float(), [size, size], [sigma, sigma])
        return blurred.round().clamp(0, 255).to(torch.uint8)

    return build


def _noise(sigma: float) -> Callable[[Tensor, Tensor, torch.Generator], Tensor]:
    def build(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
        noise = torch.randn(images.shape, generator=rng) * sigma * 255
        return (images.float() + noise).round().clamp(0, 255).to(torch.uint8)

    return build


def _uniform(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
    return torch.randint(0, 256, images.shape, generator=rng, dtype=torch.uint8)


def _blank(images: Tensor, labels: Tensor, rng: torch.Generator) -> Tensor:
    return torch.zeros_like(images)
