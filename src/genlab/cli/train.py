"""genlab-train: train one model, write its run dir (checkpoints, samples, W&B run, summary.json).

The training itself is :func:`genlab.training.train`; this module is its Hydra app."""

from __future__ import annotations

from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from genlab.cli.app import hydra_app
from genlab.config_types import check_override_types
from genlab.training import train


@hydra_app("train")
def main(cfg: DictConfig) -> dict[str, Any]:
    check_override_types(cfg, HydraConfig.get().overrides.task, "train")
    return train(cfg, record_config=True)


if __name__ == "__main__":
    main()
