"""What every genlab model offers (the :class:`GenerativeModel` interface) and what the
LightningModules share: a latent prior, sampling in [0, 1], fixed noise, counters."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from genlab._compat.lightning import logs_this_batch
from genlab.errors import ConfigError, ModelContractError

CONTRACT_DOCS = "docs/extending.md#the-model-contract"


@runtime_checkable
class GenerativeModel(Protocol):
    """What genlab's trainer, callbacks, metrics and commands use of a model.

    Images are in [0, 1] as (N, C, H, W). :class:`GenerativeModule` implements it for the
    LightningModules; a model outside that hierarchy (say, a wrapper around a pretrained
    generator) is scored and sampled like them when it implements this.
    """

    latent_dim: int
    fixed_noise: Tensor  # the latents of the progress grids, the same across resumes
    device: torch.device  # where the model computes: metrics extract features there

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n latents from the model's prior, on the model's device."""
        ...

    def decode(self, z: Tensor) -> Tensor:
        """Latents (N, latent_dim) -> images."""
        ...

    def generate(self, z: Tensor, batch_size: int = 256) -> Tensor:
        """Images for given latents, in eval mode, in batches, on the CPU."""
        ...

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256) -> Tensor:
        """n images; the same seed gives the same images."""
        ...

    def progress(self) -> dict[str, int]:
        """Training progress: ``global_step`` (optimizer steps), ``images_seen`` (real images
        consumed, over all processes) and, for models that count them, ``generator_steps``."""
        ...


@runtime_checkable
class Reconstructs(Protocol):
    """A model that maps images back through its latent space (a VAE): sample grids show its
    reconstructions beside the originals."""

    def reconstruct(self, x: Tensor) -> Tensor:
        """Images in the model's value range -> reconstructions in [0, 1]."""
        ...

    def to_unit_range(self, x: Tensor) -> Tensor:
        """Images in the model's value range -> [0, 1], to show the originals."""
        ...


