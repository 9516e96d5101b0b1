"""genlab-calibrate: the current protocol's scores of reference image sets with known
defects (the training split, classes dropped, blur, noise, blank), to read a number against."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig

from genlab.cli.app import hydra_app
from genlab.errors import ConfigError
from genlab.machine import describe_machine
from genlab.markdown import markdown_table
from genlab.metrics.keys import BY_NAME, SCORE_NAMES
from genlab.results import check_name, write_record
from genlab.tracking.summary import MACHINE_KEY

log = logging.getLogger("genlab.calibrate")

TABLE_FILE = "calibration.md"
RESULTS_FILE = "calibration.json"


def calibrate(cfg: DictConfig) -> list[dict[str, Any]]:
    import torch

    from genlab.cli.evaluate import _device
    from genlab.data.base import UInt8RGB
    from genlab.machine import MachineRecord
    from genlab.metrics.calibration import reference_sets
    from genlab.metrics.evaluator import PRECISION, Evaluator
    from genlab.metrics.protocol import MetricProtocol

    if not isinstance(cfg.num_images, int) or cfg.num_images < 2:
        raise ConfigError(f"num_images must be an integer >= 2, got {cfg.num_images!r}")
    if cfg.record is not None:
        check_name(cfg.record)
    machine = MachineRecord(precision=PRECISION)
    protocol = MetricProtocol.from_config(cfg.metrics)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    evaluator = Evaluator(protocol, datamodule, Path(cfg.metrics.cache_dir))
    train = datamodule.load_split("train")
    images, labels = (
        train.tensors if hasattr(train, "tensors") else map(torch.stack, zip(*train, strict=True))
    )
    sets = reference_sets(list(cfg.classes_dropped), list(cfg.blur_sigmas), list(cfg.noise_sigmas))
    if cfg.sets is not None:
        unknown = sorted(set(cfg.sets) - {s.name for s in sets})
        if unknown:
            raise ConfigError(
                f"sets names {unknown}, which are not reference sets; choose among "
                f"{', '.join(s.name for s in sets)}"
            )
        sets = [s for s in sets if s.name in set(cfg.sets)]
    rows = []
    for reference in sets:
        started = time.monotonic()
        rng = torch.Generator().manual_seed(cfg.seed)
        try:
            built = reference.build(images, labels, rng)[: cfg.num_images]
        except ValueError as exc:
            raise ConfigError(f"reference set {reference.name!r}: {exc}") from None
        scores = evaluator.score(UInt8RGB.from_tensor(built), device=_device(cfg.device))
        rows.append({"set": reference.name, "defect": reference.defect, **scores})
        log.info("%s (%.0f s): %s", reference.name, time.monotonic() - started,
                 json.dumps(rows[-1]))  # fmt: skip
    run_dir = Path(cfg.paths.output_dir)
    block = machine.block()
    results = {"sets": rows, MACHINE_KEY: block}
    (run_dir / RESULTS_FILE).write_text(json.dumps(results, indent=1) + "\n")
    table = calibration_table(rows, HydraConfig.get().runtime.choices.data, block)
    (run_dir / TABLE_FILE).write_text(table)
    log.info("%s\ntable: %s", table, run_dir / TABLE_FILE)
    if cfg.record is not None:
        write_record(cfg.record, block, *calibration_cells(rows))
    return rows


def calibration_table(rows: list[dict[str, Any]], data: str, machine: dict[str, Any]) -> str:
    first = rows[0]
    lines = [
        f"Reference sets of `{data}` (training split) against its `{first['metric_real_split']}` "
        f"split ({first['metric_num_real']} images), `{first['metric_extractor']}` features.",
        "",
        *markdown_table(*calibration_cells(rows)),
        "",
        describe_machine(machine),
    ]
    return "\n".join(lines) + "\n"


def calibration_cells(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The table's columns and display cells: the set, its image count, its scores."""
    scores = [name for name in SCORE_NAMES if any(name in row for row in rows)]
    columns = ["set", "images", *(BY_NAME[s].label for s in scores)]
    cells = [
        [row["set"], str(row["metric_num_generated"])]
        + [_format(row.get(s), BY_NAME[s].digits + 1) for s in scores]
        for row in rows
    ]
    return columns, cells


def _format(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@hydra_app("calibrate")
def main(cfg: DictConfig) -> list[dict[str, Any]]:
    return calibrate(cfg)


if __name__ == "__main__":
    main()
