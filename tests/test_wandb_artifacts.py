"""An offline W&B run logs its checkpoints as an artifact without storing their bytes twice."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

from tests.helpers import run_cli


def disk_bytes(folder: Path) -> int:
    """The bytes of the files under ``folder``, a file with several names counted once (as du)."""
    seen: dict[tuple[int, int], int] = {}
    for root, _, files in os.walk(folder):
        for name in files:
            info = os.lstat(Path(root) / name)
            seen[(info.st_dev, info.st_ino)] = info.st_size
    return sum(seen.values())


def test_offline_checkpoint_artifact_shares_the_checkpoints_bytes(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    result = run_cli(
        "train",
        "debug=fast",
        "metrics=off",
        "logger=wandb",
        "logger.wandb.log_model=true",
        f"data.root={fashion_mnist_root}",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoints = sorted((run_dir / "checkpoints").glob("*.ckpt"))
    staged = [p for p in (run_dir / "wandb" / "data").rglob("*") if p.is_file()]
    assert len(checkpoints) >= 2 and staged  # W&B staged the artifact's files for `wandb sync`
    ckpt_inodes = {os.stat(p).st_ino for p in checkpoints}
    linked = [p for p in staged if os.stat(p).st_ino in ckpt_inodes]
    # The rest are versions logged before a checkpoint was replaced (last.ckpt at step 10):
    # bytes no checkpoint holds any more, which `wandb sync` still uploads.
    superseded = [p for p in staged if p not in linked]
    assert linked and len(superseded) <= 1
    assert not [(s, c) for s in superseded for c in checkpoints if filecmp.cmp(s, c, shallow=False)]
    # Each checkpoint's bytes once: besides them and the superseded versions, the run dir
    # holds far less than one checkpoint (samples, logs, the W&B run's files).
    other = disk_bytes(run_dir) - disk_bytes(run_dir / "checkpoints")
    other -= sum(p.stat().st_size for p in superseded)
    assert other < min(p.stat().st_size for p in checkpoints), other
