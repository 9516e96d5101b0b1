"""genlab-sweep: run a sweep definition on the W&B server or locally without one."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import hydra_app
from genlab.config_types import check_override_types
from genlab.errors import ConfigError
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.wandb_backend import run_wandb_sweep
from genlab.tracking.wandb_server import api_key_configured

log = logging.getLogger("genlab.sweep")
BACKENDS = ("auto", "local", "wandb")


def sweep(cfg: DictConfig) -> list[dict[str, Any]]:
    """Runs ``cfg.sweep`` with ``cfg.backend``; returns the local trial table (empty for W&B)."""
    source = f"conf/sweep/{HydraConfig.get().runtime.choices.get('sweep')}.yaml"
    definition = SweepDefinition.from_dict(OmegaConf.to_container(cfg.sweep, resolve=True), source)
    backend = cfg.backend
    overrides = tuple(str(item) for item in cfg.overrides)
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto" and cfg.report:
        backend = "local"  # the report is drawn from the local engine's study
    if backend == "auto":
        backend = "wandb" if api_key_configured() else "local"
        log.info("backend=auto: %s (%s W&B API key)", backend, "a" if backend == "wandb" else "no")
    if backend == "wandb" and cfg.report:
        raise ConfigError("report=true draws a local sweep's study: use backend=local (or auto)")
    if backend == "wandb":
        run_wandb_sweep(
            definition,
            count=cfg.count,
            workers=cfg.workers,
            project=cfg.wandb.project,
            entity=cfg.wandb.entity,
            timeout_s=cfg.wandb.timeout_s,
            overrides=overrides,
        )
        return []
    # Optuna and pandas load only for the local engine (docs/decisions.md).
    from genlab.naming import short_value
    from genlab.sweeps.local import LocalSweep
    from genlab.sweeps.table import TRIALS_MD, best_row, swept_parameters

    sweep_dir = Path(cfg.sweep_dir).absolute()  # also in a multirun (workers log below it)
    engine = LocalSweep(
        definition,
        sweep_dir,
        count=cfg.count,
        workers=cfg.workers,
        resume=cfg.resume,
        seed=cfg.seed,
        overrides=overrides,
        cwd=Path.cwd(),
        storage=cfg.storage,
        study_name=cfg.study,
        heartbeat_s=cfg.heartbeat_s,
        storage_retry_s=cfg.storage_retry_s,
    )
    if cfg.report:
        engine.report()
        return []
    rows = engine.run()
    statuses = [row["status"] for row in rows]
    log.info(
        "Sweep %s: %d trials (%s); table: %s",
        definition.name,
        len(rows),
        ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))),
        sweep_dir / TRIALS_MD,
    )
    if engine.stopped_by is not None:
        log.warning(
            "Sweep %s stopped by %s: continue it with the same arguments and resume=true "
            "(sweep_dir=%s)",
            definition.name, engine.stopped_by.name, sweep_dir,
        )  # fmt: skip
        sys.exit(128 + int(engine.stopped_by))
    best = best_row(definition, rows)
    if best is not None:
        values = ", ".join(
            f"{name}={short_value(best[name])}" for name in swept_parameters(definition)
        )
        log.info(
            "Best trial %d: %s=%.4g with %s; run dir: %s",
            best["trial"],
            definition.metric_name,
            best[definition.metric_name],
            values or "the fixed parameters",
            best["run_dir"],
        )
    elif any(row["status"] == "ok" and row.get("degenerate") for row in rows):
        log.info(
            "No best trial: every scored trial is degenerate (constant or near-constant "
            "samples, or %s at its floor: trials.md's degenerate column), so its %s says "
            "nothing about the settings",
            definition.metric_name, definition.metric_name,
        )  # fmt: skip
    return rows


@hydra_app("sweep")
def main(cfg: DictConfig) -> list[dict[str, Any]]:
    check_override_types(cfg, HydraConfig.get().overrides.task, "sweep")
    return sweep(cfg)


if __name__ == "__main__":
    main()
