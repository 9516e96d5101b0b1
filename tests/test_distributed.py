"""Multi-process training on CPU with real processes: DDP over gloo, launched by Lightning
(popen and spawn), by torchrun and by Hydra's submitit launcher."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from genlab.callbacks.replicas import REPLICAS_FILE
from genlab.config import check_train_config
from genlab.errors import ConfigError
from genlab.paths import config_dir
from genlab.tracking.summary import read_summary
from tests.helpers import (
    REPO,
    SMALL_GAN,
    assert_no_good_run,
    assert_user_error,
    compose_train,
    csv_losses,
    require,
    run_cli,
)

SMALL = ["debug=fast", "logger=csv", "metrics=off"]
# For the test-only parts in tests/ddp_models.py, named by _target_ in the runs' configs.
TESTS_IMPORTABLE = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def replicas(run: Path) -> dict:
    return json.loads((run / REPLICAS_FILE).read_text())


def assert_ranks_agree(run: Path, world_size: int = 2) -> None:
    """Every rank ended with the same parameters (checked by the run itself, over gloo)."""
    record = replicas(run)
    assert record["world_size"] == world_size and record["in_sync"] is True
    digests = record["parameter_sha256"]
    assert len(digests) == world_size and len(set(digests)) == 1


def assert_one_run_dir(run: Path) -> None:
    """Rank zero wrote the run: one summary, one config dir, one grid per step."""
    assert sorted(p.name for p in run.iterdir() if p.is_dir()) == [
        ".hydra", "checkpoints", "csv", "samples",
    ]  # fmt: skip
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == sorted(set(grids)) and grids


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gan", "wgan_gp"])
def test_gans_train_under_plain_ddp_with_identical_replicas(
    model: str, fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Two processes, each with its own shard of the data: DDP must average every gradient,
    including those of the gradient penalty, or the replicas drift apart."""
    run = tmp_path / "run"
    result = run_cli(
        "train", f"model={model}", "trainer=ddp_cpu", *SMALL,
        f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
        "+callbacks.latent_probe._target_=tests.ddp_models.LatentProbe",
        f"+callbacks.latent_probe.dirpath={tmp_path}", env=TESTS_IMPORTABLE,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # Each rank draws its own latents: the generator's global batch is 2 x 64 samples.
    latents = [torch.load(tmp_path / f"latents_rank{rank}.pt") for rank in (0, 1)]
    assert not torch.equal(*latents)
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 20
    # 64 images per process and batch: the global batch is 128.
    batches = summary["generator_steps"] * (5 if model == "wgan_gp" else 1)
    assert summary["images_seen"] >= batches * 64 * 2
    if model == "wgan_gp":
        assert summary["train/gradient_penalty"] > 0
    assert_ranks_agree(run)
    assert_one_run_dir(run)


@pytest.mark.slow
def test_a_ddp_run_stopped_mid_epoch_resumes_exactly(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """Each rank continues its own shard of the interrupted epoch and its own latents: the
    losses after the resume and the final weights are the uninterrupted run's."""

    # 320 images in batches of 8 per rank: an epoch is 20 batches (40 steps); 30 is mid-epoch.
    common = [
        "trainer=ddp_cpu", *SMALL, *SMALL_GAN, "data.batch_size=8", "data.val_size=59680",
        "trainer.log_every_n_steps=1", "trainer.deterministic=true", "seed=3",
        "callbacks.model_checkpoint.every_n_train_steps=1000",
        "callbacks.sample_grid.every_n_steps=null", f"data.root={fashion_mnist_root}",
    ]  # fmt: skip
    full, run = tmp_path / "full", tmp_path / "run"
    for args in (
        ["trainer.max_steps=60", f"hydra.run.dir={full}"],
        ["trainer.max_steps=30", f"hydra.run.dir={run}"],
        ["trainer.max_steps=60", "resume=true", f"hydra.run.dir={run}"],
    ):
        result = run_cli("train", *common, *args)
        assert result.returncode == 0, result.stderr[-3000:]
    assert read_summary(run)["global_step"] == 60

    expected, after = csv_losses(full), csv_losses(run)
    assert list(after.index) == list(range(15, 30))
    assert after.equals(expected.loc[after.index])
    weights, reference = (
        torch.load(r / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        for r in (run, full)
    )
    assert all(torch.equal(weights[name], reference[name]) for name in reference)


@pytest.mark.slow
def test_a_rank_local_gradient_penalty_is_caught(fashion_mnist_root: Path, tmp_path: Path) -> None:
    """The check above would catch a penalty whose gradient skips DDP's averaging."""
    run = tmp_path / "run"
    result = run_cli(
        "train", "model=wgan_gp", "model._target_=tests.ddp_models.RankLocalPenaltyWGANGP",
        "trainer=ddp_cpu", *SMALL, f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
        env=TESTS_IMPORTABLE,
    )  # fmt: skip
    assert result.returncode != 0
    assert "DDP ranks hold different parameters" in result.stderr
    record = replicas(run)
    assert record["in_sync"] is False and len(set(record["parameter_sha256"])) == 2
    assert read_summary(run)["status"] == "failed"


@pytest.mark.slow
def test_vae_under_plain_ddp_evaluates_once(fashion_mnist_root: Path, tmp_path: Path) -> None:
    """Rank zero scores while rank one waits at the barrier; one summary, one W&B run,
    images counted over both ranks."""
    run = tmp_path / "run"
    result = run_cli(
        "train", "model=vae", "debug=fast", "trainer=ddp_cpu",
        f"data.root={fashion_mnist_root}", f"hydra.run.dir={run}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = read_summary(run)
    assert summary["status"] == "ok" and summary["global_step"] == 20
    assert summary["images_seen"] == 20 * 64 * 2
    assert summary["fid"] > 0 and summary["metric_num_generated"] == 256
    assert len(list((run / "wandb").glob("offline-run-*"))) == 1
    assert_ranks_agree(run)


def test_plain_ddp_by_name_is_rejected_for_gans_with_the_fix(tmp_path: Path) -> None:
    cfg = compose_train(["model=gan", "trainer.strategy=ddp", "trainer.devices=2"], tmp_path)
    with pytest.raises(ConfigError, match="trainer=ddp_cpu"):
        check_train_config(cfg)
    check_train_config(compose_train(["model=vae", "trainer.strategy=ddp"], tmp_path))


def test_multirun_with_a_relaunching_strategy_is_rejected(tmp_path: Path) -> None:
    """Lightning's popen launcher re-runs the command: under -m, a sweep per rank."""
    sweep = tmp_path / "sweep"
    result = run_cli(
        "train", "-m", "seed=0,1", "trainer=ddp_cpu", *SMALL, f"hydra.sweep.dir={sweep}",
    )  # fmt: skip
    assert_user_error(result, "-m (multirun)", "trainer=ddp_cpu_spawn")
    (job,) = (p for p in sweep.iterdir() if p.is_dir())  # the first job stopped the sweep
    assert_no_good_run(job)


@pytest.mark.slow
def test_multirun_of_all_models_with_spawned_ranks(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """A 3-job multirun, 2 CPU processes per job: each job is one complete run dir whose
    summary comes from the spawned rank zero, and no rank starts a sweep of its own."""
    sweep = tmp_path / "sweep"
    result = run_cli(
        "train", "-m", "model=gan,wgan_gp,vae", "trainer=ddp_cpu_spawn", *SMALL,
        f"data.root={fashion_mnist_root}", f"hydra.sweep.dir={sweep}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [job.name for job in jobs] == ["0_model-gan", "1_model-wgan_gp", "2_model-vae"]
    for job in jobs:
        summary = read_summary(job)
        assert summary["status"] == "ok" and summary["global_step"] == 20
        assert summary["images_seen"] > 0
        assert_ranks_agree(job)
    assert len(list(tmp_path.iterdir())) == 1  # the one sweep dir


@pytest.mark.slow
def test_torchrun_starts_the_ranks(fashion_mnist_root: Path, tmp_path: Path) -> None:
    """The torchrun recipe of docs/scaling_out.md: torchrun starts both processes, Lightning joins them."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    require(torchrun is not None, "torchrun is not installed next to the interpreter")
    run = tmp_path / "run"
    result = subprocess.run(
        [
            torchrun, "--standalone", "--nproc_per_node=2", str(REPO / "scripts" / "train.py"),
            "model=gan", "trainer=ddp_cpu", *SMALL, f"data.root={fashion_mnist_root}",
            f"hydra.run.dir={run}",
        ],
        cwd=REPO, env={**os.environ, "WANDB_MODE": "offline"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_summary(run)["status"] == "ok"
    assert_ranks_agree(run)


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_multirun(fashion_mnist_root: Path, tmp_path: Path) -> None:
    """hydra/launcher=slurm_local: the SLURM launcher's local twin, with real job processes."""
    sweep, job_files = tmp_path / "sweep", tmp_path / "private"
    result = run_cli(
        "train", "-m", "hydra/launcher=slurm_local", "seed=0,1", "model=vae", *SMALL,
        f"data.root={fashion_mnist_root}", f"hydra.sweep.dir={sweep}",
        env={"GENLAB_SUBMITIT_DIR": str(job_files)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summaries = [read_summary(job) for job in sorted(sweep.glob("[0-9]_*"))]
    assert [s["seed"] for s in summaries] == [0, 1]
    assert all(s["status"] == "ok" for s in summaries)
    # The jobs ran through submitit, whose pickled job files stay out of the sweep dir.
    assert list(job_files.glob("*/*.pkl")) and not list(sweep.rglob("*.pkl"))


def test_submitit_job_files_go_to_a_folder_of_the_user_not_the_sweep_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each job loads its pickled job file: a shared sweep dir must not hold it (a file planted
    there would run as the user). By default it is under the user's home, or GENLAB_SUBMITIT_DIR."""
    monkeypatch.delenv("GENLAB_SUBMITIT_DIR", raising=False)
    for launcher in ("slurm", "slurm_local"):
        GlobalHydra.instance().clear()
        overrides = [f"hydra/launcher={launcher}", "hydra.sweep.dir=/shared/sweeps/s"]
        with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
            folder = cfg.hydra.launcher.submitit_folder
            assert folder == f"{Path.home()}/.cache/genlab/submitit/%j", launcher
            monkeypatch.setenv("GENLAB_SUBMITIT_DIR", str(tmp_path))
            assert cfg.hydra.launcher.submitit_folder == f"{tmp_path}/%j", launcher
            monkeypatch.delenv("GENLAB_SUBMITIT_DIR")


def test_slurm_launcher_asks_for_one_task_per_device() -> None:
    GlobalHydra.instance().clear()
    overrides = ["hydra/launcher=slurm", "trainer=ddp", "trainer.devices=8", "trainer.num_nodes=4"]
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (4, 8, 8)
