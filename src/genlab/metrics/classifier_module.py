"""Training of a domain extractor's classifier (scripts/train_extractor.py), in Lightning."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor

from genlab.metrics.domain import DomainClassifier, DomainExtractorSpec


class ClassifierModule(pl.LightningModule):
    """Cross-entropy with horizontal-flip augmentation; inputs in [0, 1], normalised here
    exactly as :class:`~genlab.metrics.domain.DomainFeatureExtractor` normalises them."""

    def __init__(self, spec: DomainExtractorSpec, lr: float, epochs: int) -> None:
        super().__init__()
        self.spec = spec
        self.lr = lr
        self.epochs = epochs
        self.classifier = DomainClassifier()

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier((x - self.spec.mean) / self.spec.std)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        x, y = batch
        flip = torch.rand(x.size(0), device=x.device) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def _accuracy(self, batch: Any, stage: str) -> None:
        x, y = batch
        accuracy = (self(x).argmax(dim=1) == y).float().mean()
        self.log(f"{stage}/accuracy", accuracy, prog_bar=True, on_epoch=True)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._accuracy(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._accuracy(batch, "test")

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=5e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.lr, total_steps=self.trainer.estimated_stepping_batches
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
