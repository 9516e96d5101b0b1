"""The GPU acceptance check (scripts/gpu_check.py) at its CPU budgets, the GPU trainer configs on
a machine without a GPU, and the GPU paths a CPU can run: bf16 autocast and its resume."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from genlab.accelerators import check_accelerator_available
from genlab.errors import ConfigError
from genlab.gpu_check import run_gpu_check
from genlab.gpu_check.budget import MODELS, PRECISIONS
from genlab.models import load_checkpoint
from genlab.training import train
from tests.helpers import (
    SMALL_GAN,
    assert_no_good_run,
    assert_user_error,
    compose_train,
    printed_path,
    run_cli,
)

# torch sees no GPU in a process started with this, on any machine.
NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}
GPU_TRAINERS = ["gpu", "ddp", "ddp_spawn"]
GPU_PRECISIONS = ["32-true", "bf16-mixed", "16-mixed"]


def test_the_cpu_check_passes_as_documented(fashion_mnist_root: Path, tmp_path: Path) -> None:
    """`python scripts/gpu_check.py --device cpu` from a folder whose data/ holds
    Fashion-MNIST: every model trains in both precisions, the ratio is measured, and what needs
    a GPU says so in the record instead of failing."""
    (tmp_path / "data").symlink_to(fashion_mnist_root, target_is_directory=True)
    result = run_cli("gpu_check", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    record_path = printed_path(result.stdout, "record:")
    assert record_path.parent.parent == tmp_path / "outputs" / "gpu_check"
    record = json.loads(record_path.read_text())
    assert record["device"] == "cpu" and record["passed"] is True
    assert record["machine"]["gpu_count"] == 0 and record["budget"]["train_steps"] == 6
    rows = {(row["check"], row["name"]): row for row in record["results"]}

    for model in MODELS:
        for precision in PRECISIONS:
            row = rows["training", f"{model} {precision}"]
            assert row["status"] == "passed", row
            assert row["values"]["global_step"] == 6 and row["values"]["images_per_s"] > 0
            losses = row["values"]["losses"]
            assert losses and all(math.isfinite(v) for v in losses.values())
            run = Path(row["values"]["run_dir"])
            weights = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
            assert {t.dtype for t in weights["state_dict"].values()} <= {torch.float32, torch.int64}
    speed = rows["speed", "gan eager"]
    assert speed["status"] == "passed" and speed["values"]["lightning_over_plain"] > 0
    assert speed["values"]["peak_gpu_memory_gib"] is None
    assert rows["speed", "gan compiled"]["status"] == "skipped"
    assert rows["ddp", "all models"]["status"] == "skipped"
    assert rows["fid", "inception GPU vs CPU"]["detail"] == "needs a GPU"
    table = (record_path.parent / "gpu_check.md").read_text()
    assert "| training | vae bf16-mixed | passed |" in table and "Machine:" in table
    assert table in result.stdout


def test_the_check_on_a_machine_without_a_gpu_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_cli("gpu_check", cwd=tmp_path, env=NO_GPU)
    assert_user_error(result, "--device cuda needs a CUDA GPU", "no CUDA GPU", "--device cpu")
    assert not (tmp_path / "outputs").exists()


def test_overrides_that_do_not_compose_stop_the_check_before_it_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nosuchkey=1 do not compose"):
        run_gpu_check("cpu", tmp_path / "check", ["nosuchkey=1"])
    assert not (tmp_path / "check").exists()


@pytest.mark.parametrize("trainer", GPU_TRAINERS)
def test_gpu_trainers_compose_and_are_refused_without_a_gpu(trainer: str, tmp_path: Path) -> None:
    """Each GPU trainer in each precision composes, and without a GPU the check that
    train() makes before anything is loaded refuses it with the CPU's configs."""
    for precision in GPU_PRECISIONS:
        cfg = compose_train([f"trainer={trainer}", f"trainer.precision={precision}"], tmp_path)
        assert (cfg.trainer.accelerator, cfg.trainer.precision) == ("gpu", precision)
        with pytest.raises(ConfigError, match=r"needs a CUDA GPU .*trainer=cpu"):
            check_accelerator_available(cfg.trainer, gpu_count=0)
        check_accelerator_available(cfg.trainer, gpu_count=1)
    check_accelerator_available(compose_train(["trainer=cpu"], tmp_path).trainer, gpu_count=0)


