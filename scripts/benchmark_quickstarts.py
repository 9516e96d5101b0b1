"""The quick-start presets as the README gives them: each one's wall time, scores and last
sample grid on this machine.

    python scripts/benchmark_quickstarts.py [--presets quickstart quickstart_wgan_gp quickstart_vae]
                                            [--out outputs/benchmarks/quickstarts]
                                            [--figures docs/figures] [--record NAME]

Runs ``python scripts/train.py experiment=PRESET`` for each preset, one after another, with
nothing added but its run dir, and copies each run's last sample grid to
``FIGURES/quickstart_grid_PRESET.png``. The wall time is the whole command's: start-up,
training and the final evaluation. Prints a Markdown table; the numbers belong in the README
through a results record, not in tests.
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from genlab.machine import MachineRecord, describe_machine
from genlab.results import add_record_option, write_record

REPO = Path(__file__).resolve().parents[1]
PRESETS = {"quickstart": "GAN", "quickstart_wgan_gp": "WGAN-GP", "quickstart_vae": "VAE"}
COLUMNS = ["model", "command", "time", "FID", "IS", "precision", "recall", "samples"]


def run_preset(preset: str, out: Path) -> tuple[dict, float]:
    """Trains ``preset`` into ``out/preset``; returns its summary and the command's wall time."""
    run_dir = out / preset
    command = [sys.executable, str(REPO / "scripts" / "train.py"), f"experiment={preset}"]
    started = time.perf_counter()
    with open(out / f"{preset}.log", "w") as log:
        code = subprocess.run(
            [*command, f"hydra.run.dir={run_dir}"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        ).returncode
    wall_s = time.perf_counter() - started
    if code != 0:
        sys.exit(f"experiment={preset} failed: see {out / preset}.log")
    return json.loads((run_dir / "summary.json").read_text()), wall_s


def last_grid(run_dir: Path) -> Path:
    return max((run_dir / "samples").glob("samples_step*.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--out", type=Path, default=REPO / "outputs/benchmarks/quickstarts")
    parser.add_argument("--figures", type=Path, default=REPO / "docs/figures")
    add_record_option(parser)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    machine = MachineRecord(precision="32-true")
    rows = []
    for preset in args.presets:
        summary, wall_s = run_preset(preset, args.out)
        grid = args.figures / f"quickstart_grid_{preset}.png"
        shutil.copyfile(last_grid(args.out / preset), grid)
        minutes, seconds = divmod(round(wall_s), 60)
        rows.append(
            [
                PRESETS[preset],
                f"`python scripts/train.py experiment={preset}`",
                f"{minutes} min {seconds:02d} s",
                *(f"{summary[key]:.3g}" for key in ("fid", "is_mean", "precision", "recall")),
                f"![{PRESETS[preset]} samples]({grid.relative_to(REPO).as_posix()})",
            ]
        )
        print("| " + " | ".join(rows[-1]) + " |", flush=True)
    block = machine.block()
    print(describe_machine(block))
    if args.record:
        note = (
            "Each command as written, one after another: start-up, training and the final "
            "evaluation (10,000 samples against the test split, genlab-fashion-mnist-cnn)."
        )
        write_record(args.record, block, COLUMNS, rows, note=note)


if __name__ == "__main__":
    main()
