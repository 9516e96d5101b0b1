"""The run dir's ``.hydra/`` folder, written by genlab-train once the run is accepted.

Hydra writes ``.hydra/`` before the task starts, so a resume that genlab then refuses (another
network width, a finished run) would already have replaced the run's recorded config. The
train app sets ``hydra.output_subdir: null`` and writes the same three files here instead,
after its checks.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from genlab.atomic_write import write_text_atomic

HYDRA_SUBDIR = ".hydra"


def write_hydra_record(run_dir: Path, task_config: DictConfig) -> None:
    """``config.yaml`` (the task's config, unresolved), ``hydra.yaml`` and ``overrides.yaml``,
    as Hydra writes them."""
    hydra_config = HydraConfig.instance().cfg
    assert hydra_config is not None, "write_hydra_record runs inside a Hydra app"
    folder = run_dir / HYDRA_SUBDIR
    write_text_atomic(folder / "config.yaml", OmegaConf.to_yaml(task_config))
    write_text_atomic(folder / "hydra.yaml", OmegaConf.to_yaml(hydra_config))
    write_text_atomic(
        folder / "overrides.yaml", OmegaConf.to_yaml(hydra_config.hydra.overrides.task)
    )
