"""The GPU acceptance check behind ``scripts/gpu_check.py``: trains each model in float32 and
bf16, times Lightning against a plain loop (with and without ``torch.compile``), trains under
DDP on several GPUs and compares Inception FID on the GPU and the CPU; writes one JSON record
and a Markdown table. ``--device cpu`` runs the same checks at tiny budgets, so the check is
tested on machines without a GPU."""

from genlab.gpu_check.runner import CHECKS, run_gpu_check

__all__ = ["CHECKS", "run_gpu_check"]