class GenerativeModule(pl.LightningModule):
    """Base class: subclasses implement :meth:`decode` and the training step.

    Every consumer of images (sample grids, metrics, the sample script) goes through
    :meth:`sample` or :meth:`decode`, which return images in [0, 1] as (N, C, H, W).

    The model contract, what genlab reads of a model besides :class:`GenerativeModel`
    (docs/extending.md, "The model contract"):

    - each training step calls :meth:`record_step_values` with the batch's training values
      (``step_values``: the divergence guard checks them after every batch, summary.json
      reports the last ones; values logged with Lightning's ``self.log`` alone reach neither)
      and :meth:`count_images` with the real images it consumed (``images_seen``); the first
      training step raises :class:`ModelContractError` when either is missing;
    - ``device`` (Lightning's): where latents are drawn and metrics extract features;
    - ``ddp_find_unused_parameters`` and ``optimizer_config_keys``, class attributes below.
    """

    # Whether a training step leaves some parameters without gradients (a GAN's two
    # optimizers, each stepping one network): the ddp* trainers tell DDP to expect it.
    ddp_find_unused_parameters: bool = False

    # The model config's keys of the optimizers that configure_optimizers returns, in its
    # order: a run continued from a checkpoint sets their changed settings on the restored
    # optimizers (genlab.checkpoints.config_changes).
    optimizer_config_keys: tuple[str, ...] = ("optimizer",)

    def __init__(
        self,
        latent_dim: int,
        value_range: Sequence[float],
        num_fixed_samples: int = 64,
        fixed_noise_seed: int = 0,
    ) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ConfigError(f"model.latent_dim must be at least 1, got {latent_dim}")
        low, high = (float(v) for v in value_range)
        if not low < high:
            raise ConfigError(
                f"model.value_range must be [low, high] with low < high, got {value_range}"
            )
        self.latent_dim = latent_dim
        self.value_range = (low, high)
        noise_source = torch.Generator().manual_seed(fixed_noise_seed)
        # Persistent, so grids made after a resume or reload use the same latents.
        self.register_buffer("fixed_noise", self.sample_prior(num_fixed_samples, noise_source))
        self.images_seen = 0
        self.checkpoint_global_step: int | None = None  # set when loaded from a checkpoint
        # The latest batch's training values ("train/..."), this process's, detached; the
        # divergence guard reads them after every batch, whether or not they were logged.
        self.step_values: dict[str, Tensor] = {}
        self._contract_checked = False
        self._images_at_start = 0

    # -- the sampling interface -------------------------------------------------------
    @abstractmethod
    def decode(self, z: Tensor) -> Tensor:
        """Latents (N, latent_dim) -> images in [0, 1], (N, C, H, W)."""

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n latents from the prior, a standard normal, drawn on the CPU (so a seed gives the
        same latents on any device). The one place the prior is defined: a model with another
        prior overrides this method. ``__init__`` calls it for the fixed noise, so it may use
        ``self.latent_dim`` only."""
        return torch.randn(n, self.latent_dim, generator=generator)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n latents from the prior, on the model's device."""
        return self.sample_prior(n, generator).to(self.device)

    @torch.no_grad()
    def generate(self, z: Tensor, batch_size: int = 256) -> Tensor:
        """Images in [0, 1] for given latents, in eval mode, in batches; returns CPU tensors."""
        was_training = self.training
        self.eval()
        try:
            chunks = [self.decode(chunk.to(self.device)).cpu() for chunk in z.split(batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(chunks).clamp_(0.0, 1.0)

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256) -> Tensor:
        """n images from the model in [0, 1]; the same seed gives the same images."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.generate(self.sample_latent(n, generator), batch_size=batch_size)

    # -- shared helpers for subclasses --------------------------------------------------
    def to_unit_range(self, x: Tensor) -> Tensor:
        """Data in the model's value range -> [0, 1]."""
        low, high = self.value_range
        return ((x - low) / (high - low)).clamp(0.0, 1.0)

    @staticmethod
    def images_of(batch: Any) -> Tensor:
        """The image tensor of a batch that may also carry labels."""
        return batch[0] if isinstance(batch, list | tuple) else batch

    def count_images(self, batch_size: int) -> None:
        """Real images consumed so far, over all processes."""
        trainer = self._attached_trainer()
        self.images_seen += batch_size * (trainer.world_size if trainer is not None else 1)

    def record_step_values(self, values: dict[str, Tensor], prog_bar: dict[str, Tensor]) -> None:
        """Keeps this batch's training values and logs them on the batches Lightning writes
        to its loggers (every ``trainer.log_every_n_steps``): a ``self.log`` call costs far
        more than a small training step can spare, and values logged on other batches are
        overwritten unseen."""
        self.step_values = values
        trainer = self._attached_trainer()
        if trainer is None or not logs_this_batch(trainer):
            return
        # Averaged over ranks: the logged loss is the global batch's, as on one device.
        self.log_dict(values, sync_dist=True)
        self.log_dict(prog_bar, prog_bar=True, logger=False)

    def _attached_trainer(self) -> pl.Trainer | None:
        try:
            return self.trainer  # Lightning raises when no trainer is attached
        except RuntimeError:
            return None

    def compilable_networks(self) -> list[nn.Module]:
        """The networks ``compile_networks`` compiles: every child with parameters."""
        return [child for child in self.children() if next(child.parameters(), None) is not None]

    def compile_networks(self, **options: Any) -> None:
        """``torch.compile`` each network in place, so checkpoints keep their keys."""
        for network in self.compilable_networks():
            network.compile(**options)

    def on_fit_start(self) -> None:
        # seed_everything gives every rank the same random stream, so without this each rank
        # would draw the same latents (and penalty interpolates): the generator's global batch
        # would be one rank's batch repeated. A resume puts each rank's saved state back when
        # training starts (RNGStateInCheckpoint); the step here covers checkpoints without them.
        if self.trainer.world_size > 1:
            torch.manual_seed(
                hash((torch.initial_seed(), self.trainer.global_rank, self.trainer.global_step))
                % 2**63
            )

    def on_train_start(self) -> None:
        self._images_at_start = self.images_seen

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not self._contract_checked:
            self._check_contract()
            self._contract_checked = True

    def _check_contract(self) -> None:
        """After the first training step: it recorded its values and counted its images."""
        missing = []
        if not self.step_values:
            missing.append(
                "self.record_step_values(values, prog_bar) with its training values (values "
                "logged with self.log alone are not checked by the divergence guard nor "
                "reported in summary.json)"
            )
        if self.images_seen == self._images_at_start:
            missing.append("self.count_images(batch_size) with the real images it consumed")
        if missing:
            raise ModelContractError(
                f"{type(self).__name__} breaks genlab's model contract ({CONTRACT_DOCS}): its "
                f"training step must call {' and '.join(missing)}"
            )

    def progress(self) -> dict[str, int]:
        """Training progress as summary.json reports it (``global_step`` is 0 before a trainer
        is attached)."""
        return {"global_step": self.global_step, "images_seen": self.images_seen}

    def on_train_end(self) -> None:
        # Lightning hands callback_metrics back to the main process when rank zero was
        # spawned (ddp_spawn); the progress summary.json reports travels with them, and so
        # do the last batch's training values (logged or not), averaged over ranks.
        strategy = self.trainer.strategy
        last_values = {
            key: strategy.reduce(value, reduce_op="mean") for key, value in self.step_values.items()
        }
        self.trainer.callback_metrics.update(last_values)
        self.trainer.callback_metrics.update(
            {f"progress/{key}": torch.tensor(value) for key, value in self.progress().items()}
        )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["images_seen"] = self.images_seen

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.images_seen = int(checkpoint.get("images_seen", 0))
        self.checkpoint_global_step = checkpoint.get("global_step")
