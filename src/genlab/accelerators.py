"""Whether the GPUs a config asks for are there: a run that needs CUDA on a machine without it
stops with one line before anything is loaded or trained."""

from __future__ import annotations

import os

from omegaconf import DictConfig

from genlab.errors import ConfigError

# Lightning's accelerator names that mean CUDA GPUs.
CUDA_ACCELERATORS = ("gpu", "cuda")


def cuda_gpu_count() -> int:
    """The CUDA GPUs torch sees, counted as Lightning counts them (through NVML where it can:
    this starts no CUDA context, so a DDP launch that forks afterwards stays safe)."""
    import torch

    return torch.cuda.device_count()


def no_cuda_gpu_reason() -> str:
    """Why torch sees no CUDA GPU, as a clause: a CPU-only build, or no GPU visible to it."""
    import torch

    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is built without CUDA: it sees no CUDA GPU"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    hidden = "" if visible is None else f", CUDA_VISIBLE_DEVICES={visible!r}"
    return (
        f"torch {torch.__version__} (CUDA {torch.version.cuda}{hidden}) sees no CUDA GPU: "
        "no GPU, no driver, or none allotted to this job"
    )


def check_accelerator_available(trainer: DictConfig, gpu_count: int | None = None) -> None:
    """A trainer on CUDA GPUs (trainer=gpu, ddp, ddp_spawn) refused with the CPU's configs when
    torch sees no GPU (``gpu_count``: this machine's count when None), before data, model or
    run are set up (Lightning would say "No supported gpu backend found!" only once the data
    are loaded)."""
    accelerator = trainer.get("accelerator")
    if not isinstance(accelerator, str) or accelerator.lower() not in CUDA_ACCELERATORS:
        return
    if (cuda_gpu_count() if gpu_count is None else gpu_count) > 0:
        return
    raise ConfigError(
        f"trainer.accelerator={accelerator} needs a CUDA GPU and {no_cuda_gpu_reason()}; "
        "train on the CPU with trainer=cpu (trainer=ddp_cpu for DDP's code path)"
    )
