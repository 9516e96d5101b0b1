"""The calibration's reference sets: each defect as specified, and the orderings a metric
must show on them, measured by scripts/calibrate_metrics.py on real Fashion-MNIST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from genlab.cli.calibrate_metrics import calibrate
from genlab.machine import describe_machine
from genlab.markdown import markdown_table
from genlab.metrics.calibration import reference_sets
from genlab.results import RESULTS_DIR_VARIABLE, load_record
from tests.helpers import (
    assert_machine_block,
    assert_user_error,
    compose_app,
    run_cli,
    user_error_in_process,
)


def build(name: str, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    sets = {s.name: s for s in reference_sets([2], [1.0], [0.1])}
    return sets[name].build(images, labels, torch.Generator().manual_seed(0))


def test_reference_sets_have_the_defects_they_name() -> None:
    labels = torch.arange(12) % 4  # classes 0..3, three images each
    images = torch.full((12, 1, 16, 16), 128, dtype=torch.uint8)
    images[:, :, 8, 8] = 255  # one bright pixel in every image
    names = [s.name for s in reference_sets([2], [1.0], [0.1])]
    assert names == [
        "train split", "2 classes dropped", "blur sigma=1", "noise sigma=0.1", "uniform noise",
        "blank",
    ]  # fmt: skip
    kept = build("2 classes dropped", images, labels * 10)  # labels 0, 10, 20, 30
    assert len(kept) == 6  # classes 20 and 30 (the last two) are gone
    blurred = build("blur sigma=1", images, labels)
    # A Gaussian of sigma 1 keeps exp(0) / (2 pi) ~ 0.159 of a point at its centre.
    assert blurred[0, 0, 8, 8] == round(128 + 127 * 0.1592)
    assert blurred[0, 0, 0, 0] == 128  # a flat region stays flat (reflected borders)
    noisy = build("noise sigma=0.1", images, labels).float()
    assert noisy[:, :, :4].std().item() == pytest.approx(0.1 * 255, rel=0.05)
    assert build("blank", images, labels).count_nonzero() == 0
    uniform = build("uniform noise", images, labels).float()
    assert uniform.mean().item() == pytest.approx(127.5, abs=5)


@pytest.mark.slow
def test_calibration_orders_the_reference_sets_as_a_metric_must(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "calibration"
    result = run_cli(
        "calibrate_metrics",
        "num_images=600",
        "metrics.num_real=1000",
        "metrics.kid_subset_size=100",
        "noise_sigmas=[0.1]",
        f"metrics.cache_dir={tmp_path / 'cache'}",
        f"data.root={fashion_mnist_root}",
        f"hydra.run.dir={run_dir}",
        "record=calibration_small",
        env={RESULTS_DIR_VARIABLE: str(tmp_path / "results")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "calibration.json").read_text())
    rows = {row["set"]: row for row in results["sets"]}
    fid = {name: row["fid"] for name, row in rows.items()}
    recall = {name: row["recall"] for name, row in rows.items()}
    precision = {name: row["precision"] for name, row in rows.items()}
    # FID grows as classes are dropped and as blur grows; the real split is far below both.
    assert fid["train split"] < fid["5 classes dropped"] < fid["9 classes dropped"]
    assert fid["train split"] < fid["blur sigma=1"] < fid["blur sigma=2"]
    assert fid["train split"] < 0.2 * min(fid["uniform noise"], fid["blank"])
    # Dropping classes removes diversity (recall, coverage), blur removes fidelity (precision).
    assert recall["train split"] > recall["5 classes dropped"] > recall["9 classes dropped"]
    assert precision["train split"] > precision["blur sigma=1"] > precision["blur sigma=2"]
    assert rows["train split"]["coverage"] > rows["9 classes dropped"]["coverage"]
    assert rows["9 classes dropped"]["metric_num_generated"] == 600
    table = (run_dir / "calibration.md").read_text()
    assert "| 9 classes dropped | 600 |" in table and "| set | images | FID |" in table
    # The machine that made the numbers, in the results and under the table.
    assert_machine_block(results["machine"], precision="32-true", threads=torch.get_num_threads())
    assert table.rstrip().endswith(describe_machine(results["machine"]))
    # record=NAME: the same table as a results record, for the docs to render.
    record = load_record("calibration_small", tmp_path / "results")
    assert record["machine"] == results["machine"] and record["command"].startswith(
        "python scripts/calibrate_metrics.py num_images=600 "
    )
    assert "\n".join(markdown_table(record["table"]["columns"], record["table"]["rows"])) in table


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["classes_dropped=[10]", 'sets=["10 classes dropped"]'],
            "reference set '10 classes dropped': cannot drop 10 of 10 classes",
        ),
        (['sets=["blur sigma=3"]'], "sets names ['blur sigma=3'], which are not reference sets"),
        (["record=../calibration"], "record name '../calibration': use lower-case letters"),
    ],
)
def test_calibration_refuses_impossible_sets(
    overrides: list[str],
    message: str,
    tmp_path: Path,
    fashion_mnist_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = compose_app(
        "calibrate",
        [
            *overrides,
            "num_images=50",
            "metrics.num_real=100",
            "metrics.kid_subset_size=10",
            f"data.root={fashion_mnist_root}",
            f"hydra.run.dir={tmp_path / 'calibration'}",
        ],
    )
    assert_user_error(user_error_in_process(calibrate, cfg, capsys), message)
