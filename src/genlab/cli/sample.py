"""genlab-sample: a sample grid, or a latent interpolation, from a checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from genlab.cli.app import hydra_app
from genlab.cli.run_dir_check import check_writable_dir
from genlab.errors import ConfigError

log = logging.getLogger("genlab.sample")


def default_output(ckpt_path: Path, name: str) -> Path:
    """<run dir>/samples/<name> for a checkpoint inside a run's checkpoints/ folder."""
    run_dir = (
        ckpt_path.parent.parent if ckpt_path.parent.name == "checkpoints" else ckpt_path.parent
    )
    return run_dir / "samples" / name


def output_path(out: str | None, default: Path) -> Path:
    """``out`` as a file, or the default name inside ``out`` when it is a folder; its folder
    must be writable (checked before the checkpoint is loaded)."""
    path = Path(out) if out else default
    if out and path.is_dir():
        path = path / default.name
    check_writable_dir(path.parent.absolute(), "out")
    return path


def sample(cfg: DictConfig) -> Path:
    # torch and the models load here, not for `--help` or `--cfg job` (docs/decisions.md).
    import torch

    from genlab.models import load_checkpoint
    from genlab.sampling import interpolation_latents, save_grid

    for key in ("n", "steps"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise ConfigError(f"{key} must be a positive integer, got {cfg[key]!r}")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {cfg.seed!r}; e.g. seed=0")
    if cfg.out and not Path(cfg.out).is_dir() and Path(cfg.out).suffix.lower() != ".png":
        raise ConfigError(f"out={cfg.out} must be a .png file or an existing folder")
    ckpt_path = Path(cfg.ckpt_path)
    kind = "interpolation" if cfg.interpolate else "samples"
    name = f"{kind}_{ckpt_path.stem}_n{cfg.n}_seed{cfg.seed}.png"
    out = output_path(cfg.out, default_output(ckpt_path, name))
    model, _ = load_checkpoint(ckpt_path)
    noise = torch.Generator().manual_seed(cfg.seed)
    if cfg.interpolate:
        # n rows, each a walk of `steps` images between two random latents.
        start, end = (
            model.sample_latent(cfg.n, noise).cpu(),
            model.sample_latent(cfg.n, noise).cpu(),
        )
        images = model.generate(interpolation_latents(start, end, cfg.steps))
        nrow = cfg.steps
    else:
        images = model.generate(model.sample_latent(cfg.n, noise))
        nrow = None
    save_grid(images, out, nrow=nrow)
    log.info("Wrote %s", out)
    print(out)
    return out


@hydra_app("sample", examples={"ckpt_path": "<run dir>/checkpoints/last.ckpt"})
def main(cfg: DictConfig) -> Path:
    return sample(cfg)


if __name__ == "__main__":
    main()
