"""Shared fixtures: real Fashion-MNIST, a generated image folder, Hydra composition, the CLI.

Under CI=true a missing prerequisite fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from omegaconf import DictConfig
from PIL import Image

from genlab.config import compose_train_config

REPO = Path(__file__).resolve().parents[1]
FASHION_MNIST_MIRROR = Path("/usr/share/datasets/fashion-mnist")
# The metric keys summary.json and evaluate.py report (the contract's names).
REPORTED_METRICS = {
    "fid", "is_mean", "is_std", "kid_mean", "kid_std", "precision", "recall", "density", "coverage",
}  # fmt: skip
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a prerequisite is missing; fail in CI, which must provide it."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this prerequisite: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def metric_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real-data statistics go to a session folder, not the checkout's cache/ (the CLI tests'
    subprocesses inherit the variable)."""
    cache = tmp_path_factory.mktemp("genlab_cache")
    os.environ["GENLAB_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def fashion_mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root that genlab fills from the Debian package's files (decompressed once)."""
    require(
        (FASHION_MNIST_MIRROR / "train-images-idx3-ubyte.gz").is_file(),
        "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
    )
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 small RGB images of blurred blobs, as PNG and JPEG, in nested folders."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:48]
    for i in range(48):
        cy, cx = rng.uniform(8, 32), rng.uniform(8, 40)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(3, 8) ** 2))
        colour = rng.uniform(0.3, 1.0, size=3)
        pixels = (blob[..., None] * colour * 255).astype(np.uint8)
        folder = root / f"class{i % 3}"
        folder.mkdir(exist_ok=True)
        suffix = "png" if i % 2 else "jpg"
        Image.fromarray(pixels).save(folder / f"img{i:03d}.{suffix}")
    return root


compose_train = compose_train_config


@pytest.fixture
def train_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """compose_train with a small, fast base: few steps, local W&B offline, tiny widths."""

    def make(*overrides: str) -> DictConfig:
        return compose_train(["debug=fast", *overrides], tmp_path / "run")

    return make


def execute_notebook(name: str, workdir: Path) -> str:
    """Runs notebooks/<name> headless from workdir (its kernel sees this process's
    environment); returns the cells' outputs as JSON text. Notebooks are committed with their
    outputs stripped."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "notebooks are committed with outputs stripped"
    )
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(workdir)}}).execute()
    return json.dumps([c.get("outputs", []) for c in notebook.cells])


def run_cli(
    script: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs scripts/<script>.py in a fresh interpreter, as a user would."""
    full_env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / f"{script}.py"), *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
