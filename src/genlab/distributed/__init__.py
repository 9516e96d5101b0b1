"""Multi-process training: the DDP strategy each model needs and launches that are safe under Hydra."""

from genlab.distributed.launch import check_launch_is_safe
from genlab.distributed.strategy import ddp_strategy

__all__ = ["check_launch_is_safe", "ddp_strategy"]
