"""Shared fixtures: real Fashion-MNIST, a generated image folder, Hydra composition. Helpers
that are not fixtures live in tests/helpers.py.

Under CI=true a missing prerequisite fails the test instead of skipping it.
"""

from __future__ import annotations

import os

# Before numpy and torch load: a pytest-xdist worker gets its share of the cores for torch's
# threads (its own and its subprocesses'); each worker at torch's default of one thread per
# core oversubscribes them, and OpenMP threads waiting on each other collapse the speed.
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))

# isort: split
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from omegaconf import DictConfig
from PIL import Image

from tests.helpers import FASHION_MNIST_MIRROR, compose_train, make_fresh_clone, require


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
def fresh_clone(tmp_path_factory: pytest.TempPathFactory, fashion_mnist_root: Path) -> Path:
    """A fresh clone of this repository, where the documented commands run as written
    (tests/helpers.py run_as_written); their data, outputs and caches stay in it."""
    return make_fresh_clone(tmp_path_factory.mktemp("clone") / "genlab")


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


@pytest.fixture
def train_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """compose_train with a small, fast base: few steps, local W&B offline, tiny widths."""

    def make(*overrides: str) -> DictConfig:
        return compose_train(["debug=fast", *overrides], tmp_path / "run")

    return make
