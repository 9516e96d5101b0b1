"""scripts/reproduce.py: a baseline's table of models x seeds, and "paper vs genlab"."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from genlab.machine import MachineRecord, describe_machine
from genlab.paths import config_dir
from genlab.reproduce.baseline import Baseline, BaselineVariant
from genlab.reproduce.report import paper_vs_genlab, ranking_agreement
from genlab.reproduce.runner import RunResult
from tests.helpers import (
    REPO,
    assert_clean_console,
    cli_env,
    documented,
    run_as_written,
    run_cli,
    warning_lines,
)


def load_baseline(name: str) -> Baseline:
    config = OmegaConf.to_container(OmegaConf.load(config_dir() / "baseline" / f"{name}.yaml"))
    return Baseline.from_dict(config)


@pytest.mark.slow
def test_table_runs_reports_paper_vs_genlab_and_only_reruns_what_is_missing(
    fresh_clone: Path,
) -> None:
    """The README's smoke table, as written in a fresh clone: no warning on its console or in
    its runs' (a run's first start is no resume), then more seeds and a report only."""
    out = fresh_clone / "outputs" / "reproduce" / "lucic2018_fashion_mnist_smoke"
    command = "python scripts/reproduce.py baseline=lucic2018_fashion_mnist {} budget=smoke {}"
    first = run_as_written(
        fresh_clone, documented(command.format("seeds=2", "'variants=[ns_gan,vae]'"))
    )
    assert_clean_console(first)
    runs = {(v, s): out / v / f"seed{s}" for v in ("ns_gan", "vae") for s in (0, 1)}
    for run in runs.values():
        assert warning_lines((run / "console.log").read_text()) == [], run
    summaries = {key: json.loads((d / "summary.json").read_text()) for key, d in runs.items()}
    assert {s["status"] for s in summaries.values()} == {"ok"}
    assert {(s["experiment"], s["seed"]) for s in summaries.values()} == {
        (f"lucic2018/fashion_mnist_{v}", seed) for v, seed in runs
    }

    report = (out / "paper_vs_genlab.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| ").rstrip(" ⚠"): line for line in report.splitlines()}
    assert "| 26.5 |" in rows["NS GAN"] and "| 2/2 |" in rows["NS GAN"]
    assert "| 44-59 |" in rows["VAE"] and "| 2/2 |" in rows["VAE"]
    fid = sorted(summaries[("vae", s)]["fid"] for s in (0, 1))
    mean = sum(fid) / 2
    std = abs(fid[1] - fid[0]) / math.sqrt(2)
    assert f"{mean:.2f} ± {std:.2f}" in rows["VAE"]
    assert "budget `smoke`" in report
    # 12 steps leave grey samples: every run is named degenerate, and nothing is ranked.
    assert all(s["degenerate"]["flag"] for s in summaries.values())
    assert "| NS GAN ⚠ |" in report and "| VAE ⚠ |" in report
    assert "Kendall's tau" not in report
    assert "No rank correlation: the runs of NS GAN, VAE are degenerate" in report
    assert "is better" not in (out / "comparison" / "comparison.md").read_text()
    machine = describe_machine(summaries[("vae", 0)]["machine"], load=False)
    assert "## Machines\n\n- NS GAN seed 0, 1; VAE seed 0, 1, load average " in report
    assert machine in report
    assert (out / "comparison" / "comparison.md").is_file()

    # More seeds for one model: only the missing run trains, the others are kept as they are.
    stamps = {key: (d / "summary.json").stat().st_mtime_ns for key, d in runs.items()}
    second = run_as_written(fresh_clone, command.format("seeds=3", "'variants=[ns_gan]'"))
    assert "1 of 3 runs to do (2 finished before)" in assert_clean_console(second)
    assert json.loads((out / "ns_gan" / "seed2" / "summary.json").read_text())["status"] == "ok"
    assert {key: (d / "summary.json").stat().st_mtime_ns for key, d in runs.items()} == stamps
    assert "| 3/3 |" in (out / "paper_vs_genlab.md").read_text()

    # report_only: the table from what finished; nothing trains. record=NAME: the same table
    # as a results record, with the command and what the ranks say.
    typed = command.format("seeds=3", "'variants=[vae]' report_only=true record=smoke_table")
    third = run_as_written(fresh_clone, typed)
    assert "0 of 3 runs to do (2 finished before)" in assert_clean_console(third)
    assert not (out / "vae" / "seed2").exists()
    report = (out / "paper_vs_genlab.md").read_text()
    assert "| 2/3 (not run seed 2) |" in report
    record = json.loads((fresh_clone / "docs" / "results" / "smoke_table.json").read_text())
    assert record["command"] == typed
    assert record["machine"]["genlab_commit"] and record["figures"]["runs"] == 3
    table = record["table"]
    assert "| " + " | ".join(table["columns"]) + " |" in report
    assert ["| " + " | ".join(row) + " |" for row in table["rows"]] == [
        line for line in report.splitlines() if line.startswith("| VAE")
    ]
    assert record["note"].startswith("2 of 3 runs ok, ")
    assert "No rank correlation: the runs of VAE are degenerate" in record["note"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "budget=gpu_week",
            "has no budget 'gpu_week'; choose one of paper, cpu, cpu_epoch, ten_minutes, smoke",
        ),
        ("variants=[ns_gan,began]", "has no variants ['began']"),
        ("seeds=0", "seeds and workers must be >= 1"),
    ],
)
def test_bad_table_requests_are_one_line_errors(
    override: str, message: str, tmp_path: Path
) -> None:
    result = run_cli("reproduce", override, f"out_dir={tmp_path / 'table'}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error: ")
    assert message in result.stderr
    assert not (tmp_path / "table" / "paper_vs_genlab.md").exists()


def test_ranking_agreement_counts_discordant_pairs() -> None:
    paper = {"a": 1.0, "b": 2.0, "c": 3.0}
    genlab = {"a": 10.0, "b": 30.0, "c": 20.0}
    tau, discordant, pairs = ranking_agreement(paper, genlab)
    assert pairs == 3 and discordant == [("b", "c")]
    assert tau == pytest.approx(1 / 3)
    # Higher-is-better scores (IS) rank the other way round; the pairs agree or not the same.
    negated = ({k: -v for k, v in paper.items()}, {k: -v for k, v in genlab.items()})
    assert ranking_agreement(*negated)[:2] == (pytest.approx(1 / 3), [("b", "c")])


def test_report_lists_runs_that_did_not_end_ok() -> None:
    baseline = load_baseline("lucic2018_fashion_mnist")
    ns_gan = next(v for v in baseline.variants if v.name == "ns_gan")
    wgan = BaselineVariant("wgan", "WGAN", "lucic2018/fashion_mnist_wgan", 21.5)
    results = [
        RunResult(ns_gan, 0, Path("r0"), {"status": "ok", "fid": 30.0, "is_mean": 3.0}),
        RunResult(ns_gan, 1, Path("r1"), {"status": "diverged", "fid": None}),
        RunResult(wgan, 0, Path("r2"), {"status": "ok", "fid": 40.0}),
        RunResult(wgan, 1, Path("r3"), {}),  # the process died before writing its summary
    ]
    report = paper_vs_genlab(baseline, baseline.budget("cpu"), results, "genlab-fashion-mnist-cnn")
    # One seed each: the order of the two is that of their seeds, so neither gets a rank of
    # its own.
    assert "| NS GAN | 26.5 | 30.00 | 3.00 | n/a | 1/2 (diverged seed 1) | 2 | 1-2 |" in report
    assert "| WGAN | 21.5 | 40.00 | n/a | n/a | 1/2 (failed seed 1) | 1 | 1-2 |" in report
    assert "Kendall's tau" not in report  # one seed each: the seeds' spread is unknown
    assert "No rank correlation: with one seed of a model the spread of its seeds" in report


def test_degenerate_runs_get_no_rank_and_no_rank_correlation() -> None:
    """Scores at their floors, as `budget=smoke` leaves them: grey samples, IS 1, precision
    and recall 0, two models with one FID. The report names the runs and ranks nothing; with
    one model left that is not degenerate, still nothing."""
    baseline = load_baseline("lucic2018_fashion_mnist")
    ns_gan, vae = (next(v for v in baseline.variants if v.name == n) for n in ("ns_gan", "vae"))
    wgan = BaselineVariant("wgan", "WGAN", "lucic2018/fashion_mnist_wgan", 21.5)
    grey = {"status": "ok", "is_mean": 1.00001, "precision": 0.0, "recall": 0.0}
    results = [
        RunResult(ns_gan, 0, Path("r0"), {**grey, "fid": 81.34291836787297}),
        RunResult(vae, 0, Path("r1"), {"status": "ok", "fid": 81.34291836787297, "is_mean": 3.1}),
        RunResult(wgan, 0, Path("r2"), {"status": "ok", "fid": 40.0, "sample_pixel_std": 0.02}),
    ]
    report = paper_vs_genlab(
        baseline, baseline.budget("smoke"), results, "genlab-fashion-mnist-cnn"
    )
    assert "Kendall's tau" not in report
    assert "No rank correlation: the runs of NS GAN, VAE, WGAN are degenerate" in report
    assert "| NS GAN ⚠ | 26.5 | 81.34 | 1.00 | n/a | 1/1 | 2 | n/a |" in report
    assert "- NS GAN seed 0: IS at its floor of 1 (1.0000); precision and recall both 0" in report
    assert (
        "- VAE seed 0: the same FID as ns_gan to 9 digits (81.3429184): constant output" in report
    )
    assert "- WGAN seed 0: near-constant samples (pixel std across samples 0.02 < 0.05)" in report
    # Two models left, two seeds each, far apart: ranked, the flagged one named as left out.
    healthy = [
        RunResult(vae, seed, Path(f"v{seed}"), {"status": "ok", "fid": fid, "is_mean": 3.1})
        for seed, fid in enumerate([50.0, 50.4])
    ]
    wgan_ok = [
        RunResult(wgan, seed, Path(f"w{seed}"), {"status": "ok", "fid": fid, "is_mean": 3.0})
        for seed, fid in enumerate([40.0, 40.5])
    ]
    report = paper_vs_genlab(
        baseline, baseline.budget("smoke"), [results[0], *healthy, *wgan_ok], None
    )
    assert "(1 of 1 pairs in the same order)" in report
    assert "Left out of the ranking as degenerate: NS GAN." in report


def test_an_order_within_the_spread_of_the_seeds_is_not_ranked() -> None:
    """Two seeds per model whose FIDs overlap, as a ten-minute table leaves them: no rank
    correlation, and why; a third model far from both is ranked, the close pair named."""
    baseline = load_baseline("lucic2018_fashion_mnist")
    ns_gan, lsgan, vae = (
        next(v for v in baseline.variants if v.name == n) for n in ("ns_gan", "lsgan", "vae")
    )

    def runs(variant: BaselineVariant, fids: list[float]) -> list[RunResult]:
        return [
            RunResult(variant, seed, Path(f"{variant.name}{seed}"), {"status": "ok", "fid": fid})
            for seed, fid in enumerate(fids)
        ]

    close = [*runs(ns_gan, [9.5, 10.0]), *runs(lsgan, [9.0, 11.0])]
    report = paper_vs_genlab(baseline, baseline.budget("ten_minutes"), close, "cnn")
    assert "Kendall's tau" not in report
    assert "No rank correlation: no two models differ significantly in fid" in report
    # The table ranks neither: a range where the order is within the spread of the seeds.
    assert "| NS GAN | 26.5 | 9.75 ± 0.35 |" in report
    assert all(
        line.endswith(" | 1-2 |") for line in report.splitlines() if line.startswith("| NS GAN")
    )
    assert all(
        line.endswith(" | 1-2 |") for line in report.splitlines() if line.startswith("| LSGAN")
    )
    far = [*close, *runs(vae, [80.0, 80.1, 79.9])]
    report = paper_vs_genlab(baseline, baseline.budget("ten_minutes"), far, "cnn")
    assert "Kendall's tau between the paper's order and genlab's" in report
    # The VAE is worse than both, their order within the seeds' spread.
    rows = {line.split(" | ")[0]: line for line in report.splitlines() if line.startswith("| ")}
    assert rows["| VAE"].endswith(" | 3 |")
    assert rows["| NS GAN"].endswith(" | 1-2 |") and rows["| LSGAN"].endswith(" | 1-2 |")
    assert "Pairs whose order is within the spread of the seeds" in report
    within = report.split("Pairs whose order is within the spread of the seeds")[1]
    assert within.split("\n")[0].endswith(": NS GAN vs LSGAN.")


def test_report_names_the_machines_that_made_the_runs() -> None:
    """Runs made on two machines (a day's other build machine: another CPU, AVX2 only), one
    by an earlier genlab without a record, one never run."""
    baseline = load_baseline("lucic2018_fashion_mnist")
    ns_gan = next(v for v in baseline.variants if v.name == "ns_gan")
    wgan = BaselineVariant("wgan", "WGAN", "lucic2018/fashion_mnist_wgan", 21.5)
    here = MachineRecord(precision="32-true").block()
    other = {**here, "cpu_model": "Other CPU", "cpu_flags": ["avx2", "fma"]}
    ran = {"status": "ok", "run_dir": "r", "fid": 30.0}

    def on(block: dict, start: float, end: float) -> dict:
        return {**ran, "machine": {**block, "load_1min": {"start": start, "end": end}}}

    results = [
        RunResult(ns_gan, 0, Path("r0"), on(here, 0.5, 1.25)),
        RunResult(ns_gan, 1, Path("r1"), on(here, 2.0, 3.0)),
        RunResult(wgan, 0, Path("r2"), on(other, 4.0, 4.5)),
        RunResult(wgan, 1, Path("r3"), ran),  # an earlier genlab's summary
        RunResult(ns_gan, 2, Path("r4"), {"status": "not run"}),
    ]
    report = paper_vs_genlab(baseline, baseline.budget("cpu"), results, "cnn")
    machines = report.split("## Machines\n\n")[1].split("\n\n")[0].splitlines()
    assert machines == [
        f"- NS GAN seed 0, 1, load average 0.5 to 3.0. {describe_machine(here, load=False)}",
        f"- WGAN seed 0, load average 4.0 to 4.5. {describe_machine(other, load=False)}",
        "- WGAN seed 1. No machine record.",
    ]
    assert "Other CPU" in machines[1] and "avx512f" not in machines[1]


def test_report_marks_scores_measured_under_different_protocols() -> None:
    baseline = load_baseline("lucic2018_fashion_mnist")
    ns_gan = next(v for v in baseline.variants if v.name == "ns_gan")
    wgan = BaselineVariant("wgan", "WGAN", "lucic2018/fashion_mnist_wgan", 21.5)
    protocol = {"status": "ok", "metric_extractor": "cnn", "metric_num_generated": 2000}
    results = [
        RunResult(ns_gan, 0, Path("r0"), {**protocol, "fid": 30.0, "is_mean": 3.0}),
        RunResult(wgan, 0, Path("r1"), {**protocol, "fid": 40.0, "metric_num_generated": 500}),
    ]
    report = paper_vs_genlab(baseline, baseline.budget("cpu"), results, "cnn")
    assert "| NS GAN | 26.5 | 30.00 † | 3.00 | n/a |" in report
    assert "| WGAN | 21.5 | 40.00 † | n/a | n/a |" in report
    assert "different metric protocols (num_generated 2000 vs 500)" in report


_COUNT_SIGTERMS = """
import os, signal, sys, time
from genlab.process import end_with_parent
received = []
end_with_parent()
signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
for _ in range(3):  # what a dead parent's threads send, one as each exits
    os.kill(os.getpid(), signal.SIGUSR2)
time.sleep(0.2)
print(len(received))
"""


def test_a_dead_parent_stops_its_child_with_one_sigterm_however_many_threads_it_had() -> None:
    """The kernel repeats the parent-death signal as the child is handed from one thread of the
    dead parent to the next; a second SIGTERM after Lightning's handlers are gone would kill the
    run before it records itself preempted. The child turns them into one SIGTERM."""
    child = subprocess.run(
        [sys.executable, "-c", _COUNT_SIGTERMS],
        env={**cli_env(), "GENLAB_PARENT_PID": str(os.getpid())},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "1"


def _process_ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # exited, not yet reaped by its new parent


@pytest.mark.slow
def test_killed_table_stops_its_run_and_the_next_command_continues_it(
    fashion_mnist_root: Path, tmp_path: Path
) -> None:
    """SIGKILL the reproduce process mid-run: its training process does not train on alone (it
    is stopped, saves its step and records itself preempted); running the table again continues
    that run from its checkpoint instead of starting it again."""
    out = tmp_path / "table"
    run = out / "vae" / "seed0"
    common = [
        "baseline=lucic2018_fashion_mnist", "budget=smoke", "variants=[vae]", "seeds=1",
        f"out_dir={out}",
    ]  # fmt: skip
    table = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "reproduce.py"), *common,
         f"overrides=['data.root={fashion_mnist_root}','trainer.max_steps=100000']"],
        cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (run / "samples" / "samples_step0000006.png").exists():
        assert table.poll() is None and time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
    trainer_pid = json.loads((run / ".genlab.lock").read_text())["pid"]
    table.kill()
    table.wait()
    deadline = time.monotonic() + 120
    while not _process_ended(trainer_pid):
        assert time.monotonic() < deadline, "the run trains on after its table was killed"
        time.sleep(0.1)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "preempted", summary
    step = summary["global_step"]
    assert step >= 6

    again = run_cli(
        "reproduce", *common,
        f"overrides=['data.root={fashion_mnist_root}','trainer.max_steps={step + 6}']",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 of 1 runs to do (0 finished before)" in again.stdout + again.stderr
    console = (run / "console.log").read_text()
    assert f"Resuming from {run / 'checkpoints' / 'last.ckpt'}" in console
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["global_step"] == step + 6
