"""Training one model: :func:`train` (what `genlab-train` runs), the run's parts built from its
config, how a run ends, and the record it leaves."""

from genlab.training.run import train

__all__ = ["train"]