def test_trainer_gpu_as_typed_fails_before_loading_anything(tmp_path: Path) -> None:
    """`python scripts/train.py trainer=gpu` on a machine without a GPU: one line before the
    data are unpacked or a run is written (Lightning's own error came after both)."""
    run = tmp_path / "run"
    result = run_cli("train", "trainer=gpu", f"hydra.run.dir={run}", cwd=tmp_path, env=NO_GPU)
    assert_user_error(result, "trainer.accelerator=gpu needs a CUDA GPU", "trainer=cpu")
    assert not (tmp_path / "data").exists()
    assert_no_good_run(run)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trainer", "precision"), [("ddp", "bf16-mixed"), ("ddp_spawn", "16-mixed")]
)
def test_multi_gpu_trainers_compose_and_fail_cleanly_without_a_gpu(
    trainer: str, precision: str, tmp_path: Path
) -> None:
    overrides = [f"trainer={trainer}", f"trainer.precision={precision}", "trainer.devices=8"]
    shown = run_cli("train", *overrides, "--cfg", "job", cwd=tmp_path, env=NO_GPU)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "accelerator: gpu" in shown.stdout and f"precision: {precision}" in shown.stdout
    run = tmp_path / "run"
    result = run_cli("train", *overrides, f"hydra.run.dir={run}", cwd=tmp_path, env=NO_GPU)
    assert_user_error(result, "needs a CUDA GPU", "trainer=ddp_cpu")
    assert not (tmp_path / "data").exists()
    assert_no_good_run(run)


@pytest.mark.slow
def test_the_cpu_check_trains_every_model_under_ddp(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """The check's DDP part over gloo: two processes per model, replicas identical."""
    out = tmp_path / "check"
    result = run_cli(
        "gpu_check", "--device", "cpu", "--checks", "ddp", "--out", str(out),
        f"data.root={fashion_mnist_root}",
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    record = json.loads((out / "gpu_check.json").read_text())
    rows = record["results"]
    assert [(r["check"], r["name"], r["status"]) for r in rows] == [
        ("ddp", f"{model} x2", "passed") for model in MODELS
    ]


def test_a_bf16_mixed_run_resumes_where_it_stopped(
    fashion_mnist_root: Path, train_config: Callable[..., DictConfig]
) -> None:
    """bf16 autocast on the CPU: a run stopped at step 4 and resumed to step 8 ends with the
    weights of the run that was not stopped, kept in float32."""

    def config(steps: int, *extra: str) -> DictConfig:
        return train_config(
            "model=gan", *SMALL_GAN, f"data.root={fashion_mnist_root}", "logger=none",
            "metrics=off", "trainer.precision=bf16-mixed", f"trainer.max_steps={steps}",
            "data.batch_size=16", "trainer.deterministic=true", *extra,
        )  # fmt: skip

    whole = config(8)
    whole.paths.output_dir = str(Path(whole.paths.output_dir).with_name("whole"))
    assert train(whole)["status"] == "ok"
    assert train(config(4))["status"] == "ok"
    resumed = config(8, "resume=true")
    summary = train(resumed)
    assert summary["status"] == "ok" and summary["global_step"] == 8
    assert all(math.isfinite(v) for k, v in summary.items() if k.startswith("train/"))
    reference, _ = load_checkpoint(Path(whole.paths.output_dir) / "checkpoints" / "last.ckpt")
    model, _ = load_checkpoint(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt")
    expected = dict(reference.named_parameters())
    for name, parameter in model.named_parameters():
        assert parameter.dtype == torch.float32
        assert torch.equal(parameter, expected[name]), name
