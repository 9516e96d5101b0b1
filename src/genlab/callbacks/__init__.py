"""Lightning callbacks genlab adds to every run."""

from genlab.callbacks.divergence import DivergenceGuard
from genlab.callbacks.fidelity import FidelityMetrics
from genlab.callbacks.progress import StepProgressBar
from genlab.callbacks.progress_log import ProgressLog
from genlab.callbacks.replicas import ReplicasInSync
from genlab.callbacks.sample_grid import SampleGrid

__all__ = [
    "DivergenceGuard",
    "FidelityMetrics",
    "ProgressLog",
    "ReplicasInSync",
    "SampleGrid",
    "StepProgressBar",
]
