"""LightningModules: one per model family, sharing sampling and checkpoint logic."""

from genlab.models.base import GenerativeModel, GenerativeModule, Reconstructs
from genlab.models.gan import GAN, WGAN, WGANGP
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE

__all__ = [
    "GAN",
    "VAE",
    "WGAN",
    "WGANGP",
    "GenerativeModel",
    "GenerativeModule",
    "Reconstructs",
    "load_checkpoint",
]
