"""Files from shared folders are data, never code.

The metric cache (``GENLAB_CACHE_DIR``), the torch hub cache, run dirs, sweep dirs and data
roots are often shared on a cluster: whoever can write there can plant a file under a name
genlab reads. Each test plants, under the exact name genlab looks for, a file that runs a
command in a loader that lets it (a pickle whose ``__reduce__`` calls ``os.system``, a YAML tag
that calls it, PostScript under an image's name), runs the command a user runs, and checks
that the planted command never ran and that the user got a clear message: the command
succeeds (the file replaced or passed over, with one warning naming it) or fails with one
``genlab: error:`` line.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from genlab.data.base import UInt8RGB
from genlab.errors import CheckpointError
from genlab.metrics.extractor_weights import INCEPTION, inception_cache_path
from genlab.metrics.fidelity import compute_metrics
from genlab.metrics.protocol import MetricProtocol
from genlab.tracking.summary import read_summary
from tests.helpers import FASHION_MNIST_MIRROR, assert_user_error, compose_app, require, run_cli
from tests.test_compare import write_run


class Payload:
    """Unpickling this runs ``touch MARKER`` through ``os.system``: a planted file's code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return (os.system, (f"touch '{self.marker}'",))


def plant(path: Path, marker: Path, *, as_torch_file: bool = True) -> Path:
    """A pickle at ``path`` that creates ``marker`` when it is unpickled; written by
    ``torch.save`` where genlab expects a torch file (``.pt``, ``.ckpt``, ``.pth``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if as_torch_file:
        torch.save(Payload(marker), path)
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    return path


def yaml_payload(marker: Path) -> str:
    """YAML whose tag calls ``os.system`` in a loader that builds Python objects."""
    return f"!!python/object/apply:os.system [\"touch '{marker}'\"]\n"


# A PostScript file under an image's name. Pillow picks a decoder by content: its EPS decoder
# runs Ghostscript (``gs``) on the file. The ``gs`` the tests put first on PATH creates the
# marker instead, so a call to it shows that an interpreter would have run the file.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\nshowpage\n"


def ghostscript_that_marks(bin_dir: Path, marker: Path) -> dict[str, str]:
    """The environment of a command whose ``gs`` creates ``marker``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    gs = bin_dir / "gs"
    gs.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    gs.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "planted-code-ran"


