"""LightningModules: one per model family, sharing sampling and checkpoint logic."""

from genlab.models.base import GenerativeModule
from genlab.models.gan import GAN, WGANGP
from genlab.models.loading import load_checkpoint
from genlab.models.vae import VAE

__all__ = ["GAN", "VAE", "WGANGP", "GenerativeModule", "load_checkpoint"]
