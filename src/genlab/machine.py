"""The machine and software a piece of work ran on: one block in every record genlab writes
(summary.json, the W&B run's config, benchmark, calibration and reproduction outputs)."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from genlab import __version__
from genlab.paths import git_sha

# The CPU features that change how fast torch computes: the vector widths and the matrix
# units its kernels dispatch to (x86 flags, then Arm's), as /proc/cpuinfo names them.
SPEED_FLAGS = (
    "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",
    "amx_tile", "amx_bf16", "amx_int8", "amx_fp16",
    "asimd", "asimddp", "sve", "sve2", "bf16", "i8mm",
)  # fmt: skip
# The libraries besides torch whose versions change what a run computes or how fast.
LIBRARIES = ("pytorch-lightning", "torchvision", "torch-fidelity", "hydra-core", "wandb")
_CPUINFO = Path("/proc/cpuinfo")


class MachineRecord:
    """Started when a piece of work begins (the load average then); :meth:`block` is taken
    when it ends and holds both loads, so a record cannot have one without the other.

    ``precision`` is what the work computed in (the trainer's ``precision`` for training;
    ``None`` for work that computes nothing itself); ``threads`` is torch's intra-op thread
    count when the work sets it, else torch's count when the block is taken.
    """

    def __init__(self, *, precision: str | None, threads: int | None = None) -> None:
        self.precision = precision
        self.threads = threads
        self.load_at_start = load_1min()

    def block(self) -> dict[str, Any]:
        """The block, a plain JSON-able dict; the 1-minute load average now is its end load."""
        import torch

        return {
            **cpu_facts(),
            **gpu_facts(),
            "os": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "cudnn": _cudnn_version(),
            "libraries": {name: _version(name) for name in LIBRARIES},
            "genlab_commit": git_sha(),
            "genlab_version": __version__,
            "threads": self.threads if self.threads is not None else torch.get_num_threads(),
            "precision": self.precision,
            "load_1min": {"start": self.load_at_start, "end": load_1min()},
        }


def cpu_facts() -> dict[str, Any]:
    """The CPU as the OS reports it and as torch dispatches on it."""
    import torch

    processors = _cpuinfo()
    info = processors[0] if processors else {}
    flags = set((info.get("flags") or info.get("Features") or "").split())
    cores = {(p.get("physical id"), p["core id"]) for p in processors if "core id" in p}
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu_model": info.get("model name") or platform.processor() or None,
        "cpu_arch": platform.machine(),
        "cpu_count": os.cpu_count(),  # logical CPUs
        "cpu_cores": len(cores) or None,  # physical cores, where /proc/cpuinfo says
        "cpus_usable": _usable_cpus(),
        "cpu_flags": [flag for flag in SPEED_FLAGS if flag in flags],
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "memory_gib": round(pages * page_size / 2**30, 1),
    }


def gpu_facts() -> dict[str, Any]:
    """The GPUs torch sees. Their names and memory come from CUDA itself, which this starts in
    the process: the block is taken when the work has ended, never before a DDP launch that
    forks (Lightning refuses to fork a process that has started CUDA)."""
    import torch

    count = torch.cuda.device_count()  # counted through NVML: starts nothing
    try:
        properties = [torch.cuda.get_device_properties(index) for index in range(count)]
    except (RuntimeError, AssertionError):  # CUDA cannot start: the record is still written
        return {"gpu_count": count, "gpus": None}
    gpus = [{"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1)} for p in properties]
    return {"gpu_count": count, "gpus": gpus}


def load_1min() -> float | None:
    """The 1-minute load average; None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def describe_machine(block: dict[str, Any], load: bool = True) -> str:
    """The block as one line, for the Markdown outputs; ``load=False`` leaves the load average
    out (one line for the machine of several pieces of work)."""
    b = {key: "none" if value is None else value for key, value in block.items()}
    gpus = (
        f"{b['gpu_count']} GPUs (CUDA did not start)"
        if block["gpus"] is None
        else ", ".join(f"{g['name']} ({g['memory_gib']} GiB)" for g in block["gpus"]) or "no GPU"
    )
    libraries = ", ".join(f"{name} {v or 'none'}" for name, v in b["libraries"].items())
    line = (
        f"Machine: {b['cpu_model']} ({b['cpu_arch']}), {b['cpu_count']} CPUs "
        f"({b['cpu_cores']} cores, {b['cpus_usable']} usable), {b['memory_gib']} GiB; "
        f"CPU flags {' '.join(b['cpu_flags']) or 'none'} "
        f"(torch dispatches {b['torch_cpu_capability']}); {gpus}; "
        f"torch {b['torch']} (CUDA {b['cuda']}, cuDNN {b['cudnn']}), {libraries}, "
        f"Python {b['python']}; genlab {b['genlab_version']} at {b['genlab_commit']}; "
        f"{b['threads']} threads, precision {b['precision']}"
    )
    if not load:
        return line + "."
    start, end = block["load_1min"]["start"], block["load_1min"]["end"]
    return line + f"; load average (1 min) {start} at the start, {end} at the end."


def _cpuinfo() -> list[dict[str, str]]:
    """Each processor's fields in /proc/cpuinfo (none where the OS has no such file)."""
    try:
        text = _CPUINFO.read_text()
    except OSError:
        return []
    processors = []
    for paragraph in text.split("\n\n"):
        fields = {}
        for line in paragraph.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if fields:
            processors.append(fields)
    return processors


def _usable_cpus() -> int | None:
    """The CPUs this process may run on: a container's or ``taskset``'s share of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def _cudnn_version() -> int | None:
    import torch

    return torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
