"""genlab against the plain single-file scripts users start from, at equal training wall time.

    python scripts/benchmark_equal_time.py [--seconds 150 [300 ...]] [--models gan wgan_gp vae]
                                           [--seeds 0] [--presets]
                                           [--out outputs/benchmarks/equal_time]
                                           [--record NAME] [-- GENLAB_OVERRIDE ...]

For each model, seed and wall time, genlab's default (``scripts/train.py model=M``,
``trainer.max_time``) and its plain counterpart (``benchmarks/plain/``) train side by side, one
torch thread each, so that other load on the machine slows both alike. With ``--presets``,
genlab runs each family's quick-start preset (``experiment=quickstart``,
``quickstart_wgan_gp``, ``quickstart_vae``) against the strongest plain script of its family. Both are then scored under genlab's
protocol: genlab's run by its own final evaluation, the plain script's 10,000 PNG samples by
``scripts/evaluate.py input=DIR``, against the same test split with the same extractor.
Config overrides after ``--`` go to genlab's runs (e.g. ``-- model.optimizer.lr=3e-3``), to
try other settings against the same plain script. Prints a Markdown table; the numbers belong
in docs/benchmarks.md, not in tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import json
import subprocess
import sys
from pathlib import Path

from genlab.config import compose_train_config
from genlab.machine import MachineRecord, describe_machine
from genlab.results import add_record_option, write_record

REPO = Path(__file__).resolve().parents[1]
PLAIN = {"gan": "dcgan.py", "wgan_gp": "wgan_gp.py", "vae": "vae.py"}
# --presets: each family's quick start, and the plain script of that family that scores best
# at equal time (docs/benchmarks.md).
PRESETS = {"gan": "quickstart", "wgan_gp": "quickstart_wgan_gp", "vae": "quickstart_vae"}
STRONGEST_PLAIN = {"gan": "dcgan.py", "wgan_gp": "wgan_gp_mlp.py", "vae": "vae.py"}
SCORES = ("fid", "is_mean", "kid_mean", "precision", "recall")


def genlab_command(
    selection: str, seed: int, seconds: float, run_dir: Path, overrides: list[str]
) -> list[str]:
    """``selection``: ``model=M`` or ``experiment=PRESET``."""
    minutes, secs = divmod(int(seconds), 60)
    return [
        sys.executable, str(REPO / "scripts" / "train.py"), selection, f"seed={seed}",
        "threads=1", "logger=csv", f"trainer.max_time=00:00:{minutes:02d}:{secs:02d}",
        "trainer.max_steps=-1", "trainer.max_epochs=-1", f"hydra.run.dir={run_dir}", *overrides,
    ]  # fmt: skip


def plain_command(script_name: str, seed: int, seconds: float, samples: Path) -> list[str]:
    script = REPO / "benchmarks" / "plain" / script_name
    return [
        sys.executable, str(script), f"--seconds={seconds}", f"--out={samples}",
        f"--seed={seed}", "--threads=1",
    ]  # fmt: skip


def side_by_side(
    selection: str, script: str, seed: int, seconds: float, out: Path, overrides: list[str]
) -> dict[str, dict]:
    """Trains genlab's ``selection`` and the plain ``script`` side by side for ``seconds``;
    returns their summaries. A pair that finished before (its summaries there) is read, not
    run again, so a stopped benchmark continues where it stopped."""
    tag = f"{selection.split('=')[1]}_{seed}_{seconds:.0f}s"
    genlab_dir, plain_dir = out / f"genlab_{tag}", out / f"plain_{Path(script).stem}_{tag}"
    evaluation = plain_dir.with_name(plain_dir.name + "_eval")
    if (genlab_dir / "summary.json").is_file() and (evaluation / "summary.json").is_file():
        return read_pair(genlab_dir, plain_dir, evaluation)
    commands = {
        genlab_dir.name: genlab_command(selection, seed, seconds, genlab_dir, overrides),
        plain_dir.name: plain_command(script, seed, seconds, plain_dir / "samples"),
    }
    running = {}
    for name, command in commands.items():
        with open(out / f"{name}.log", "w") as log:
            running[name] = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
    for name, process in running.items():
        if process.wait() != 0:
            sys.exit(f"{name} failed: see {out / name}.log")
    subprocess.run(
        [
            sys.executable, str(REPO / "scripts" / "evaluate.py"),
            f"input={plain_dir / 'samples'}", f"hydra.run.dir={evaluation}",
        ],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return read_pair(genlab_dir, plain_dir, evaluation)


def read_pair(genlab_dir: Path, plain_dir: Path, evaluation: Path) -> dict[str, dict]:
    plain_log = (plain_dir.with_name(plain_dir.name + ".log")).read_text().split()
    return {
        "genlab": json.loads((genlab_dir / "summary.json").read_text()),
        "plain": {
            **json.loads((evaluation / "summary.json").read_text()),
            "generator_steps": int(plain_log[0]),
        },
    }


def cells(model: str, seconds: float, seed: int, who: str, summary: dict) -> list[str]:
    steps = summary.get("generator_steps", summary.get("global_step"))
    scores = (f"{summary[key]:.3g}" for key in SCORES)
    return [model, f"{seconds:.0f}", str(seed), who, f"{steps:,}", *scores]


def row(model: str, seconds: float, seed: int, who: str, summary: dict) -> str:
    return "| " + " | ".join(cells(model, seconds, seed, who, summary)) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", nargs="+", type=float, default=[150.0], help="training wall times"
    )
    parser.add_argument("--models", nargs="+", default=list(PLAIN), choices=list(PLAIN))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--presets",
        action="store_true",
        help="each family's quick-start preset against the strongest plain script of its family",
    )
    parser.add_argument("--out", type=Path, default=REPO / "outputs/benchmarks/equal_time")
    add_record_option(parser)
    parser.add_argument("overrides", nargs="*", help="after --: config overrides for genlab")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # One thread each side; genlab's runs compute in their config's precision (the plain
    # scripts in float32).
    selections = {
        model: f"experiment={PRESETS[model]}" if args.presets else f"model={model}"
        for model in args.models
    }
    scripts = STRONGEST_PLAIN if args.presets else PLAIN
    genlab_cfg = compose_train_config([selections[args.models[0]], *args.overrides], args.out)
    machine = MachineRecord(precision=genlab_cfg.trainer.precision, threads=1)
    records = []
    lines = [
        "side by side, one thread each",
        f"genlab overrides: {' '.join(args.overrides) or 'none'}",
        "",
        "| model | s | seed | script | generator steps | FID | IS | KID | precision | recall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in args.models:
        genlab_label = f"genlab `{selections[model]}`"
        for seconds in args.seconds:
            for seed in args.seeds:
                result = side_by_side(
                    selections[model], scripts[model], seed, seconds, args.out, args.overrides
                )
                plain_label = f"plain `{scripts[model]}`"
                for who, summary in (
                    (genlab_label, result["genlab"]),
                    (plain_label, result["plain"]),
                ):
                    lines.append(row(model, seconds, seed, who, summary))
                    records.append(cells(model, seconds, seed, who, summary))
                print("\n".join(lines[-2:]), flush=True)
    block = machine.block()
    lines += ["", describe_machine(block)]
    if args.record:
        columns = ["model", "training s", "seed", "script", "generator steps", "FID", "IS"]
        columns += ["KID", "precision", "recall"]
        note = "Side by side, one thread each; a row's training s is its wall-time budget."
        write_record(args.record, block, columns, records, note=note)
    (args.out / "equal_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
