"""Image grids and latent interpolations, shared by the grid callback and the sample app."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from genlab.atomic_write import write_atomic


def image_grid(images: Tensor, nrow: int | None = None) -> Tensor:
    """(N, C, H, W) in [0, 1] -> one (C', H', W') grid image, square-ish by default."""
    nrow = nrow or max(1, math.isqrt(images.size(0)))
    return make_grid(images, nrow=nrow, padding=2, pad_value=1.0)


def save_grid(images: Tensor, path: Path, nrow: int | None = None) -> Tensor:
    """Writes the grid as a PNG (atomically) and returns it."""
    grid = image_grid(images, nrow)
    write_atomic(path, lambda file: save_image(grid, file, format="png"))
    return grid


def slerp(start: Tensor, end: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation per row (White 2016): stays in the Gaussian prior's typical set."""
    start_unit = start / start.norm(dim=-1, keepdim=True)
    end_unit = end / end.norm(dim=-1, keepdim=True)
    omega = torch.acos((start_unit * end_unit).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    sin_omega = torch.sin(omega)
    return (torch.sin((1 - t) * omega) * start + torch.sin(t * omega) * end) / sin_omega


def interpolation_latents(start: Tensor, end: Tensor, steps: int) -> Tensor:
    """(rows, D) endpoints -> (rows * steps, D) latents, each row walking start -> end."""
    t = torch.linspace(0.0, 1.0, steps).view(1, steps, 1)
    path = slerp(start.unsqueeze(1), end.unsqueeze(1), t)
    return path.reshape(-1, start.size(-1))
