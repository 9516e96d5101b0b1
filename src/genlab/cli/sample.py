"""genlab-sample: a sample grid, or a latent interpolation, from a checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import hydra_app
from genlab.errors import ConfigError

log = logging.getLogger("genlab.sample")


def default_output(ckpt_path: Path, name: str) -> Path:
    """<run dir>/samples/<name> for a checkpoint inside a run's checkpoints/ folder."""
    run_dir = (
        ckpt_path.parent.parent if ckpt_path.parent.name == "checkpoints" else ckpt_path.parent
    )
    return run_dir / "samples" / name


def sample(cfg: DictConfig) -> Path:
    # torch and the models load here, not for `--help` or `--cfg job` (docs/decisions.md).
    import torch

    from genlab.models import load_checkpoint
    from genlab.sampling import interpolation_latents, save_grid

    if OmegaConf.is_missing(cfg, "ckpt_path"):
        raise ConfigError("which checkpoint? pass ckpt_path=<run dir>/checkpoints/last.ckpt")
    for key in ("n", "steps"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise ConfigError(f"{key} must be a positive integer, got {cfg[key]!r}")
    ckpt_path = Path(cfg.ckpt_path)
    model, _ = load_checkpoint(ckpt_path)
    noise = torch.Generator().manual_seed(cfg.seed)
    if cfg.interpolate:
        # n rows, each a walk of `steps` images between two random latents.
        start, end = (
            model.sample_latent(cfg.n, noise).cpu(),
            model.sample_latent(cfg.n, noise).cpu(),
        )
        images = model.generate(interpolation_latents(start, end, cfg.steps))
        nrow, name = cfg.steps, f"interpolation_{ckpt_path.stem}_n{cfg.n}_seed{cfg.seed}.png"
    else:
        images = model.generate(model.sample_latent(cfg.n, noise))
        nrow, name = None, f"samples_{ckpt_path.stem}_n{cfg.n}_seed{cfg.seed}.png"
    out = Path(cfg.out) if cfg.out else default_output(ckpt_path, name)
    save_grid(images, out, nrow=nrow)
    log.info("Wrote %s", out)
    print(out)
    return out


@hydra_app("sample")
def main(cfg: DictConfig) -> Path:
    return sample(cfg)


if __name__ == "__main__":
    main()
