"""OmegaConf resolvers that genlab's configs use."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from omegaconf import OmegaConf

from genlab.naming import folder_name


def register_resolvers() -> None:
    """``${genlab.cwd:}``: the directory genlab runs from.

    Hydra's ``${hydra:runtime.cwd}`` needs Hydra's runtime config, which does not exist yet
    when Hydra resolves ``hydra.sweep.dir`` at the start of a multirun or when its callbacks
    read ``hydra.run.dir``; the process's working directory is the same value (genlab's apps
    never change directory) and is there from the start.

    ``${genlab.job_folder:NUM,OVERRIDES,FALLBACK}``: a multirun job's folder (see job_folder).
    """
    if not OmegaConf.has_resolver("genlab.cwd"):
        OmegaConf.register_new_resolver("genlab.cwd", os.getcwd)
    if not OmegaConf.has_resolver("genlab.job_folder"):
        OmegaConf.register_new_resolver("genlab.job_folder", job_folder)


def job_folder(num: Any, overrides: Sequence[str], fallback: str) -> str:
    """``0_lr-0.0001``: the job's number and its values of the overrides the multirun sweeps.

    The job's own overrides (``hydra.overrides.task``) hold one value per key and do not say
    which keys were swept; the command line does: a key is swept when its override there is a
    sweep (``a,b``, ``range()``, ``choice()``, ``glob()``, ``interval()``), by Hydra's own
    parser. Where the command line is not this process's (a launcher that runs each job in a
    process of its own), nothing is known to be swept and the folder is ``<num>_<fallback>``.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    swept = {o.key_or_group for o in _parsed(parser, sys.argv[1:]) if o.is_sweep_override()}
    values = [
        (o.key_or_group, o.value()) for o in _parsed(parser, overrides) if o.key_or_group in swept
    ]
    return folder_name(str(num), values, fallback)


def _parsed(parser: Any, arguments: Sequence[str]) -> list[Any]:
    """The arguments that are Hydra overrides, parsed; flags and anything else left out."""
    parsed = []
    for argument in arguments:
        if "=" in argument and not argument.startswith("-"):
            try:
                parsed.append(parser.parse_override(argument))
            except Exception:  # not an override Hydra would take: not a sweep either
                continue
    return parsed
