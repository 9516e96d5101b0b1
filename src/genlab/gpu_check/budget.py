"""How much each part of the check does on a GPU, and the tiny version of it on a CPU."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MODELS = ("gan", "wgan_gp", "vae")
PRECISIONS = ("32-true", "bf16-mixed")


@dataclass(frozen=True)
class Budget:
    """``network_width``/``batch_size``: None keeps the configs' values."""

    device: str  # "cuda" or "cpu"
    trainer: str  # the one-device trainer config
    ddp_trainer: str  # the multi-process trainer config
    train_steps: int  # optimizer steps of each training run (and of each DDP run)
    log_every_n_steps: int  # so that a run this short still logs its losses
    warmup_batches: int  # batches before a timing starts
    timed_batches: int  # batches timed for the Lightning-over-plain ratio
    fid_images: int  # generated and real images scored on each device
    network_width: int | None
    batch_size: int | None

    def fields(self) -> dict[str, Any]:
        return asdict(self)


# At most 8 minutes on one GPU (docs/scaling_out.md): 300 steps of each model in each
# precision, 200 timed batches per ratio, Inception on 2,000 + 2,000 images on each device.
CUDA = Budget(
    device="cuda", trainer="gpu", ddp_trainer="ddp", train_steps=300, log_every_n_steps=50,
    warmup_batches=20,
    timed_batches=200, fid_images=2000, network_width=None, batch_size=None,
)  # fmt: skip
# Tiny, for the test suite: the same code paths in seconds on two cores. 6 steps are one
# WGAN-GP iteration (5 critic steps and a generator step).
CPU = Budget(
    device="cpu", trainer="cpu", ddp_trainer="ddp_cpu", train_steps=6, log_every_n_steps=1,
    warmup_batches=1,
    timed_batches=3, fid_images=0, network_width=8, batch_size=16,
)  # fmt: skip
BUDGETS = {"cuda": CUDA, "cpu": CPU}
