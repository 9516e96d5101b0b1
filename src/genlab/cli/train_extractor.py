"""genlab-train-extractor: train a domain extractor's classifier and write its weights."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from genlab.atomic_write import write_atomic
from genlab.cli.app import hydra_app
from genlab.errors import ConfigError
from genlab.hashing import sha256_of
from genlab.tracking.summary import MACHINE_KEY

log = logging.getLogger("genlab.train_extractor")


def train_extractor(cfg: DictConfig) -> dict[str, Any]:
    # Lightning, torch and torch-fidelity load here, not for `--help` (docs/decisions.md).
    import pytorch_lightning as pl
    import torch

    from genlab.machine import MachineRecord
    from genlab.metrics.classifier_module import ClassifierModule
    from genlab.metrics.domain import DOMAIN_EXTRACTORS

    if cfg.extractor not in DOMAIN_EXTRACTORS:
        raise ConfigError(
            f"unknown domain extractor {cfg.extractor!r}; choose one of {', '.join(DOMAIN_EXTRACTORS)}"
        )
    spec = DOMAIN_EXTRACTORS[cfg.extractor]
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    module = ClassifierModule(spec, lr=cfg.lr, epochs=cfg.epochs)
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        accelerator=cfg.accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        default_root_dir=cfg.paths.output_dir,
    )
    machine = MachineRecord(precision=trainer.precision)
    trainer.fit(module, datamodule=datamodule)
    (test,) = trainer.test(module, datamodule=datamodule)
    out = Path(cfg.out)
    write_atomic(out, lambda file: torch.save(module.classifier.state_dict(), file))
    record = {
        "extractor": cfg.extractor,
        "weights": out.name,
        "sha256": sha256_of(out),
        "test_accuracy": round(float(test["test/accuracy"]), 4),
        "epochs": cfg.epochs,
        "lr": cfg.lr,
        "seed": cfg.seed,
        MACHINE_KEY: machine.block(),
    }
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    log.info("Wrote %s: %s", out, record)
    return record


@hydra_app("train_extractor")
def main(cfg: DictConfig) -> dict[str, Any]:
    return train_extractor(cfg)


if __name__ == "__main__":
    main()
