"""OmegaConf resolvers that genlab's configs use."""

from __future__ import annotations

import os

from omegaconf import OmegaConf


def register_resolvers() -> None:
    """``${genlab.cwd:}``: the directory genlab runs from.

    Hydra's ``${hydra:runtime.cwd}`` needs Hydra's runtime config, which does not exist yet
    when Hydra resolves ``hydra.sweep.dir`` at the start of a multirun or when its callbacks
    read ``hydra.run.dir``; the process's working directory is the same value (genlab's apps
    never change directory) and is there from the start.
    """
    if not OmegaConf.has_resolver("genlab.cwd"):
        OmegaConf.register_new_resolver("genlab.cwd", os.getcwd)
