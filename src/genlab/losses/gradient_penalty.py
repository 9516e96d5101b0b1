"""The WGAN-GP gradient penalty (Gulrajani et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """E[(||grad_x D(x)||_2 - 1)^2] on random interpolates x between real and fake images.

    The graph is kept (``create_graph=True``) so the penalty's own gradient reaches the critic.
    """
    alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device)
    interpolates = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).float()
    interpolates.requires_grad_(True)
    # Under mixed precision the inner gradient would be taken in half precision without the
    # loss scaling that protects the outer backward pass: compute the penalty in float32.
    with torch.autocast(device_type=real.device.type, enabled=False):
        scores = critic(interpolates)
        (grads,) = torch.autograd.grad(outputs=scores.sum(), inputs=interpolates, create_graph=True)
    norms = grads.flatten(start_dim=1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()