def warnings_naming(
    result: subprocess.CompletedProcess[str], path: Path, warning: str = "[WARNING]"
) -> list[str]:
    """The lines of a command's output (genlab logs to stdout) that warn about ``path``."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if warning in line and str(path) in line]


def test_the_planted_files_run_their_command_when_loaded(marker: Path, tmp_path: Path) -> None:
    """The payloads are live: a loader that builds arbitrary objects runs them."""
    torch.load(plant(tmp_path / "file.pt", marker), weights_only=False)
    assert marker.exists()
    marker.unlink()
    pickle.loads(plant(tmp_path / "file.json", marker, as_torch_file=False).read_bytes())
    assert marker.exists()
    marker.unlink()
    yaml.unsafe_load(yaml_payload(marker))
    assert marker.exists()


def test_a_pickle_planted_in_the_metric_cache_runs_no_code(
    image_folder: Path, fashion_mnist_root: Path, marker: Path, tmp_path: Path
) -> None:
    """`evaluate.py input=DIR` with a shared GENLAB_CACHE_DIR in which every cached feature
    file was replaced by a pickle: the evaluation recomputes the features, names each refused
    file in one warning, replaces it, and scores exactly as before."""
    cache = tmp_path / "shared_cache"

    def evaluate(name: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        result = run_cli(
            "evaluate",
            f"input={image_folder}",
            f"data.root={fashion_mnist_root}",
            "metrics.num_real=100",
            f"hydra.run.dir={tmp_path / name}",
            env={"GENLAB_CACHE_DIR": str(cache)},
        )
        assert not marker.exists(), "a file from the metric cache was unpickled"
        assert result.returncode == 0, result.stderr[-3000:]
        return result, read_summary(tmp_path / name)

    _, first = evaluate("eval")
    cached = sorted((cache / "fidelity").iterdir())
    assert cached, "the first evaluation cached the real features"
    for path in cached:
        plant(path, marker)
    result, second = evaluate("eval_again")
    for path in cached:
        assert len(warnings_naming(result, path)) == 1, result.stdout[-3000:]
        assert isinstance(torch.load(path, weights_only=True), torch.Tensor)
    assert [second[key] for key in ("fid", "kid_mean", "precision")] == [
        first[key] for key in ("fid", "kid_mean", "precision")
    ]


def test_inception_weights_replaced_after_the_check_are_never_unpickled(
    marker: Path, tmp_path: Path
) -> None:
    """torch-fidelity unpickles Inception's weights file with every object allowed. genlab
    checks the file when the run starts; a file swapped in the shared folder after that (during
    a long training run) must not reach torch-fidelity."""
    weights = tmp_path / "shared" / inception_cache_path().name
    weights.parent.mkdir()
    torch.save({}, weights)  # loads tensors-only: passes the check at the start
    cfg = compose_app(
        "evaluate", [f"metrics.extractor={INCEPTION}", f"metrics.weights_path={weights}"]
    )
    protocol = MetricProtocol.from_config(cfg.metrics)
    plant(weights, marker)
    images = UInt8RGB.from_tensor(torch.zeros(16, 1, 28, 28, dtype=torch.uint8))
    refused: Exception | None = None
    try:
        compute_metrics(images, images, protocol)
    except Exception as error:  # which error is checked below
        refused = error
    assert not marker.exists(), "torch-fidelity unpickled the replaced weights file"
    assert isinstance(refused, CheckpointError), refused
    assert str(weights) in str(refused) and "changed while genlab was running" in str(refused)


def test_an_eps_file_named_like_an_image_is_not_handed_to_an_interpreter(
    image_folder: Path, fashion_mnist_root: Path, marker: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "generated"
    shutil.copytree(image_folder, folder)
    planted = folder / "class0" / "img999.png"
    planted.write_bytes(EPS)
    result = run_cli(
        "evaluate",
        f"input={folder}",
        f"data.root={fashion_mnist_root}",
        "metrics.num_real=100",
        f"hydra.run.dir={tmp_path / 'eval'}",
        env=ghostscript_that_marks(tmp_path / "bin", marker),
    )
    assert not marker.exists(), "the image was handed to Ghostscript"
    assert_user_error(result, "cannot decode image", str(planted))


def test_fashion_mnist_is_read_from_its_checked_files_not_from_planted_tensors(
    image_folder: Path, marker: Path, tmp_path: Path
) -> None:
    """torchvision's dataset class prefers `processed/training.pt` and `test.pt` (its old
    format) over the IDX files when they exist; genlab reads the IDX files it checked."""
    require(
        (FASHION_MNIST_MIRROR / "train-images-idx3-ubyte.gz").is_file(),
        "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
    )
    data = tmp_path / "shared_data"
    for name in ("training.pt", "test.pt"):
        plant(data / "FashionMNIST" / "processed" / name, marker)
    result = run_cli(
        "evaluate",
        f"input={image_folder}",
        f"data.root={data}",
        "metrics.num_real=100",
        "metrics.metrics=[fid]",
        f"hydra.run.dir={tmp_path / 'eval'}",
    )
    assert not marker.exists()
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_summary(tmp_path / "eval")["fid"] > 0


def test_planted_run_files_are_left_out_of_comparisons_by_name(
    marker: Path, tmp_path: Path
) -> None:
    """compare.py and runs.py over a shared sweep folder in which a summary.json, a config, a
    metrics history and a sample grid were replaced: each replaced file is named in a warning
    and left out (with its run, where the run cannot be read without it), the rest is
    compared, nothing planted runs."""
    runs = tmp_path / "shared_sweep"
    for seed in (0, 1):
        write_run(runs, "genlab.losses.HingeLoss", seed, {"fid": 10.0 + seed})
    pickled_summary = write_run(runs, "genlab.losses.HingeLoss", 2, {"fid": 1.0})
    plant(pickled_summary / "summary.json", marker, as_torch_file=False)
    yaml_config = write_run(runs, "genlab.losses.HingeLoss", 3, {"fid": 1.0})
    (yaml_config / ".hydra" / "config.yaml").write_text(yaml_payload(marker))
    pickled_history = write_run(runs, "genlab.losses.HingeLoss", 4, {"fid": 1.0})
    plant(pickled_history / "metrics_history.jsonl", marker, as_torch_file=False)
    # The only run of its variant, so its grid is the one the report would show.
    eps_grid = write_run(runs, "genlab.losses.NonSaturatingLoss", 0, {"fid": 20.0})
    grid = next((eps_grid / "samples").glob("*.png"))
    grid.write_bytes(EPS)
    env = ghostscript_that_marks(tmp_path / "bin", marker)

    compared = run_cli("compare", f"runs=[{runs}]", f"out={tmp_path / 'cmp'}", env=env)
    assert not marker.exists(), "compare.py ran a planted file"
    assert compared.returncode == 0, compared.stderr[-3000:]
    for damaged, warning in [
        (pickled_summary, "Leaving out"),
        (yaml_config, "Leaving out"),
        (pickled_history / "metrics_history.jsonl", "cannot be read"),
        (grid, "Leaving out the sample grid"),
    ]:
        assert len(warnings_naming(compared, damaged, warning)) == 1, compared.stderr
    # The first variant: the two good runs and the one whose history (its curve) was dropped;
    # the second: the run whose grid was left out.
    assert pd.read_csv(tmp_path / "cmp" / "comparison.csv")["n_seeds"].tolist() == [3, 1]

    listed = run_cli("runs", str(runs), env=env)
    assert not marker.exists(), "runs.py ran a planted file"
    assert listed.returncode == 0, listed.stderr[-3000:]
    rows = [line for line in listed.stdout.splitlines() if "unreadable" in line]
    assert sorted(row.split("|")[1].strip() for row in rows) == sorted(
        str(run.relative_to(runs)) for run in (pickled_summary, yaml_config)
    ), listed.stdout


def test_a_summary_planted_in_a_baseline_table_is_reported_as_not_run(
    marker: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shared_table"
    planted = plant(out / "ns_gan" / "seed0" / "summary.json", marker, as_torch_file=False)
    result = run_cli(
        "reproduce", "baseline=lucic2018_fashion_mnist", "budget=smoke", "seeds=1",
        "variants=[ns_gan]", "report_only=true", f"out_dir={out}",
    )  # fmt: skip
    assert not marker.exists()
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(warnings_naming(result, planted)) == 1, result.stdout[-3000:]
    assert "ns_gan seed 0: not run" in result.stdout


# -- every other loader of a shared folder: one case each ------------------------------------


def _inception_weights_in_the_torch_hub(tmp: Path, marker: Path, images: Path) -> tuple:
    torch_home = tmp / "torch_home"
    planted = plant(
        torch_home / "hub" / "checkpoints" / inception_cache_path().name, marker
    )  # where torch-fidelity's own download puts it
    args = ["evaluate", f"input={images}", f"metrics.extractor={INCEPTION}"]
    args.append(f"hydra.run.dir={tmp / 'eval'}")  # not into the checkout's outputs/
    return args, {"TORCH_HOME": str(torch_home)}, [str(planted), "not a readable weights file"]


def _the_checkpoint_resume_takes(tmp: Path, marker: Path, images: Path) -> tuple:
    run = tmp / "run"
    planted = plant(run / "checkpoints" / "last.ckpt", marker)
    args = ["train", "debug=fast", "resume=true", f"hydra.run.dir={run}"]
    return args, {}, [f"no checkpoint in {planted.parent} can be read"]


def _a_checkpoint_to_start_from(tmp: Path, marker: Path, images: Path) -> tuple:
    planted = plant(tmp / "shared" / "model.ckpt", marker)
    args = ["train", "debug=fast", f"ckpt_path={planted}", f"hydra.run.dir={tmp / 'run'}"]
    return args, {}, [f"cannot read checkpoint {planted}"]


def _a_checkpoint_to_evaluate(tmp: Path, marker: Path, images: Path) -> tuple:
    planted = plant(tmp / "shared" / "model.ckpt", marker)
    args = ["evaluate", f"ckpt_path={planted}", f"hydra.run.dir={tmp / 'eval'}"]
    return args, {}, [f"cannot read checkpoint {planted}"]


def _a_checkpoint_to_sample(tmp: Path, marker: Path, images: Path) -> tuple:
    planted = plant(tmp / "shared" / "model.ckpt", marker)
    return ["sample", f"ckpt_path={planted}"], {}, [f"cannot read checkpoint {planted}"]


def _the_sweep_storage(tmp: Path, marker: Path, images: Path) -> tuple:
    sweep_dir = tmp / "sweep"
    planted = plant(sweep_dir / "optuna.db", marker, as_torch_file=False)
    args = ["sweep", "sweep=smoke", "backend=local", f"sweep_dir={sweep_dir}", "resume=true"]
    return args, {}, [str(planted), "file is not a database"]


def _cifar10_batches(tmp: Path, marker: Path, images: Path) -> tuple:
    batches = tmp / "data" / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
    for name in names:
        plant(batches / name, marker, as_torch_file=False)  # the format is a pickle
    args = [
        "train", "debug=fast", "data=cifar10", f"data.root={tmp / 'data'}",
        "data.download=false", "metrics=off", f"hydra.run.dir={tmp / 'run'}",
    ]  # fmt: skip
    return args, {}, [f"the files in {batches} do not match CIFAR-10's published checksums"]


LOADERS = [
    _inception_weights_in_the_torch_hub,
    _the_checkpoint_resume_takes,
    _a_checkpoint_to_start_from,
    _a_checkpoint_to_evaluate,
    _a_checkpoint_to_sample,
    _the_sweep_storage,
    _cifar10_batches,
]


@pytest.mark.slow
@pytest.mark.parametrize("loader", LOADERS, ids=[f.__name__.strip("_") for f in LOADERS])
def test_a_planted_pickle_is_refused_with_one_line(
    loader: Callable[[Path, Path, Path], tuple],
    image_folder: Path,
    marker: Path,
    tmp_path: Path,
) -> None:
    """Files genlab (or torchvision, for CIFAR-10's pickled batches, after checking each
    file's published MD5) reads tensors-only, as JSON or as a database: a planted pickle is
    refused before anything is built from it."""
    args, env, fragments = loader(tmp_path, marker, image_folder)
    result = run_cli(*args, env=env)
    assert not marker.exists(), "a planted file was unpickled"
    assert_user_error(result, *fragments)
    summary = tmp_path / "run" / "summary.json"
    assert not summary.exists() or json.loads(summary.read_text())["status"] != "ok"
