"""The GPU acceptance check: proves a GPU machine runs genlab's GPU paths, in minutes.

    python scripts/gpu_check.py [--device cuda|cpu] [--checks training speed ddp fid]
                                [--out DIR] [OVERRIDES ...]

On one GPU (at most 8 minutes; more GPUs lengthen the DDP part only): trains gan, wgan_gp and
vae for 300 steps in 32-true and bf16-mixed (finite losses, a complete run dir, a checkpoint
that loads back in float32); times genlab-train's Lightning loop against a plain PyTorch loop
with the same GAN (images/s, peak GPU memory), eager and with torch.compile; with 2 or more
GPUs trains each model under DDP (NCCL) and checks that the replicas agree; scores the same
images with Inception on the GPU and on the CPU (FID within 1e-3 relative). Writes
gpu_check.json (with the machine block) and gpu_check.md to --out (default
outputs/gpu_check/DATE_DEVICE under the current directory) and exits 1 when a check fails.

--device cpu runs the same checks at tiny budgets (seconds; the test suite runs it). OVERRIDES
are Hydra overrides of every training run, e.g. paths.data_dir=/shared/data or
metrics.weights_path=FILE (docs/scaling_out.md, "Checking a new GPU machine").
"""

from __future__ import annotations

import _setup_check  # noqa: F401  (first: a missing set-up is one line, not a traceback)

# isort: split
import argparse
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from genlab.cli.app import exit_with
from genlab.errors import GenlabError
from genlab.gpu_check import CHECKS, run_gpu_check
from genlab.gpu_check.report import FAILED, RECORD_FILE, write_outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--checks", nargs="+", choices=CHECKS, help="only these parts")
    parser.add_argument("--out", type=Path, help="where the record and the runs go")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of every run")
    args = parser.parse_args()
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    # Where genlab-train puts outputs/: under $GENLAB_ROOT, else the current directory.
    root = Path(os.environ.get("GENLAB_ROOT") or Path.cwd())
    out = (args.out or root / "outputs" / "gpu_check" / f"{stamp}_{args.device}").absolute()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        record, results = run_gpu_check(args.device, out, args.overrides, args.checks)
    except GenlabError as exc:
        exit_with(exc)
    print(write_outputs(out, record, results))
    print(f"record: {out / RECORD_FILE}")
    sys.exit(1 if any(r.status == FAILED for r in results) else 0)


if __name__ == "__main__":
    main()
