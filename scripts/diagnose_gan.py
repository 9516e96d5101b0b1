"""What a trained GAN's discriminator looks at, and how far its generator has moved.

    python scripts/diagnose_gan.py RUN/checkpoints/last.ckpt [...] [--batch 64]

For each checkpoint, on one batch of training images and one of samples (training mode, as
the networks train):

- D's mean output on real and fake images in separate batches (as genlab trains it), in one
  mixed batch, and in eval mode. A discriminator with batch norm that separates the separate
  batches but not the mixed one tells batches apart by their statistics, not images by content.
- ``common``: the norm of the batch-mean of dL_G/dx over the mean per-sample norm. Near 0, the
  generator's gradient is per-sample noise with no direction shared by its samples.
- The generated images' mean pixel and standard deviation over latents (Fashion-MNIST: 0.286
  and 0.275), and the largest and mean change of the generator's weights since initialisation
  (the run's seed rebuilds the initial weights).
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from genlab.models import GAN, load_checkpoint


def scores(discriminator: nn.Module, real: Tensor, fake: Tensor) -> dict[str, float]:
    half = len(real) // 2
    with torch.no_grad():
        discriminator.train()
        separate = discriminator(real).mean(), discriminator(fake).mean()
        mixed = discriminator(torch.cat([real[:half], fake[:half]]))
        discriminator.eval()
        evaluated = discriminator(real).mean(), discriminator(fake).mean()
    discriminator.train()
    return {
        "separate_real": float(separate[0]),
        "separate_fake": float(separate[1]),
        "mixed_real": float(mixed[:half].mean()),
        "mixed_fake": float(mixed[half:].mean()),
        "eval_real": float(evaluated[0]),
        "eval_fake": float(evaluated[1]),
    }


def generator_gradient(model: GAN, fake: Tensor) -> float:
    """|mean_i dL_G/dx_i| / mean_i |dL_G/dx_i| for the generator's loss on a fake batch."""
    images = fake.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.loss.generator(model.discriminator(images)), images)
    return float(grad.mean(0).norm() / grad.flatten(1).norm(dim=1).mean())


def weight_change(model: GAN, cfg: DictConfig) -> tuple[float, float]:
    torch.manual_seed(cfg.seed)
    initial = instantiate(cfg.model.generator)
    changes = torch.cat(
        [
            (p.detach() - q.detach()).abs().flatten()
            for p, q in zip(model.generator.parameters(), initial.parameters(), strict=True)
        ]
    )
    return float(changes.max()), float(changes.mean())


def diagnose(path: str, batch: int) -> dict[str, float]:
    model, cfg = load_checkpoint(path)
    if not isinstance(model, GAN):
        raise SystemExit(f"{path}: not a GAN checkpoint")
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    real = torch.stack([datamodule.train_set[i][0] for i in range(batch)])
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        fake = model.generator.train()(model.sample_latent(batch, generator))
    images = model.to_unit_range(fake)
    biggest, mean = weight_change(model, cfg)
    return {
        **scores(model.discriminator, real, fake),
        "common": generator_gradient(model, fake),
        "mean_pixel": float(images.mean()),
        "std_over_z": float(images.std(0).mean()),
        "generator_steps": model.generator_steps,
        "max_weight_change": biggest,
        "mean_weight_change": mean,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)  # small batches: threads only add overhead
    for path in args.checkpoints:
        values = diagnose(path, args.batch)
        print(path)
        print("  " + "  ".join(f"{k} {v:.4g}" for k, v in values.items()))


if __name__ == "__main__":
    main()
