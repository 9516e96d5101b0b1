"""The model contract (docs/extending.md): a model that does not record what genlab reads of
it fails on its first training step, naming the contract, instead of training unchecked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from genlab.errors import ModelContractError
from genlab.models.base import GenerativeModule
from tests.helpers import run_cli

# A model that logs its loss with Lightning's self.log only, as a LightningModule would.
LOGS_ONLY_MODEL = """
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from genlab.models.base import GenerativeModule


class LogsOnly(GenerativeModule):
    def __init__(
        self,
        channels: int,
        image_size: int,
        value_range: Sequence[float],
        optimizer: Callable[..., Optimizer],
    ) -> None:
        super().__init__(4, value_range)
        self.shape = (channels, image_size, image_size)
        self.layer = nn.Linear(4, channels * image_size * image_size)
        self.optimizer = optimizer

    def decode(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.layer(z)).view(-1, *self.shape)

    def training_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        x = self.to_unit_range(self.images_of(batch))
        loss = (self.decode(self.sample_latent(x.size(0))) - x).pow(2).mean()
        self.count_images(x.size(0))
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self) -> Optimizer:
        return self.optimizer(self.parameters())
"""

LOGS_ONLY_CONFIG = """
defaults:
  - optimizer: adam_vae

_target_: my_models.logs_only.LogsOnly
channels: ${data.channels}
image_size: ${data.image_size}
value_range: [0.0, 1.0]
"""


def test_a_model_that_logs_with_self_log_only_fails_on_its_first_step(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    package = tmp_path / "own"
    (package / "my_models").mkdir(parents=True)
    (package / "my_models" / "__init__.py").write_text("")
    (package / "my_models" / "logs_only.py").write_text(LOGS_ONLY_MODEL)
    (package / "conf" / "model").mkdir(parents=True)
    (package / "conf" / "model" / "logs_only.yaml").write_text(LOGS_ONLY_CONFIG)
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", "model=logs_only", "debug=fast", "logger=csv", f"data.root={fashion_mnist_root}",
        f"hydra.searchpath=[file://{package / 'conf'}]", f"hydra.run.dir={run_dir}",
        env={"PYTHONPATH": os.pathsep.join([str(package), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-4000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("genlab: error: LogsOnly breaks genlab's model contract")
    assert "docs/extending.md#the-model-contract" in error
    assert "self.record_step_values(values, prog_bar)" in error
    assert "count_images" not in error  # it counts its images
    assert "Traceback" not in result.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["global_step"] == 1


class _RecordsButCountsNothing(GenerativeModule):
    def __init__(self) -> None:
        super().__init__(latent_dim=2, value_range=(0.0, 1.0), num_fixed_samples=4)
        self.layer = torch.nn.Linear(2, 4)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layer(z)).view(-1, 1, 2, 2)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = (self.decode(self.sample_latent(batch[0].size(0))) - batch[0]).pow(2).mean()
        self.record_step_values({"train/loss": loss.detach()}, {})
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_a_model_that_does_not_count_its_images_fails_on_its_first_step(tmp_path: Path) -> None:
    images = DataLoader(TensorDataset(torch.rand(16, 1, 2, 2)), batch_size=4)
    trainer = pl.Trainer(
        max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu",
    )  # fmt: skip
    with pytest.raises(ModelContractError, match=r"self\.count_images\(batch_size\)") as raised:
        trainer.fit(_RecordsButCountsNothing(), images)
    assert "docs/extending.md#the-model-contract" in str(raised.value)
    assert "record_step_values" not in str(raised.value)  # it records its values
    assert trainer.global_step == 1
